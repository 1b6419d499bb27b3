"""`replicate` on a folder in the published format: trains, then reports both protocols."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.data.readers import PairSet, write_published
from helpers.training.replicate import replicate


def _write_split(course_data, qids, path: Path) -> None:
    by_id = {q.id: q for q in course_data.questions}
    text = course_data.chunk_text
    relevant = {q: course_data.relevant[q][:1] for q in qids}
    write_published(PairSet({q: by_id[q].question for q in qids},
                            {c: text[c] for ids in relevant.values() for c in ids}, relevant), path)


def test_replicate_reports_both_protocols(course_data, tmp_path: Path, capsys):
    qids = sorted(course_data.relevant)
    folder = tmp_path / "published"
    folder.mkdir()
    _write_split(course_data, qids[:24], folder / "training_dataset.jsonl")
    _write_split(course_data, qids[100:108], folder / "val_dataset.jsonl")
    _write_split(course_data, qids[200:210], folder / "test_dataset.jsonl")
    table = replicate(folder, epochs=1, output=tmp_path / "out")
    assert set(table.protocol) == {"whole-corpus", "test-chunks-only"}
    assert set(table.system) == {"base", "fine-tuned"}
    whole = table[(table.protocol == "whole-corpus") & (table.system == "base")].set_index("dim")["ndcg@10"]
    only = table[(table.protocol == "test-chunks-only") & (table.system == "base")].set_index("dim")["ndcg@10"]
    assert (only >= whole - 1e-9).all()  # fewer candidates can only make ranking easier
    assert "paired bootstrap" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "out" / "replicate_bootstrap.csv")) == 2 * len(whole)


def test_replicate_names_missing_files(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="training_dataset.jsonl"):
        replicate(tmp_path)
