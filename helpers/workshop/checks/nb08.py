"""Checkers for the exercises of notebook 08 (reranking)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from helpers.workshop.checks.common import as_int, as_number, checker, close_enough, is_blank, method_hint, verdict


@checker("a number, e.g. 1.386")
def check_constant_loss(answer: Any, hard_negatives: int = 2, in_batch_negatives: int = 5, hint: bool = False):
    """Notebook 08, exercise 1: the cross-encoder MNRL loss of a model that gives every candidate the same score."""
    candidates = 1 + hard_negatives + in_batch_negatives
    expected = math.log(candidates)
    wrong = {
        math.log(candidates - 1): "the question's own passage is one of the candidates in the softmax too",
        math.log(2): "ln 2 is the constant-score loss of a yes/no (binary cross-entropy) loss; this softmax has more "
                     "candidates",
        math.log10(candidates): "the loss uses the natural logarithm (math.log), not log10",
        1 / candidates: "that is the probability each candidate gets; the loss is minus its logarithm",
    }
    advice = ("with equal scores the softmax gives every candidate the same probability; the loss is minus the "
              "natural log of the right candidate's probability")
    if as_number(answer) is None and not is_blank(answer):
        advice = f"give a number (the loss), not {type(answer).__name__}. " + advice
    return verdict(answer, close_enough(answer, expected),
                   f"ln({candidates}) = {expected:.3f}: each of the {candidates} candidates gets probability "
                   f"1/{candidates}. A training loss that stays near it has learned nothing; the log of section 4 "
                   "compares this run's loss with its own constant.",
                   method_hint(answer, wrong, advice),
                   task=f"compute the loss of a constant score with hard_negatives={hard_negatives} and "
                        f"in_batch_negatives={in_batch_negatives}",
                   more="count the candidates of one question: its passage, its mined negatives and the drawn "
                        "in-batch ones; the loss is -log(1 / that count)", show_more=hint)


def out_of_reach(first: Sequence[Sequence[str]], relevant: Sequence[set], depth: int) -> int:
    """Questions with no relevant chunk among the first stage's top ``depth``: no reranking of that depth can
    bring one into view."""
    return sum(not set(ranked[:depth]) & set(wanted) for ranked, wanted in zip(first, relevant))


@checker("a whole number, e.g. 7")
def check_out_of_reach(answer: Any, first: Sequence[Sequence[str]], relevant: Sequence[set], depth: int,
                       hint: bool = False):
    """Notebook 08, exercise 2: test questions whose relevant chunks all lie below the first stage's top ``depth``."""
    expected = out_of_reach(first, relevant, depth)
    given = as_int(answer)
    advice = (f"for each test question, look at the first stage's top {depth} chunk ids and ask whether any of them "
              "is relevant; count the questions where none is")
    if given is not None and given == len(first) - expected != expected:
        advice = "that counts the questions the reranker *can* help; the question asks for the others"
    elif given is not None and given == out_of_reach(first, relevant, 10) != expected:
        advice = f"that is the count for the top 10; the reranker reads only the top {depth}"
    elif given is not None and given == out_of_reach(first, relevant, 1) != expected:
        advice = f"that counts the questions whose *first* hit is wrong; the reranker can reorder all of the top {depth}"
    elif given is None and not is_blank(answer):
        advice = "give a whole number of questions. " + advice
    share = expected / max(len(first), 1)
    return verdict(answer, given == expected,
                   f"{expected} of {len(first)} test questions ({share:.0%}): their relevant chunks are all below "
                   f"rank {depth}, so reranking the top {depth} cannot change their score; the first stage's recall "
                   "is the reranker's ceiling.", advice,
                   task=f"count the test questions with no relevant chunk in the first stage's top {depth}",
                   more="first[i] is question i's ranked chunk ids and relevant_test[i] its set of relevant ids; "
                        "set(first[i][:depth]) & relevant_test[i] is empty for the ones to count", show_more=hint)
