"""What every exercise checker shares: one per exercise, each testing exactly what its exercise asks.

Every checker follows one contract, implemented by :func:`verdict` and :func:`checker`:

- the exercise ships blank (``None`` or ``...``): print ``[NOT ANSWERED YET]``, what to do and a hint that does not
  give the answer away, and return None, so the cell shows no stray value and a notebook run top to bottom (and
  nbval) passes. ``hint=True`` prints more help;
- a right answer: print ``[OK]`` with what it means and return :data:`PASSED` (true, and displayed as nothing);
- a wrong answer of any type: raise :class:`ExerciseError` (an AssertionError) whose message is the hint. A hint
  about a wrong *method* is given only when the answer equals what that method gives (:func:`method_hint`).

Numbers are read with :func:`as_number` (numeric strings too) and compared with :func:`close_enough`, which accepts
the right value rounded to 3 decimals or to 3 significant digits.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, TypeVar


class ExerciseError(AssertionError):
    """A wrong answer to an exercise; the message says how to fix it."""


class Passed:
    """What a checker returns for a right answer: true for ``assert check(...)``, and nothing in a cell's output."""

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "PASSED"

    def _ipython_display_(self) -> None:
        """Jupyter shows nothing for it: the ``[OK]`` line already said it."""


PASSED = Passed()
MORE_HELP = "more help: call the checker again with hint=True"


def is_blank(answer: Any) -> bool:
    """True for an exercise left as shipped (``None`` or ``...``)."""
    return answer is None or answer is Ellipsis


def verdict(answer: Any, ok: bool, success: str, hint: str, *, task: str = "", more: str = "",
            show_more: bool = False) -> Passed | None:
    """Apply the checkers' contract to one answer (see the module docstring).

    ``task`` says what to do (printed for a blank answer), ``hint`` nudges without giving the answer, ``more`` is the
    extra help printed when ``show_more`` (the checker's ``hint=True``).
    """
    extra = f"\n  more help: {more}" if more and show_more else ""
    if is_blank(answer):
        lines = ["[NOT ANSWERED YET]" + (f" {task}" if task else ""), f"  hint: {hint}"]
        if more and not show_more:
            lines.append(f"  ({MORE_HELP})")
        print("\n".join(lines) + extra)
        return None
    if not ok:
        raise ExerciseError(f"[TRY AGAIN] {hint}{extra}")
    print(f"[OK] {success}")
    return PASSED


F = TypeVar("F", bound=Callable[..., Any])


def checker(expects: str) -> Callable[[F], F]:
    """Decorate a checker whose first argument is the learner's answer: an answer the checker cannot even read (a
    string where a pair was expected, a list where a number was) raises :class:`ExerciseError` saying what was
    expected, never a TypeError or a ValueError from inside the check.

    ``expects`` describes the answer's shape, e.g. ``"a pair (number of chunks, longest chunk in characters)"``.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapped(answer: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return function(answer, *args, **kwargs)
            except ExerciseError:
                raise
            except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as err:
                if is_blank(answer):
                    raise  # a blank answer cannot be the cause: this is a bug in the checker or its inputs
                raise ExerciseError(f"[TRY AGAIN] expected {expects}; got {describe(answer)}") from err

        return wrapped  # type: ignore[return-value]

    return decorate


def describe(answer: Any, width: int = 60) -> str:
    """A short description of an answer for an error message: its type and the start of its repr."""
    text = repr(answer)
    return f"{type(answer).__name__} {text if len(text) <= width else text[: width - 3] + '...'}"


def wrong_shape(answer: Any, expects: str) -> str:
    """The hint for an answer of the wrong kind: what was expected and what came."""
    return f"expected {expects}; got {describe(answer)}"


def as_number(answer: Any) -> float | None:
    """``answer`` as a float when it is a number or a numeric string (``"0.379"``, ``" 128 "``), else None.

    Booleans are not numbers here (``True == 1`` would let a yes/no slip through as a count)."""
    if isinstance(answer, bool) or answer is None:
        return None
    if isinstance(answer, str):
        try:
            value = float(answer.strip().replace("_", ""))
        except ValueError:
            return None
    elif isinstance(answer, numbers.Real):  # int, float, numpy scalars
        value = float(answer)
    else:
        try:  # a 0-d array or a one-element tensor
            value = float(answer.item())
        except (AttributeError, TypeError, ValueError):
            return None
    return value if math.isfinite(value) else None


def as_int(answer: Any) -> int | None:
    """``answer`` as a whole number (``16``, ``16.0``, ``"16"``), else None."""
    value = as_number(answer)
    return int(value) if value is not None and value.is_integer() else None


def tolerance(expected: float) -> float:
    """How far a right answer may be from ``expected``: half a unit of the 3rd decimal or of the 3rd significant
    digit, whichever is looser (the 3rd decimal only when rounding there keeps a non-zero value non-zero), so both
    roundings and anything more precise pass."""
    if expected == 0:
        return 5e-4
    significant = 0.5 * 10 ** (math.floor(math.log10(abs(expected))) - 2)
    decimals = 5e-4 if round(expected, 3) != 0 else 0.0
    return max(significant, decimals) * (1 + 1e-9)  # the factor absorbs the float error of the rounding itself


def close_enough(answer: Any, expected: float) -> bool:
    """True when ``answer`` (a number or a numeric string) is ``expected`` rounded to 3 decimals or to 3 significant
    digits, or more precisely."""
    value = as_number(answer)
    return value is not None and abs(value - expected) <= tolerance(expected)


def method_hint(answer: Any, wrong_methods: Mapping[float, str], default: str) -> str:
    """The hint for a wrong numeric answer: the hint of the wrong method whose result the answer equals (rounding
    allowed, as in :func:`close_enough`), else ``default``. ``wrong_methods`` maps a wrong method's value to its hint."""
    for value, hint in wrong_methods.items():
        if close_enough(answer, value):
            return hint
    return default


def pair_of_ints(answer: Any) -> tuple[int, int] | None:
    """``answer`` as a pair of whole numbers (numeric strings allowed), or None when it is not one."""
    if isinstance(answer, (str, bytes, Mapping)):
        return None
    try:
        first, second = answer
    except (TypeError, ValueError):
        return None
    pair = as_int(first), as_int(second)
    return None if None in pair else (pair[0], pair[1])
