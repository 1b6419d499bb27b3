"""Documents as users bring them: hard-wrapped Markdown, quotes copied across wraps or from the rendered page,
every problem of a question file at once, and the route that trains on generated pairs and tests on your questions.

The fixture (tests/fixtures/wrapped_docs) has code blocks, admonitions, raw HTML, a table, a block quote and a link.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.cli import main
from helpers.config import get_profile
from helpers.data import load_corpus
from helpers.data.corpus import markdown_to_text
from helpers.data.dataset import ict_course_data
from helpers.data.own_test import OWN_VAL_MIN, own_test_sets
from helpers.data.questions import DataError
from helpers.lessons.chunking import chunk_documents

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "tests" / "fixtures" / "wrapped_docs"
GOOD = ROOT / "tests" / "fixtures" / "wrapped_questions.jsonl"
BAD = ROOT / "tests" / "fixtures" / "wrapped_questions_bad.jsonl"


def test_markdown_is_read_as_a_reader_sees_it():
    text = markdown_to_text((DOCS / "sync.md").read_text())
    for markup in ("# ", "`", "*journal cursor*", "](", "<div", "<b>"):
        assert markup not in text, markup
    assert "saved beside it with the suffix .conflict-<machine>" in text  # inline code kept as text
    assert "Deleting a conflict file is an ordinary change" in text  # raw HTML reduced to its text
    assert "See the storage layout page" in text  # a link keeps its text
    config = markdown_to_text((DOCS / "configuration.md").read_text())
    assert 'shared = "/mnt/nas/kelp"' in config  # a code block stays, as code text
    assert "Warning\n\nAdding a pattern does not delete files" in config  # an admonition: title, then its body
    install = markdown_to_text((DOCS / "install.md").read_text())
    assert "title: Installing kelp" not in install and install.startswith("Installing kelp")  # front matter dropped


def test_quotes_copied_across_wraps_and_from_either_side_of_the_markup_all_match():
    assert main(["validate-data", "--corpus", str(DOCS), "--questions", str(GOOD), "--min-per-chunk", "0"]) == 0
    quotes = [json.loads(line)["evidence"] for line in GOOD.read_text().splitlines()]
    assert sum("\n" in q for q in quotes) >= 10  # copied across the files' hard line wraps
    assert any("`" in q for q in quotes)  # copied from the source, backticks included
    assert any(".conflict-<machine>" in q and "`" not in q for q in quotes)  # copied from the rendered page


def test_a_file_with_one_bad_line_of_each_kind_reports_every_problem_in_one_run(capsys):
    code = main(["validate-data", "--corpus", str(DOCS), "--questions", str(BAD), "--min-per-chunk", "0"])
    err = capsys.readouterr().err
    assert code == 1
    for line, kind in ((2, "invalid JSON"), (3, "missing field"), (4, "unknown kind"), (5, "evidence not found"),
                       (6, "evidence occurs several times"), (7, "document not in corpus"), (8, "duplicate id"),
                       (9, "evidence shorter than 40 characters"), (10, "evidence longer than 300 characters")):
        assert f"{kind} (" in err, kind
        assert f"wrapped_questions_bad.jsonl:{line}: " in err, line
    assert "validate-data: FAILED: 7 errors, 3 warnings in 1 file" in err


@pytest.fixture(scope="module")
def ict_data():
    documents = load_corpus(DOCS)
    return ict_course_data(documents, chunk_documents(documents), seed=42)


def test_your_questions_are_the_test_set_and_their_chunks_stay_out_of_training(ict_data):
    profile = get_profile("smoke")
    data, splits, train, val_ir, test_ir = own_test_sets(ict_data, profile, "ict", GOOD, all_chunks=False)
    own_ids = {json.loads(line)["id"] for line in GOOD.read_text().splitlines()}
    assert set(splits["test"]) == own_ids and not own_ids & (set(splits["train"]) | set(splits["val"]))
    test_chunks = {c for q in splits["test"] for c in data.relevant[q] + data.touching.get(q, [])}
    assert test_chunks and not test_chunks & {row["positive_id"] for row in train}
    assert not set(val_ir["relevant_docs"]) & own_ids  # under 60 questions of your own, val comes from held-out pairs
    assert len(test_ir["corpus"]) == len(data.chunks)  # the whole corpus is searched
    assert "YOUR OWN QUESTIONS" in test_ir["label"] and "held out of training" in test_ir["label"]
    _, _, every, _, every_ir = own_test_sets(ict_data, profile, "ict", GOOD, all_chunks=True)
    assert test_chunks & {row["positive_id"] for row in every}  # the switch: ICT on every chunk
    assert "LAB_ICT_ALL_CHUNKS=1" in every_ir["label"]


def test_the_route_needs_a_generator_and_val_comes_from_your_questions_when_there_are_enough(ict_data, tmp_path):
    profile = get_profile("default")
    with pytest.raises(DataError, match="goes with LAB_QUESTIONS=ict or llm"):
        own_test_sets(ict_data, profile, "file", GOOD)
    rows = [json.loads(line) for line in GOOD.read_text().splitlines()]
    many = tmp_path / "many.jsonl"
    many.write_text("".join(json.dumps({**r, "id": f"{r['id']}-{i}"}) + "\n"
                            for i in range(OWN_VAL_MIN // len(rows) + 1) for r in rows))
    _, splits, _, val_ir, _ = own_test_sets(ict_data, profile, "ict", many, all_chunks=False)
    assert splits["val"] and set(val_ir["relevant_docs"]) <= {q for q in splits["val"]}
    assert all("-" in q for q in splits["val"])  # your questions, not generated ones
    assert not set(splits["val"]) & set(splits["test"])


def test_a_quote_with_a_reference_style_link_copied_from_the_source_matches(tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "colors.md").write_text(
        "# Colors\n\nSet the [`primary`][palette.primary] color in the theme section, and read\n"
        "[the palette page][palette] for every name it accepts.\n\n"
        "[palette.primary]: palette.md#primary\n[palette]: palette.md\n")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({
        "id": "c-1", "question": "Where do I set the primary color?", "document": "colors.md", "kind": "how",
        "evidence": "Set the [`primary`][palette.primary] color in the theme section, and read\n[the palette page][palette]",
    }) + "\n")
    assert main(["validate-data", "--corpus", str(corpus), "--questions", str(questions), "--min-per-chunk", "0"]) == 0


def test_course_01_05_trains_on_ict_tests_on_your_questions_and_shows_the_held_out_twin(tmp_path):
    """One course run covers both ways: ICT on every chunk (LAB_ICT_ALL_CHUNKS=1) and its held-out twin."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "OPENAI_"))}
    environ.update({"LAB_CORPUS": str(DOCS), "LAB_QUESTIONS": "ict", "LAB_TEST_QUESTIONS": str(GOOD),
                    "LAB_ICT_ALL_CHUNKS": "1", "LAB_OUTPUTS": str(tmp_path / "outputs"), "HF_HUB_OFFLINE": "1"})
    run = subprocess.run([sys.executable, "-m", "helpers", "course", "--profile", "smoke"],
                         capture_output=True, text=True, cwd=ROOT, env=environ, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = tmp_path / "outputs" / "smoke"
    splits = json.loads((out / "pairs" / "splits.json").read_text())
    assert splits["questions"] == "ict" and not splits["proxy"] and len(splits["test"]) == 16
    assert "YOUR OWN QUESTIONS" in run.stdout and "LAB_ICT_ALL_CHUNKS=1" in run.stdout  # which route made what
    assert (out / "plots" / "ndcg_vs_dim.png").exists()
    test_ir = json.loads((out / "pairs" / "test_ir.json").read_text())
    test_chunks = {c for ids in test_ir["relevant_docs"].values() for c in ids}
    trained = {json.loads(line)["positive_id"] for line in (out / "pairs" / "train.jsonl").open()}
    twin_trained = {json.loads(line)["positive_id"] for line in (out / "pairs" / "held_out" / "train.jsonl").open()}
    assert trained & test_chunks and not twin_trained & test_chunks  # every chunk vs test chunks held out
    systems = set(pd.read_csv(out / "results" / "summary.csv").system)
    assert {"matryoshka", "matryoshka-held-out", "base"} <= systems
    cells = json.loads((out / "executed" / "04_evaluate_retrieval.ipynb").read_text())["cells"]
    shown = json.dumps([c.get("outputs", []) for c in cells if "held-out" in "".join(c["source"])])
    assert "matryoshka-held-out" in shown and "nothing to compare here" not in shown
