"""The checkers' shared contract (helpers/workshop/checks/common.py): a blank prints what to do and a hint and
returns None, a right answer prints [OK] and is true but displays nothing, a wrong answer of any type raises
ExerciseError; numbers are accepted rounded to 3 decimals or 3 significant digits, and as numeric strings."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.workshop.checks import (
    PASSED,
    ExerciseError,
    as_int,
    as_number,
    checker,
    close_enough,
    is_blank,
    method_hint,
    pair_of_ints,
    verdict,
)


def test_a_blank_prints_task_and_hint_and_returns_none(capsys):
    assert verdict(None, False, "yes", "a hint", task="do this", more="the next step") is None
    assert verdict(..., False, "yes", "a hint") is None
    out = capsys.readouterr().out
    assert "[NOT ANSWERED YET] do this" in out and "hint: a hint" in out
    assert "the next step" not in out and "hint=True" in out  # more help only on request
    assert verdict(None, False, "yes", "a hint", more="the next step", show_more=True) is None
    assert "more help: the next step" in capsys.readouterr().out


def test_a_right_answer_is_true_and_shows_nothing(capsys):
    result = verdict(3, True, "yes", "a hint")
    assert result is PASSED and bool(result)
    assert "[OK] yes" in capsys.readouterr().out
    assert hasattr(result, "_ipython_display_")  # Jupyter prints nothing for it


def test_a_wrong_answer_raises_with_its_hint():
    with pytest.raises(ExerciseError, match=r"\[TRY AGAIN\] a hint"):
        verdict(3, False, "yes", "a hint")
    with pytest.raises(ExerciseError, match="the next step"):
        verdict(3, False, "yes", "a hint", more="the next step", show_more=True)


def test_checker_turns_an_unreadable_answer_into_exercise_error():
    @checker("a number")
    def check(answer, hint=False):
        return verdict(answer, not is_blank(answer) and float(answer) == 2.0, "ok", "think")

    assert check(2)
    with pytest.raises(ExerciseError, match="expected a number; got str 'one'"):
        check("one")
    with pytest.raises(ExerciseError, match="expected a number; got list"):
        check([1, 2])
    assert check(None) is None


def test_numbers_are_read_from_strings_and_numpy_but_not_from_bools():
    assert as_number(" 128 ") == 128.0 and as_number("0.379") == 0.379 and as_number(np.float32(0.5)) == 0.5
    assert as_number(np.array(3)) == 3.0
    for junk in (True, None, "one", [1], float("nan"), "inf"):
        assert as_number(junk) is None, junk
    assert as_int("16") == 16 and as_int(16.0) == 16 and as_int(16.5) is None and as_int(False) is None


@pytest.mark.parametrize("expected, accepted, rejected", [
    (0.37912, [0.379, "0.379", 0.3791, 0.37912], [0.38, 0.378, 0.37]),
    (2 / 3, [0.667, "0.667", 0.6667], [0.66, 0.67]),
    (1234.5678, [1234.568, 1230, "1230"], [1200, 1240]),
    (0.0537, [0.054, 0.0537], [0.05, 0.053]),
    (0.0004, [0.0004, "0.000400"], [0.0, 0]),  # a 3-decimal rounding to 0 says nothing
])
def test_close_enough_takes_3_decimals_or_3_significant_digits(expected, accepted, rejected):
    assert all(close_enough(a, expected) for a in accepted), accepted
    assert not any(close_enough(r, expected) for r in rejected), rejected


def test_a_method_hint_only_for_the_value_that_method_gives():
    wrong = {66.667: "a percentage"}
    assert method_hint(66.67, wrong, "generic") == "a percentage"
    assert method_hint(0.5, wrong, "generic") == "generic"


def test_pairs():
    assert pair_of_ints(("3", 4.0)) == (3, 4)
    for junk in ("34", b"34", {"a": 1, "b": 2}, (1, 2, 3), (1.5, 2), (True, 2), 7):
        assert pair_of_ints(junk) is None, junk


def test_a_blank_gets_the_exercises_hint_not_a_message_about_its_type(tmp_path, capsys):
    """A learner who has not answered yet reads what to look at, never "expected a pair; got NoneType None"."""
    import pandas as pd

    from helpers.workshop.checks import nb00, nb01, nb02, nb03

    history = tmp_path / "history.csv"
    pd.DataFrame({"epoch": [0, 1, 2], "val_mean_ndcg@10": [0.5, 0.6, 0.55]}).to_csv(history, index=False)
    relevant = {"q1": ["c1"], "q2": ["c2"]}
    test_ir = {"queries": {"q2": "?"}, "corpus": {"c1": "a", "c2": "b"}, "relevant_docs": {"q2": {"c2"}}}
    blanks = [
        lambda: nb00.check_vector_bytes(None),
        lambda: nb01.check_small_chunks(None, "one sentence. " * 80),
        lambda: nb01.check_truncation_counts(None, [10, 300, 20], 256),
        lambda: nb02.check_leak_share(None, relevant, {"train": ["q1"], "val": [], "test": ["q2"]}),
        lambda: nb02.check_ir_sizes(None, test_ir),
        lambda: nb03.check_negatives(None),
        lambda: nb03.check_hard_negative_candidates(None),
        lambda: nb03.check_peak_epoch(None, history),
    ]
    for blank in blanks:
        assert blank() is None
        out = capsys.readouterr().out
        assert out.startswith("[NOT ANSWERED YET]") and "hint: " in out, out
        assert "NoneType" not in out and "expected " not in out, out
