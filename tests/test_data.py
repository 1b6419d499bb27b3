"""data/ is valid, and every kind of corruption is caught with file, line and field named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.data.questions import DataError
from helpers.data.validate import validate_data

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_data_is_valid_and_large_enough():
    report = validate_data(min_questions_per_chunk=3)
    assert report["chunks_under_minimum"] == []
    assert report["documents"] >= 10
    assert report["characters"] >= 90_000
    assert len(report["formats"]) >= 3
    assert report["questions"] >= 360
    assert report["questions_per_chunk_min"] >= 3
    assert set(report["kinds"]) == {"factoid", "why", "how", "comparison"}
    assert report["documents_without_questions"] == []
    # Every passage stating a question's key facts is listed in 'also' or reviewed in 'not_also'.
    assert report["unlisted_facts"] == []


def test_validate_data_command_prints_counts():
    run = subprocess.run([sys.executable, "-m", "helpers", "validate-data"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    for label in ("documents", "characters", "chunks", "questions", "questions_per_chunk_min", "unlisted_facts"):
        assert label in run.stdout
    assert "validate-data: OK" in run.stdout


def _rewrite_line(path: Path, line_no: int, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line_no - 1] = change(lines[line_no - 1])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _first_file(data: Path) -> Path:
    return sorted((data / "questions").glob("*.jsonl"))[0]


def _edit(field: str, value):
    def change(line: str) -> str:
        record = json.loads(line)
        if value is None:
            record.pop(field)
        else:
            record[field] = value
        return json.dumps(record)

    return change


def _validate(data: Path, **kwargs):
    return validate_data(data / "corpus", data / "questions", **kwargs)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("evidence", "This sentence appears nowhere in the corpus at all, not once.", "is not found"),
        ("question", "", "field 'question' is missing or empty"),
        ("kind", None, "field 'kind' is missing or empty"),
        ("kind", "riddle", "field 'kind'"),
        ("document", "no-such-file.md", "field 'document'"),
        ("evidence", "too short", "field 'evidence' has 9 characters"),
    ],
)
def test_corrupt_field_is_named_with_file_and_line(data_copy, field, value, expected):
    target = _first_file(data_copy)
    _rewrite_line(target, 3, _edit(field, value))
    with pytest.raises(DataError) as err:
        _validate(data_copy)
    message = str(err.value)
    assert f"{target}:3" in message
    assert expected in message


def test_evidence_found_twice_is_caught(data_copy):
    target = _first_file(data_copy)
    record = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    doc = data_copy / "corpus" / record["document"]
    # Repeat the evidence sentence in its document: now it occurs twice.
    text = doc.read_text(encoding="utf-8")
    if doc.suffix == ".html":
        text = text.replace("</body>", f"<p>{record['evidence']}</p></body>")
    else:
        text += f"\n\n{record['evidence']}\n"
    doc.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"occurs 2 times") as err:
        _validate(data_copy)
    assert f"{target}:1" in str(err.value) and "field 'evidence'" in str(err.value)


def test_repeated_id_is_caught(data_copy):
    target = _first_file(data_copy)
    first_id = json.loads(target.read_text(encoding="utf-8").splitlines()[0])["id"]
    _rewrite_line(target, 2, _edit("id", first_id))
    with pytest.raises(DataError, match="repeats the id") as err:
        _validate(data_copy)
    assert f"{target}:2" in str(err.value) and "field 'id'" in str(err.value)


def test_invalid_json_line_is_caught(data_copy):
    target = _first_file(data_copy)
    _rewrite_line(target, 4, lambda line: line[:-5])
    with pytest.raises(DataError, match="not valid JSON") as err:
        _validate(data_copy)
    assert f"{target}:4" in str(err.value)


def test_question_mapping_to_no_chunk_is_caught(data_copy):
    # With 60-character chunks, no chunk can hold half of a long evidence quote.
    with pytest.raises(DataError, match="maps to no chunk") as err:
        _validate(data_copy, chunk_size=60, chunk_overlap=0)
    assert ".jsonl:" in str(err.value) and "field 'evidence'" in str(err.value)


def test_command_exits_nonzero_with_the_message(data_copy):
    target = _first_file(data_copy)
    _rewrite_line(target, 5, _edit("evidence", "Nothing like this sentence is written in any corpus file."))
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "validate-data", "--corpus", str(data_copy / "corpus"),
         "--questions", str(data_copy / "questions")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 1
    assert f"{target}:5" in run.stderr and "field 'evidence'" in run.stderr


def test_too_few_questions_per_chunk_fails(data_copy):
    run = subprocess.run(
        [sys.executable, "-m", "helpers", "validate-data", "--corpus", str(data_copy / "corpus"),
         "--questions", str(data_copy / "questions"), "--min-per-chunk", "50"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 1 and "fewer than 50 questions" in run.stderr
