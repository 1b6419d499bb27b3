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


@checker("a pair (chunks searched here, chunks searched under test-chunks-only), e.g. (500, 60)")
def check_ir_sizes(answer: Any, test_ir: dict, hint: bool = False):
    """Notebook 02, exercise 3: (chunks each test question searches under the whole-corpus protocol, chunks it would
    search under the published test-chunks-only protocol: those relevant to some test question)."""
    n_relevant = len({c for ids in test_ir["relevant_docs"].values() for c in ids})
    expected = (len(test_ir["corpus"]), n_relevant)
    with_repeats = sum(len(ids) for ids in test_ir["relevant_docs"].values())
    given = pair_of_ints(answer)
    advice = ("the first number is the size of the corpus every test question searches; the second counts the chunks "
              "relevant to at least one test question")
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a pair (chunks searched here, chunks searched "
                                                                      "under test-chunks-only)")
    elif given == tuple(reversed(expected)):
        advice = "the two numbers are swapped: (chunks searched here, chunks under test-chunks-only)"
    elif given[0] == expected[0] and given[1] == with_repeats != n_relevant:
        advice = "a chunk relevant to two test questions is searched once: count distinct chunks"
    elif given[0] == len(test_ir["queries"]) != expected[0]:
        advice = "that is the number of test questions; the first number is the chunks each of them searches"
    ratio = expected[0] / max(expected[1], 1)
    return verdict(answer, given == expected,
                   f"{expected[0]} chunks here against {expected[1]} under test-chunks-only: each test question "
                   f"searches {ratio:.1f}x as many passages, with every training chunk among the distractors, as a "
                   "deployed retriever would. Scores on the smaller pool look better and mean less.", advice,
                   task="compute (chunks each test question searches here, chunks it would search under the "
                        "published test-chunks-only protocol)",
                   more="test_ir['corpus'] is what is searched; test_ir['relevant_docs'] maps each test question to "
                        "its relevant chunk ids: take the union of those sets", show_more=hint)
