"""Checkers for the exercises of notebook 00 (the environment check)."""

from __future__ import annotations

from typing import Any

from helpers.workshop.checks.common import checker, is_blank, pair_of_ints, verdict, wrong_shape

FLOAT32_BYTES = 4


@checker("a pair (bytes of the whole vector, bytes of the prefix), e.g. (100, 20)")
def check_vector_bytes(answer: Any, dim: int = 384, prefix: int = 64, hint: bool = False):
    """00, exercise 1: bytes of one float32 embedding of ``dim`` numbers, and of its first ``prefix`` numbers."""
    expected = (dim * FLOAT32_BYTES, prefix * FLOAT32_BYTES)
    given = pair_of_ints(answer)
    advice = "each number of an embedding is a float32: how many bytes is one float32?"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a pair (bytes of the whole vector, bytes of the prefix)")
    elif given == (dim * 32, prefix * 32):
        advice = "those are bits: a byte holds 8 of them"
    elif given == (dim, prefix):
        advice = "that counts numbers, not bytes: one float32 takes more than one byte"
    elif given == tuple(reversed(expected)):
        advice = "the two numbers are swapped: (whole vector, prefix)"
    return verdict(answer, given == expected,
                   f"{expected[0]} bytes against {expected[1]}: the {prefix}-number prefix takes "
                   f"{expected[1] / expected[0]:.0%} of the memory. A Matryoshka model (notebook 03) is trained so "
                   "that such a prefix still retrieves well; notebook 05 measures how well.", advice,
                   task=f"compute (bytes of a {dim}-number float32 vector, bytes of its first {prefix} numbers)",
                   more="float32 is a 32-bit floating-point number", show_more=hint)


@checker("a pair (number of checks, number of WARN lines), e.g. (9, 1)")
def check_doctor_counts(answer: Any, results: list, hint: bool = False):
    """00, exercise 2: (checks the doctor ran, checks that ended in WARN) on this machine."""
    statuses = [r.status for r in results]
    expected = (len(statuses), statuses.count("WARN"))
    given = pair_of_ints(answer)
    advice = "count the lines of the report that start with [OK], [WARN] or [FAIL], then the [WARN] ones"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a pair (number of checks, number of WARN lines)")
    elif given[0] == expected[0] and given[1] == statuses.count("FAIL") != expected[1]:
        advice = "that is the number of FAIL lines; count the WARN ones"
    elif given[1] == expected[1] and given[0] == expected[0] - expected[1]:
        advice = "the first number is every check, not only the ones that passed"
    return verdict(answer, given == expected,
                   f"{expected[0]} checks, {expected[1]} WARN. A WARN is worth reading (it says what it affects) but "
                   "does not stop the course; a FAIL does.", advice,
                   task="read the report and give (number of checks, number of WARN lines)",
                   more="the summary line at the end of the report counts them too", show_more=hint)
