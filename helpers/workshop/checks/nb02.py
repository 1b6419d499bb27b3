"""Checkers for the exercises of notebook 02 (pairs and splits)."""

from __future__ import annotations

from typing import Any

from helpers.workshop.checks.common import (
    as_number,
    checker,
    close_enough,
    is_blank,
    method_hint,
    pair_of_ints,
    verdict,
    wrong_shape,
)


def leak_share(relevant: dict[str, list[str]], splits: dict[str, list[str]]) -> float:
    """Share of ``splits["test"]`` questions with a relevant chunk that a training question also has."""
    trained = set().union(*(relevant[q] for q in splits["train"])) if splits["train"] else set()
    test = splits["test"]
    return sum(not trained.isdisjoint(relevant[q]) for q in test) / len(test) if test else 0.0


@checker("a number between 0 and 1, e.g. 0.25")
def check_leak_share(answer: Any, relevant: dict[str, list[str]], splits: dict[str, list[str]],
                     hint: bool = False):
    """Notebook 02, exercise 1: share of test questions with a relevant chunk that a training question also has.

    The expected value is computed here from the chunk ids, not from the learner's formula.
    """
    expected = leak_share(relevant, splits)
    first_only = leak_share({q: ids[:1] for q, ids in relevant.items()}, splits)
    wrong = {100 * expected: "give a share between 0 and 1, not a percentage"}
    if abs(first_only - expected) > 1e-9:
        wrong[first_only] = ("you compared only each question's first relevant chunk; a question leaks when any of "
                             "its relevant chunks is trained on")
    advice = ("a test question leaks when one of its relevant chunks is also relevant to a training question; the "
              "share is over the test questions")
    ok = close_enough(answer, expected)
    if as_number(answer) is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a number between 0 and 1")
    return verdict(answer, ok,
                   f"{expected:.0%} of the test questions ask about a chunk seen in training. In the 'chunks' regime "
                   "it is 0 by construction; in the 'questions' regime it is not, so its test questions are easier.",
                   method_hint(answer, wrong, advice),
                   task="predict, then compute the share (0..1) of other['test'] questions that leak",
                   more="first collect every chunk relevant to a training question in a set; then count the test "
                        "questions whose relevant chunks meet that set", show_more=hint)


@checker("a sorted list of question ids, e.g. ['q-001', 'q-017']")
def check_straddling(answer: Any, relevant: dict[str, list[str]], chunk_split: dict[str, str],
                     hint: bool = False):
    """Notebook 02, exercise 2: the sorted ids of questions whose relevant chunks land in two or more splits."""
    expected = sorted(q for q, ids in relevant.items() if len({chunk_split[c] for c in ids}) > 1)
    given = list(answer) if isinstance(answer, (list, tuple, set)) else None
    advice = ("a question straddles when its relevant chunks do not all have the same split under `naive`; give "
              "their ids as a sorted list")
    if given is None and not is_blank(answer):
        advice = wrong_shape(answer, "a sorted list of question ids")
    elif given is not None and given != expected and sorted(map(str, given)) == expected:
        advice = "the right ids, but give them sorted (sorted(...))"
    return verdict(answer, given == expected,
                   f"{len(expected)} of {len(relevant)} questions would straddle two splits without grouping: each "
                   "would be trained on and tested at once. chunk_groups keeps their chunks together.", advice,
                   task="find the questions whose relevant chunks fall in more than one split under `naive`",
                   more="for one question, {naive[c] for c in small_relevant[q]} is the set of its splits",
                   show_more=hint)


@checker("a pair (number of test questions, chunks each one searches), e.g. (10, 50)")
def check_ir_sizes(answer: Any, test_ir: dict, hint: bool = False):
    """Notebook 02, exercise 3: (test questions, chunks each one searches) in the written test set."""
    expected = (len(test_ir["queries"]), len(test_ir["corpus"]))
    given = pair_of_ints(answer)
    n_relevant = len({c for ids in test_ir["relevant_docs"].values() for c in ids})
    advice = "both numbers are printed by the cell that wrote the pairs and IR sets"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a pair (number of test questions, chunks each one searches)")
    elif given[1] == n_relevant != expected[1]:
        advice = ("that is the number of chunks relevant to the test questions (the published 'test-chunks-only' "
                  "protocol); here each question searches more than those")
    elif given == tuple(reversed(expected)):
        advice = "the two numbers are swapped: (test questions, chunks searched)"
    return verdict(answer, given == expected,
                   f"{expected[0]} test questions, each searching all {expected[1]} chunks (whole corpus), as a "
                   "deployed retriever would.", advice,
                   task="read (test questions, chunks each one searches) from the output of the write cell",
                   more="len(test_ir['queries']) and len(test_ir['corpus']) are the same numbers",
                   show_more=hint)
