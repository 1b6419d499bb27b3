"""The published and LlamaIndex pair formats: round trips, errors, and the real published files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.data.questions import DataError
from helpers.data.readers import PairSet, read_llamaindex, read_pairs, read_published, write_llamaindex, write_published

SHARED = Path(__file__).resolve().parents[2] / "shared" / "external" / "llms-2023-2024"
SAMPLE = PairSet(
    queries={"q1": "What does k1 control?", "q2": "When did TREC start?"},
    corpus={"c1": "k1 controls term-frequency saturation.", "c2": "TREC began in 1992."},
    relevant_docs={"q1": ["c1"], "q2": ["c2"]},
)


@pytest.mark.parametrize(("write", "read"), [(write_published, read_published), (write_llamaindex, read_llamaindex)])
def test_round_trip(tmp_path: Path, write, read):
    path = tmp_path / "pairs.jsonl"
    write(SAMPLE, path)
    assert read(path) == SAMPLE
    assert read_pairs(path) == SAMPLE
    assert read(path).pairs() == [
        {"anchor": "What does k1 control?", "positive": "k1 controls term-frequency saturation.",
         "positive_id": "c1", "answer_ids": ["c1"]},
        {"anchor": "When did TREC start?", "positive": "TREC began in 1992.", "positive_id": "c2", "answer_ids": ["c2"]},
    ]


def test_dangling_reference_is_reported(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"questions": {"q": "?"}, "relevant_contexts": {"q": ["missing"]}, "corpus": {}}))
    with pytest.raises(DataError, match="passage 'missing', absent from 'corpus'"):
        read_published(path)


def test_wrong_format_is_reported(tmp_path: Path):
    path = tmp_path / "lines.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n')
    with pytest.raises(DataError, match=r"lines.jsonl:2: not a single JSON object"):
        read_pairs(path)


@pytest.mark.skipif(not SHARED.exists(), reason=f"published data not present at {SHARED} (only beside the dev checkout)")
@pytest.mark.parametrize("folder", [SHARED, SHARED / "aie5-wkoleilat"])
def test_reads_the_published_files(tmp_path: Path, folder: Path):
    sizes = {}
    for name in ("training", "val", "test"):
        pairs = read_published(folder / f"{name}_dataset.jsonl")
        sizes[name] = (len(pairs.queries), len(pairs.corpus))
        assert all(len(ids) == 1 for ids in pairs.relevant_docs.values())
        # Round trip through LlamaIndex's format keeps everything.
        write_llamaindex(pairs, tmp_path / f"{name}.json")
        assert read_llamaindex(tmp_path / f"{name}.json") == pairs
    assert sizes == {"training": (156, 78), "val": (24, 12), "test": (24, 12)}
