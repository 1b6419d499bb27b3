"""Checkers for the exercises of notebook 02 (pairs and splits)."""

from __future__ import annotations

import math
from typing import Any

from helpers.workshop.checks.common import pair_of_ints, verdict


def check_leak_share(answer: Any, relevant: dict[str, list[str]], splits: dict[str, list[str]]) -> bool:
    """Notebook 02, exercise 1: share of test questions with a relevant chunk that a training question also has.

    The expected value is computed here from the chunk ids, not from the learner's formula.
    """
    trained = set().union(*(relevant[q] for q in splits["train"])) if splits["train"] else set()
    test = splits["test"]
    expected = sum(not trained.isdisjoint(relevant[q]) for q in test) / len(test) if test else 0.0
    ok = isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isclose(
        answer, expected, abs_tol=1e-9)
    hint = ("collect the chunks relevant to the training questions, then count the test questions with at least one "
            "relevant chunk in that set, and divide by the number of test questions (a share between 0 and 1)")
    if ok is False and isinstance(answer, (int, float)) and math.isclose(answer, 100 * expected, abs_tol=1e-6):
        hint = "give a share between 0 and 1, not a percentage"
    return verdict(answer, ok,
                   f"{expected:.0%} of the test questions ask about a chunk seen in training. In the 'chunks' regime "
                   "it is 0 by construction; in the 'questions' regime it is high, which is why that regime scores "
                   "higher.", hint)


def check_straddling(answer: Any, relevant: dict[str, list[str]], chunk_split: dict[str, str]) -> bool:
    """Notebook 02, exercise 2: the sorted ids of questions whose relevant chunks land in two or more splits."""
    expected = sorted(q for q, ids in relevant.items() if len({chunk_split[c] for c in ids}) > 1)
    ok = isinstance(answer, (list, tuple)) and list(answer) == expected
    return verdict(answer, ok,
                   f"{len(expected)} of {len(relevant)} questions would straddle two splits without grouping: each "
                   "would be trained on and tested at once. chunk_groups keeps their chunks together.",
                   "for each question, collect the splits of its relevant chunks (chunk_split[c] for c in its chunk "
                   "ids); keep the questions with more than one distinct split, as a sorted list of ids")


def check_ir_sizes(answer: Any, test_ir: dict) -> bool:
    """Notebook 02, exercise 3: (test questions, chunks each one searches) in the written test set."""
    expected = (len(test_ir["queries"]), len(test_ir["corpus"]))
    given = pair_of_ints(answer)
    n_relevant = len({c for ids in test_ir["relevant_docs"].values() for c in ids})
    hint = "read the line 'test questions: ... | corpus searched at evaluation: ... chunks'"
    if given is not None and given[1] == n_relevant != expected[1]:
        hint = ("that is the number of chunks relevant to the test questions (the published 'test-chunks-only' "
                "protocol); here each question searches the whole corpus")
    return verdict(answer, given == expected,
                   f"{expected[0]} test questions, each searching all {expected[1]} chunks (whole corpus), as a "
                   "deployed retriever would.", hint)
