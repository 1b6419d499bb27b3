"""What every exercise checker shares: one per exercise, each testing exactly what its exercise asks.

Every checker follows one contract, implemented by :func:`verdict`:

- the exercise ships blank (``None`` or ``...``): print ``[NOT ANSWERED YET]`` with a hint and
  return False, so a notebook run top to bottom (and nbval) passes;
- a right answer: print ``[OK]`` with what it means and return True;
- a wrong answer: raise :class:`ExerciseError` (an AssertionError) whose message is the hint.
"""

from __future__ import annotations

from typing import Any


class ExerciseError(AssertionError):
    """A wrong answer to an exercise; the message says how to fix it."""


def is_blank(answer: Any) -> bool:
    """True for an exercise left as shipped (``None`` or ``...``)."""
    return answer is None or answer is Ellipsis


def verdict(answer: Any, ok: bool, success: str, hint: str) -> bool:
    """Apply the checkers' contract to one answer (see the module docstring)."""
    if is_blank(answer):
        print(f"[NOT ANSWERED YET] {hint}")
        return False
    if not ok:
        raise ExerciseError(f"[TRY AGAIN] {hint}")
    print(f"[OK] {success}")
    return True


def pair_of_ints(answer: Any) -> tuple[int, int] | None:
    """``answer`` as a pair of whole numbers, or None when it is not one."""
    try:
        first, second = answer
        if any(isinstance(x, (bool, str)) or not float(x).is_integer() for x in (first, second)):
            return None
    except (TypeError, ValueError):
        return None
    return int(first), int(second)
