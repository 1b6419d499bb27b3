"""Complete labels: the unlisted-facts checker, the ``also`` and ``not_also`` fields, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.data.corpus import chunk_documents, load_corpus
from helpers.data.questions import DataError, load_questions, map_to_chunks
from helpers.data.validate import unlisted_key_facts, validate_data

DOCS = {
    "a.txt": "ColBERT was created by Omar Khattab and Matei Zaharia and shown at SIGIR 2020. "
             "It keeps one vector per token.\n\n"
             "Scoring every pair with a cross-encoder took about 65 hours on one GPU, a cost nobody pays twice.",
    "b.txt": "Late interaction came from Omar Khattab and Matei Zaharia, whose ColBERT appeared at SIGIR 2020. "
             "Later work compressed its token vectors.",
    "c.txt": "The ranking function uses k1 and b to tune term frequency saturation and length normalization. "
             "The reference run needed 65 hours of compute on a shared cluster.",
}
EVIDENCE = "ColBERT was created by Omar Khattab and Matei Zaharia and shown at SIGIR 2020."
OTHER = "Late interaction came from Omar Khattab and Matei Zaharia, whose ColBERT appeared at SIGIR 2020."


def _record(**extra) -> dict:
    return {"id": "q-1", "question": "Who created ColBERT, and where was it shown?", "document": "a.txt",
            "evidence": EVIDENCE, "kind": "factoid", **extra}


@pytest.fixture
def data(tmp_path: Path):
    """A three-document corpus, and a writer for its questions file (one record per call)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "questions.jsonl"

    def write(*records: dict) -> Path:
        questions.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return questions

    return corpus, write


def _warnings(corpus: Path, questions: Path) -> list[str]:
    return validate_data(corpus, questions)["unlisted_facts"]


def test_facts_in_another_document_are_flagged_with_file_line_and_what_to_do(data):
    corpus, write = data
    questions = write(_record())
    (warning,) = _warnings(corpus, questions)
    assert warning.startswith(f"{questions}:1: q-1:")
    assert "b.txt" in warning and "Khattab" in warning and "SIGIR" in warning
    assert "'also'" in warning and "'not_also'" in warning
    assert "c.txt" not in warning


def test_listing_the_passage_in_also_silences_the_warning(data):
    corpus, write = data
    assert _warnings(corpus, write(_record(also=[{"document": "b.txt", "evidence": OTHER}]))) == []


def test_marking_the_document_in_not_also_silences_the_warning(data):
    corpus, write = data
    assert _warnings(corpus, write(_record(not_also=["b.txt"]))) == []
    # Reviewing a different document leaves the warning in place.
    assert len(_warnings(corpus, write(_record(not_also=["c.txt"])))) == 1


def test_a_number_with_its_unit_is_a_fact_by_itself(data):
    corpus, write = data
    record = _record(id="q-2", question="How long did scoring every pair take?",
                     evidence="Scoring every pair with a cross-encoder took about 65 hours on one GPU")
    (warning,) = _warnings(corpus, write(record))
    assert "65 hours" in warning and "c.txt" in warning


def test_the_pure_checker_takes_reviewed_documents_by_question_id(data):
    corpus, write = data
    questions = load_questions(write(_record()))
    docs = load_corpus(corpus)
    chunks = chunk_documents(docs, 750, 20)
    (found,) = unlisted_key_facts(questions, docs, chunks)
    assert (found.question, found.document) == ("q-1", "b.txt")
    assert {"Khattab", "Zaharia", "SIGIR"} <= set(found.facts)
    assert unlisted_key_facts(questions, docs, chunks, {"q-1": ["b.txt"]}) == []


@pytest.mark.parametrize(
    ("also", "expected"),
    [
        ([{"document": "b.txt"}], "field 'also[0]' needs non-empty strings 'document' and 'evidence'"),
        ("b.txt", "field 'also' must be a list"),
        ([{"document": "b.txt", "evidence": "This sentence is written in none of the documents."}],
         "field 'also[0]' is not found"),
        ([{"document": "zzz.txt", "evidence": OTHER}], "field 'also[0].document'"),
    ],
)
def test_bad_also_entry_names_file_line_and_field(data, also, expected):
    corpus, write = data
    questions = write(_record(id="q-0"), _record(id="q-2", also=also))
    with pytest.raises(DataError) as err:
        validate_data(corpus, questions)
    assert f"{questions}:2" in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize(("not_also", "expected"), [("b.txt", "must be a list"), (["zzz.txt"], "not in the corpus")])
def test_bad_not_also_names_file_line_and_field(data, not_also, expected):
    corpus, write = data
    questions = write(_record(not_also=not_also))
    with pytest.raises(DataError) as err:
        validate_data(corpus, questions)
    assert f"{questions}:1" in str(err.value) and "field 'not_also'" in str(err.value) and expected in str(err.value)


def test_map_to_chunks_counts_the_extra_passage_as_relevant(data):
    corpus, write = data
    questions = load_questions(write(_record(also=[{"document": "b.txt", "evidence": OTHER}])))
    docs = load_corpus(corpus)
    chunks = chunk_documents(docs, 750, 20)
    by_doc = {c.document: c.id for c in chunks}
    assert map_to_chunks(questions, docs, chunks)["q-1"] == [by_doc["a.txt"], by_doc["b.txt"]]
