"""The exercise checkers of notebooks 01 and 02: right answers pass (also as numeric strings, and rounded where the
answer is a share), plausible wrong ones raise ExerciseError with a hint that fits the mistake, blanks print a hint
that does not give the answer and return None."""

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


def _blank_prints_a_hint(capsys, call, answer=None) -> str:
    capsys.readouterr()  # only what the blank call prints
    assert call(None) is None
    out = capsys.readouterr().out
    assert "[NOT ANSWERED YET]" in out and "hint=True" in out
    if answer is not None:
        assert str(answer) not in out, f"the blank hint gives the answer away: {out}"
    assert call(...) is None
    capsys.readouterr()
    return out


def test_small_chunks(capsys):
    pieces = RecursiveCharacterTextSplitter(chunk_size=400, chunk_overlap=20).split_text(TEXT)
    right = (len(pieces), max(len(p) for p in pieces))
    assert right[1] < 400  # otherwise the "exactly the budget" wrong answer below would be right
    assert check_small_chunks(right, TEXT, 400, 20)
    # the learner's own code path gives the same numbers
    mine = chunk_documents([Document("d.txt", TEXT)], 400, 20)
    assert check_small_chunks((len(mine), max(len(c.text) for c in mine)), TEXT, 400, 20)
    assert check_small_chunks((str(right[0]), str(right[1])), TEXT, 400, 20)  # numeric strings
    for wrong in [(right[0], 400), (right[0] + 1, right[1]), (right[0], right[1] - 1), right[0], "x", {"a": 1}]:
        with pytest.raises(ExerciseError):
            check_small_chunks(wrong, TEXT, 400, 20)
    with pytest.raises(ExerciseError, match="swapped"):
        check_small_chunks((right[1], right[0]), TEXT, 400, 20)
    _blank_prints_a_hint(capsys, lambda a: check_small_chunks(a, TEXT, 400, 20), answer=right[1])


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
    for wrong in [first.text[-30:], "", first.text, second.text[: len(right) + 3], 30, [right]]:
        assert wrong != right
        with pytest.raises(ExerciseError):
            check_overlap_text(wrong, first, second)
    with pytest.raises(ExerciseError, match="not from chunk_overlap"):
        check_overlap_text(first.text[-30:], first, second)  # the last chunk_overlap characters
    out = _blank_prints_a_hint(capsys, lambda a: check_overlap_text(a, first, second))
    assert "second.start - first.start" not in out  # the blank hint does not print the slice


def test_truncation_counts(capsys):
    counts, limit = [100, 128, 129, 300, 90], 128
    assert check_truncation_counts((2, 300), counts, limit) and check_truncation_counts(("2", "300"), counts, limit)
    for wrong in [(3, 300), (2, 128), (2, 750), 2, "2, 300"]:  # counting >= the limit, the limit itself, characters
        with pytest.raises(ExerciseError):
            check_truncation_counts(wrong, counts, limit)
    with pytest.raises(ExerciseError, match="exactly 128 tokens fits"):
        check_truncation_counts((3, 300), counts, limit)
    _blank_prints_a_hint(capsys, lambda a: check_truncation_counts(a, counts, limit), answer=300)


RELEVANT = {"q1": ["a"], "q2": ["b", "c"], "q3": ["c"], "q4": ["d"], "q5": ["e", "a"]}
SPLITS = {"train": ["q1", "q3"], "val": [], "test": ["q2", "q4", "q5"]}


def test_leak_share(capsys):
    # q2 shares c with q3, q5 shares a with q1, q4 is clean: 2 of 3
    assert check_leak_share(2 / 3, RELEVANT, SPLITS)
    # only the first relevant chunk (q5's "e" is untrained): 1/3; a percentage; counted over chunks (a, c of b c d e a)
    for rounded in [0.667, "0.667", 0.6667, "0.66667"]:  # 3 decimals, 3 significant digits, more, as strings
        assert check_leak_share(rounded, RELEVANT, SPLITS)
    for wrong in [1 / 3, 200 / 3, 0.4, 0.0, 0.66, "two thirds", [2 / 3], {"share": 0.667}]:
        with pytest.raises(ExerciseError):
            check_leak_share(wrong, RELEVANT, SPLITS)
    with pytest.raises(ExerciseError, match="not a percentage"):
        check_leak_share(66.7, RELEVANT, SPLITS)
    with pytest.raises(ExerciseError, match="first relevant chunk"):
        check_leak_share(0.0, RELEVANT, SPLITS)  # only first chunks (b, d, e) compared: none was trained on
    with pytest.raises(ExerciseError) as info:
        check_leak_share(0.4, RELEVANT, SPLITS)  # a plain wrong number gets no method hint
    assert "percentage" not in str(info.value) and "first relevant" not in str(info.value)
    _blank_prints_a_hint(capsys, lambda a: check_leak_share(a, RELEVANT, SPLITS), answer=0.667)


def test_straddling(capsys):
    naive = {"a": "train", "b": "test", "c": "val", "d": "test", "e": "test"}
    assert check_straddling(["q2", "q5"], RELEVANT, naive)
    for wrong in [["q5", "q2"], ["q2"], ["q1", "q2", "q5"], "q2,q5", [], 2]:
        with pytest.raises(ExerciseError):
            check_straddling(wrong, RELEVANT, naive)
    with pytest.raises(ExerciseError, match="sorted"):
        check_straddling(["q5", "q2"], RELEVANT, naive)
    _blank_prints_a_hint(capsys, lambda a: check_straddling(a, RELEVANT, naive), answer="q5")


def test_ir_sizes(capsys):
    test_ir = {"queries": {"q1": "?", "q2": "?"}, "corpus": {c: "t" for c in "abcdefg"},
               "relevant_docs": {"q1": {"a", "b"}, "q2": {"b", "c"}}}
    assert check_ir_sizes((7, 3), test_ir) and check_ir_sizes(("7", "3"), test_ir)
    for wrong in [(3, 7), (7, 4), (2, 3), (2, 7), "7,3", 7]:  # swapped; repeats counted; questions, not chunks
        with pytest.raises(ExerciseError):
            check_ir_sizes(wrong, test_ir)
    with pytest.raises(ExerciseError, match="swapped"):
        check_ir_sizes((3, 7), test_ir)
    with pytest.raises(ExerciseError, match="distinct"):
        check_ir_sizes((7, 4), test_ir)
    with pytest.raises(ExerciseError, match="number of test questions"):
        check_ir_sizes((2, 3), test_ir)
    _blank_prints_a_hint(capsys, lambda a: check_ir_sizes(a, test_ir))
