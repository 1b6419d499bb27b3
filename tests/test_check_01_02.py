"""The exercise checkers of notebooks 01 and 02: right answers pass, plausible wrong ones raise, blanks do not."""

from __future__ import annotations

import pytest
from langchain_text_splitters import RecursiveCharacterTextSplitter

from helpers.lessons.chunking import Document, chunk_documents
from helpers.workshop.checks import (
    ExerciseError,
    check_ir_sizes,
    check_leak_share,
    check_overlap_text,
    check_small_chunks,
    check_straddling,
    check_truncation_counts,
)

TEXT = "\n\n".join(
    f"Paragraph {i} says something about retrieval number {i}. " + "More words follow here. " * (3 + i % 5)
    for i in range(25)
)


def _blank_prints_a_hint(capsys, call) -> None:
    assert call(None) is False
    assert "[NOT ANSWERED YET]" in capsys.readouterr().out


def test_small_chunks(capsys):
    pieces = RecursiveCharacterTextSplitter(chunk_size=400, chunk_overlap=20).split_text(TEXT)
    right = (len(pieces), max(len(p) for p in pieces))
    assert right[1] < 400  # otherwise the "exactly the budget" wrong answer below would be right
    assert check_small_chunks(right, TEXT, 400, 20)
    # the learner's own code path gives the same numbers
    mine = chunk_documents([Document("d.txt", TEXT)], 400, 20)
    assert check_small_chunks((len(mine), max(len(c.text) for c in mine)), TEXT, 400, 20)
    for wrong in [(right[0], 400), (right[0] + 1, right[1]), (right[0], right[1] - 1), right[0], "x"]:
        with pytest.raises(ExerciseError):
            check_small_chunks(wrong, TEXT, 400, 20)
    _blank_prints_a_hint(capsys, lambda a: check_small_chunks(a, TEXT, 400, 20))


def _overlapping_pair():
    chunks = chunk_documents([Document("d.txt", " ".join(f"word{i}" for i in range(400)))], 200, 30)
    first, second = chunks[0], chunks[1]
    assert second.start < first.end
    return first, second


def test_overlap_text(capsys):
    first, second = _overlapping_pair()
    right = first.text[second.start - first.start :]
    assert right and second.text.startswith(right)
    assert check_overlap_text(right, first, second)
    for wrong in [first.text[-30:], "", first.text, second.text[: len(right) + 3]]:
        assert wrong != right
        with pytest.raises(ExerciseError):
            check_overlap_text(wrong, first, second)
    _blank_prints_a_hint(capsys, lambda a: check_overlap_text(a, first, second))


def test_truncation_counts(capsys):
    counts, limit = [100, 128, 129, 300, 90], 128
    assert check_truncation_counts((2, 300), counts, limit)
    for wrong in [(3, 300), (2, 128), (2, 750), 2]:  # counting >= the limit, the limit itself, characters
        with pytest.raises(ExerciseError):
            check_truncation_counts(wrong, counts, limit)
    _blank_prints_a_hint(capsys, lambda a: check_truncation_counts(a, counts, limit))


RELEVANT = {"q1": ["a"], "q2": ["b", "c"], "q3": ["c"], "q4": ["d"], "q5": ["e", "a"]}
SPLITS = {"train": ["q1", "q3"], "val": [], "test": ["q2", "q4", "q5"]}


def test_leak_share(capsys):
    # q2 shares c with q3, q5 shares a with q1, q4 is clean: 2 of 3
    assert check_leak_share(2 / 3, RELEVANT, SPLITS)
    # only the first relevant chunk (q5's "e" is untrained): 1/3; a percentage; counted over chunks (a, c of b c d e a)
    for wrong in [1 / 3, 200 / 3, 0.4, 0.0]:
        with pytest.raises(ExerciseError):
            check_leak_share(wrong, RELEVANT, SPLITS)
    _blank_prints_a_hint(capsys, lambda a: check_leak_share(a, RELEVANT, SPLITS))


def test_straddling(capsys):
    naive = {"a": "train", "b": "test", "c": "val", "d": "test", "e": "test"}
    assert check_straddling(["q2", "q5"], RELEVANT, naive)
    for wrong in [["q5", "q2"], ["q2"], ["q1", "q2", "q5"], "q2,q5", []]:
        with pytest.raises(ExerciseError):
            check_straddling(wrong, RELEVANT, naive)
    _blank_prints_a_hint(capsys, lambda a: check_straddling(a, RELEVANT, naive))


def test_ir_sizes(capsys):
    test_ir = {"queries": {"q1": "?", "q2": "?"}, "corpus": {c: "t" for c in "abcdefg"},
               "relevant_docs": {"q1": {"a"}, "q2": {"b", "c"}}}
    assert check_ir_sizes((2, 7), test_ir)
    for wrong in [(2, 3), (7, 2), (3, 7)]:  # the test-chunks-only count; swapped; relevant chunks as questions
        with pytest.raises(ExerciseError):
            check_ir_sizes(wrong, test_ir)
    _blank_prints_a_hint(capsys, lambda a: check_ir_sizes(a, test_ir))
