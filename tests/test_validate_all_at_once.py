"""Quotes as users copy them (whitespace collapsed on both sides), and every problem of a file in one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.cli import main
from helpers.data.corpus import chunk_documents, load_corpus
from helpers.data.problems import Problem
from helpers.data.questions import DataError, Question, evidence_span, find_quote, load_questions, map_to_chunks
from helpers.data.validate import validate_data

# A Markdown file with hard line wraps, as people write them; its extracted text has one paragraph per line.
NOTES = """# Keeping bees

The queen bee lays up to two thousand eggs a day in
late spring, when the colony grows fastest and the
workers bring in the most nectar.

Drones live for about eight weeks; they do not
sting, and they leave the hive only on warm afternoons.

A beekeeper who opens the hive should move slowly, keep the smoker lit but cool, lift each frame by its ears
and never set it down across the entrance, look for eggs standing upright in the bottom of the cells as the
surest sign that a laying queen was present within the last three days, check the brood pattern for gaps,
count the frames covered with workers, and close the hive again before the foragers come home at dusk, so
that the colony is disturbed as little as possible and the comb stays warm.
"""
OTHER = """Wax is made by young workers from glands under the abdomen.

Honey is stored in wax cells and capped once it is ripe.

Honey is stored in wax cells and capped once it is ripe.
"""
WINTER = """In autumn the workers push the remaining drones out of the hive, because a colony that has to live through the
cold months on its stores cannot feed members who gather nothing. The bees that stay cluster tightly around the
queen, shivering their flight muscles to make heat, and they slowly move across the comb as they eat, so that
the cluster always sits on honey. A strong colony can keep the middle of the cluster warm even in hard frost,
while a weak one may starve with food only a hand's width away, simply because the cluster cannot move sideways
to reach it on the coldest nights of the year.

When the days grow longer the queen starts to lay again, first a small patch of brood in the warm heart of the
cluster, then more each week as pollen comes in from the willows.
"""
# Copied from the raw file: across its hard line wraps.
WRAPPED = "lays up to two thousand eggs a day in\nlate spring, when the colony grows fastest"
GOOD = "Wax is made by young workers from glands under the abdomen."


def _long_quote() -> str:
    paragraph = " ".join(NOTES.split("\n\n")[3].split())
    quote = paragraph[:358]
    assert len(quote) == 358 and quote == quote.strip()
    return quote


SHORT = "they leave the hive only on wa"  # 30 characters


def _record(id: str, evidence: str, document: str = "notes.md", **extra) -> dict:
    return {"id": id, "question": f"Question {id}?", "document": document, "evidence": evidence,
            "kind": "factoid", **extra}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "notes.md").write_text(NOTES, encoding="utf-8")
    (folder / "other.txt").write_text(OTHER, encoding="utf-8")
    (folder / "winter.txt").write_text(WINTER, encoding="utf-8")  # so that no file holds half the corpus
    return folder


def _write(path: Path, *lines) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


def _docs(corpus: Path) -> dict:
    return {d.name: d for d in load_corpus(corpus)}


def test_a_quote_copied_across_hard_line_wraps_matches_at_the_right_offsets(corpus):
    docs = _docs(corpus)
    text = docs["notes.md"].text
    assert WRAPPED not in text  # the extracted text has spaces where the file has line breaks
    expected_start = text.index("lays up to two thousand")
    expected_end = text.index("grows fastest") + len("grows fastest")
    for quote in (WRAPPED, WRAPPED.replace(" ", "  \t"), f"  {WRAPPED}\n"):
        question = Question("q", "How many eggs?", "notes.md", quote, "factoid")
        assert evidence_span(question, docs) == (expected_start, expected_end)
    chunks = chunk_documents(list(docs.values()), 750, 20)
    (chunk_id,) = map_to_chunks([Question("q", "?", "notes.md", WRAPPED, "factoid")], list(docs.values()), chunks)["q"]
    chunk = next(c for c in chunks if c.id == chunk_id)
    assert chunk.start <= expected_start and expected_end <= chunk.end


@pytest.mark.parametrize("gap", [" ", "\n\n", "\n   \n"])
def test_a_quote_spanning_a_paragraph_break_matches(corpus, gap):
    docs = _docs(corpus)
    text = docs["notes.md"].text
    quote = f"workers bring in the most nectar.{gap}Drones live for about eight weeks"
    start, end = evidence_span(Question("q", "?", "notes.md", quote, "factoid"), docs)
    assert text[start:end] == "workers bring in the most nectar.\n\nDrones live for about eight weeks"


def test_an_exact_quote_keeps_the_offsets_of_str_index(corpus):
    docs = _docs(corpus)
    text = docs["notes.md"].text
    for quote in ("The queen bee lays up to two thousand eggs a day in late spring",
                  "\nThe queen bee lays up to two thousand eggs ",  # leading/trailing whitespace kept as it was
                  "nectar.\n\nDrones live for about eight weeks; they do not sting"):
        start = text.index(quote)
        assert evidence_span(Question("q", "?", "notes.md", quote, "factoid"), docs) == (start, start + len(quote))
    assert find_quote(text, "   ") == []


def _bad_file(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "questions.jsonl",
        _record("q-1", WRAPPED),  # good: copied across line wraps
        '{"id": "q-2", "question": "Broken?"',  # 2: invalid JSON
        "[1, 2]",  # 3: not an object
        _record("q-4", GOOD, document="other.txt", question=""),  # 4: missing field
        _record("q-5", GOOD, document="other.txt", kind="riddle"),  # 5: unknown kind
        _record("q-6", GOOD, document="other.txt", also="other.txt"),  # 6: bad also
        _record("q-7", GOOD, document="other.txt", not_also="notes.md"),  # 7: bad not_also
        _record("q-1", GOOD, document="other.txt"),  # 8: duplicate id
        _record("q-9", GOOD, document="nope.md"),  # 9: document not in corpus
        _record("q-10", "This sentence is written in none of the documents."),  # 10: not found
        _record("q-11", "Honey is stored in wax cells and capped once", document="other.txt"),  # 11: occurs twice
        _record("q-12", GOOD, document="other.txt", not_also=["zzz.md"]),  # 12: not_also not in corpus
        _record("q-13", SHORT),  # 13: warning, 30 characters
        _record("q-14", _long_quote()),  # 14: warning, 358 characters
    )


EXPECTED = {  # line: (kind, field, words of the message)
    2: ("invalid JSON", "", "not valid JSON"),
    3: ("not a JSON object", "", "expected a JSON object"),
    4: ("missing field", "question", "field 'question' is missing or empty"),
    5: ("unknown kind", "kind", "field 'kind' is 'riddle'"),
    6: ("bad 'also'", "also", "field 'also' must be a list"),
    7: ("bad 'not_also'", "not_also", "field 'not_also' must be a list"),
    8: ("duplicate id", "id", "field 'id' 'q-1' repeats the id at"),
    9: ("document not in corpus", "document", "field 'document' 'nope.md' is not in the corpus"),
    10: ("evidence not found", "evidence", "field 'evidence' is not found in the extracted text of notes.md"),
    11: ("evidence occurs several times", "evidence", "field 'evidence' occurs 2 times"),
    12: ("document not in corpus", "not_also", "field 'not_also' names 'zzz.md'"),
    13: ("evidence shorter than 40 characters", "evidence", "field 'evidence' has 30 characters"),
    14: ("evidence longer than 300 characters", "evidence", "field 'evidence' has 358 characters"),
}


def test_every_problem_of_a_file_comes_in_one_call(corpus, tmp_path):
    path = _bad_file(tmp_path)
    problems: list[Problem] = []
    report = validate_data(corpus, path, problems=problems)
    assert {(p.line, p.kind, p.field) for p in problems} == {(n, k, f) for n, (k, f, _) in EXPECTED.items()}
    for p in problems:
        assert p.where == f"{path}:{p.line}" and EXPECTED[p.line][2] in str(p)
        assert p.is_error == (p.line < 13)
    # The bad lines are left out; the others (1, 12 with its unknown not_also, 13 and 14) are still counted.
    assert report["questions"] == 4

    with pytest.raises(DataError) as err:  # without a list: one DataError listing every error
        validate_data(corpus, path)
    message = str(err.value)
    for line, (_, _, words) in EXPECTED.items():
        assert f"{path}:{line}: " in message and words in message
    assert message.endswith("11 errors, 2 warnings in 1 file")
    assert len(err.value.problems) == 13

    with pytest.raises(DataError) as err:  # load_questions alone: the errors it can see, all at once
        load_questions(path)
    assert all(f"{path}:{line}:" in str(err.value) for line in range(2, 9))


def test_the_command_reports_every_problem_grouped_with_a_count(corpus, tmp_path, capsys):
    path = _bad_file(tmp_path)
    code = main(["validate-data", "--corpus", str(corpus), "--questions", str(path), "--min-per-chunk", "0"])
    out, err = capsys.readouterr()
    assert code == 1 and "documents:" not in out
    lines = err.splitlines()
    for line, (kind, _, words) in EXPECTED.items():
        assert any(f"{path}:{line}: " in text and words in text for text in lines), line
        severity = "error" if line < 13 else "warning"
        assert any(text.startswith(f"{severity}: {kind} (") for text in lines), kind
    assert "error: document not in corpus (2)" in lines
    assert lines.index("error: invalid JSON (1)") < lines.index("error: evidence not found (1)") < \
        lines.index("warning: evidence shorter than 40 characters (1)")
    assert lines[-1] == "validate-data: FAILED: 11 errors, 2 warnings in 1 file"


def test_warnings_do_not_make_the_command_fail(corpus, tmp_path, capsys):
    path = _write(tmp_path / "q.jsonl", _record("q-1", WRAPPED), _record("q-2", _long_quote()),
                  _record("q-3", SHORT), _record("q-4", GOOD, document="other.txt"))
    code = main(["validate-data", "--corpus", str(corpus), "--questions", str(path), "--min-per-chunk", "0"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "questions: 4" in out and out.splitlines()[-1] == "validate-data: OK (2 warnings)"
    assert f"{path}:2: field 'evidence' has 358 characters" in err and "hard to check by eye" in err
    assert f"{path}:3: field 'evidence' has 30 characters" in err and "thin" in err
    assert "error" not in err


def test_any_error_makes_the_command_fail(corpus, tmp_path, capsys):
    path = _write(tmp_path / "q.jsonl", _record("q-1", WRAPPED),
                  _record("q-2", "Not one of these words stands in the corpus in this order."))
    code = main(["validate-data", "--corpus", str(corpus), "--questions", str(path), "--min-per-chunk", "0"])
    _, err = capsys.readouterr()
    assert code == 1
    assert f"{path}:2: field 'evidence' is not found" in err
    assert err.splitlines()[-1] == "validate-data: FAILED: 1 error, 0 warnings in 1 file"


def test_an_empty_quote_is_still_an_error(corpus, tmp_path):
    path = _write(tmp_path / "q.jsonl", _record("q-1", "   "),
                  _record("q-2", GOOD, document="other.txt", also=[{"document": "notes.md", "evidence": " "}]))
    problems: list[Problem] = []
    assert load_questions(path, problems=problems) == []
    assert [(p.line, p.field, p.is_error) for p in problems] == [(1, "evidence", True), (2, "also[0]", True)]
