"""Notebook 00's checkers: the bytes of a vector and its prefix, and the doctor's counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from helpers.workshop.checks import ExerciseError, check_doctor_counts, check_vector_bytes


def test_vector_bytes(capsys):
    assert check_vector_bytes((1536, 256)) and check_vector_bytes(("1536", "256"))
    capsys.readouterr()
    assert check_vector_bytes(None) is None
    blank = capsys.readouterr().out
    assert "1536" not in blank and "4 bytes" not in blank
    for wrong, why in [((12288, 2048), "bits"), ((384, 64), "numbers, not bytes"), ((256, 1536), "swapped")]:
        with pytest.raises(ExerciseError, match=why):
            check_vector_bytes(wrong)
    for wrong in [(1536, 64), 1536, "1536 and 256"]:
        with pytest.raises(ExerciseError):
            check_vector_bytes(wrong)


def test_doctor_counts(capsys):
    results = [SimpleNamespace(status=s) for s in ("OK", "OK", "WARN", "OK", "FAIL", "WARN")]
    assert check_doctor_counts((6, 2), results) and check_doctor_counts(("6", "2"), results)
    assert check_doctor_counts(None, results) is None
    with pytest.raises(ExerciseError, match="FAIL lines"):
        check_doctor_counts((6, 1), results)
    with pytest.raises(ExerciseError, match="every check"):
        check_doctor_counts((4, 2), results)
    with pytest.raises(ExerciseError):
        check_doctor_counts("6, 2", results)
