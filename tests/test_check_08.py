"""Notebook 08's checkers: the constant-score loss of the cross-encoder's softmax, and the questions a reranker of a
given depth cannot help."""

from __future__ import annotations

import math

import pytest

from helpers.workshop.checks import ExerciseError, check_constant_loss, check_out_of_reach, out_of_reach


def test_constant_loss(capsys):
    assert check_constant_loss(math.log(8), hard_negatives=2, in_batch_negatives=5)
    assert check_constant_loss("2.079") and check_constant_loss(2.08)
    for wrong, hint in [(math.log(7), "own passage"), (math.log(2), "yes/no"), (math.log10(8), "natural"),
                        (1 / 8, "probability"), (3.0, "softmax gives")]:
        with pytest.raises(ExerciseError, match=hint):
            check_constant_loss(wrong)
    with pytest.raises(ExerciseError, match="give a number"):
        check_constant_loss([2.079])
    assert check_constant_loss(None) is None
    out = capsys.readouterr().out
    assert "[NOT ANSWERED YET]" in out and "2.079" not in out.split("NOT ANSWERED")[-1]  # the blank gives no answer


FIRST = [["a", "b", "c", "d"], ["b", "x", "c", "d"], ["c", "d", "e", "f"], ["x", "a", "b", "c"], ["a", "b", "c", "f"],
         ["g", "a", "b", "c"]]
RELEVANT = [{"a"}, {"x"}, {"z"}, {"x"}, {"f"}, {"g"}]


def test_out_of_reach(capsys):
    # depth 3: out of reach are question 2 (no relevant chunk listed) and question 4 (its chunk is 4th)
    assert [out_of_reach(FIRST, RELEVANT, d) for d in (1, 3, 10)] == [3, 2, 1]
    assert check_out_of_reach(2, FIRST, RELEVANT, depth=3) and check_out_of_reach("2", FIRST, RELEVANT, depth=3)
    for wrong, hint in [(4, "can"), (1, "top 10"), (3, r"\*first\* hit"), (5, "look at"), ("two", "whole number")]:
        with pytest.raises(ExerciseError, match=hint):
            check_out_of_reach(wrong, FIRST, RELEVANT, depth=3)
    assert check_out_of_reach(None, FIRST, RELEVANT, depth=3) is None
    out = capsys.readouterr().out
    assert "[NOT ANSWERED YET]" in out and "NoneType" not in out
