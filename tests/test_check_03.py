"""Notebook 03's checkers: each accepts the right answer (also as a numeric string), rejects plausible wrong ones with
ExerciseError and a hint that fits the mistake, and prints a hint that does not give the answer for a blank."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.workshop.checks import (
    ExerciseError,
    check_hard_negative_candidates,
    check_loss,
    check_negatives,
    check_peak_epoch,
)


def test_negatives(capsys):
    assert check_negatives(15) and check_negatives("15") and check_negatives(15.0)
    capsys.readouterr()
    assert check_negatives(None) is None
    blank = capsys.readouterr().out
    assert "15" not in blank and "other positives" not in blank  # the hint does not name the answer
    with pytest.raises(ExerciseError, match="micro-batch"):
        check_negatives(63)  # counts the accumulated batch
    with pytest.raises(ExerciseError, match="own chunk"):
        check_negatives(16)  # counts the positive as a negative
    for wrong in (64, 14, "fifteen", [15], True):
        with pytest.raises(ExerciseError):
            check_negatives(wrong)


def test_hard_negative_candidates(capsys):
    assert check_hard_negative_candidates(31) and check_hard_negative_candidates("31")
    capsys.readouterr()
    assert check_hard_negative_candidates(None) is None
    blank = capsys.readouterr().out
    assert "31" not in blank and "minus" not in blank
    assert check_hard_negative_candidates(3 * 16 - 1, negatives_per_row=2)
    with pytest.raises(ExerciseError, match="other rows' hard negatives"):
        check_hard_negative_candidates(16)  # only its own negative
    with pytest.raises(ExerciseError, match="own positive"):
        check_hard_negative_candidates(32)
    with pytest.raises(ExerciseError, match="without hard negatives"):
        check_hard_negative_candidates(15)
    with pytest.raises(ExerciseError, match="expected a whole number"):
        check_hard_negative_candidates({"a": 31})


DIMS = [384, 256, 128, 64, 32]


def test_loss_accepts_only_the_course_loss(bundled_model, capsys):
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MatryoshkaLoss,
        MultipleNegativesRankingLoss,
        MultipleNegativesSymmetricRankingLoss,
    )

    model = bundled_model
    inner = MultipleNegativesRankingLoss(model)
    assert check_loss(MatryoshkaLoss(model, inner, matryoshka_dims=DIMS), DIMS)
    assert check_loss(MatryoshkaLoss(model, inner, matryoshka_dims=DIMS, matryoshka_weights=[2, 1, 1, 1, 1]), DIMS)
    capsys.readouterr()
    assert check_loss(None, DIMS) is None
    blank = capsys.readouterr().out
    assert "MatryoshkaLoss(" not in blank and "matryoshka_dims=" not in blank  # no code in the hint

    class MyMatryoshka(MatryoshkaLoss):
        pass

    wrong = {
        "outer loss must be": inner,
        "MultipleNegativesSymmetricRankingLoss": MatryoshkaLoss(
            model, MultipleNegativesSymmetricRankingLoss(model), matryoshka_dims=DIMS),
        "CachedMultipleNegativesRankingLoss": MatryoshkaLoss(
            model, CachedMultipleNegativesRankingLoss(model), matryoshka_dims=DIMS),
        "MyMatryoshka": MyMatryoshka(model, inner, matryoshka_dims=DIMS),
        "missing: \\[384\\]": MatryoshkaLoss(model, inner, matryoshka_dims=[256, 128, 64, 32]),  # the published run's
        "positive weight": MatryoshkaLoss(model, inner, matryoshka_dims=DIMS, matryoshka_weights=[0] * 5),
        "positive weight ": MatryoshkaLoss(model, inner, matryoshka_dims=DIMS, matryoshka_weights=[1, 1, 1, 1, -1]),
        "n_dims_per_step": MatryoshkaLoss(model, inner, matryoshka_dims=DIMS, n_dims_per_step=1),
        "str": "MatryoshkaLoss",
    }
    for match, loss in wrong.items():
        with pytest.raises(ExerciseError, match=match.strip()):
            check_loss(loss, DIMS)


def test_peak_epoch(tmp_path, capsys):
    history = tmp_path / "val_history.csv"
    pd.DataFrame({"epoch": [0.0, 1.0, 2.0, 3.0], "val_mean_ndcg@10": [0.5, 0.62, 0.60, 0.58]}).to_csv(history)
    assert check_peak_epoch(1, history) and check_peak_epoch("1", history) and check_peak_epoch(1.0, history)
    assert check_peak_epoch(None, history) is None
    with pytest.raises(ExerciseError, match="last epoch"):
        check_peak_epoch(3, history)
    with pytest.raises(ExerciseError, match="not an epoch of this run"):
        check_peak_epoch(7, history)
    with pytest.raises(ExerciseError, match="expected an epoch number"):
        check_peak_epoch("one", history)  # was a ValueError
    with pytest.raises(ExerciseError):
        check_peak_epoch(0, history)


def test_peak_epoch_when_training_only_hurt(tmp_path, capsys):
    history = tmp_path / "val_history.csv"  # the untrained model (epoch 0) is the best row, as in a real run
    pd.DataFrame({"epoch": [0.0, 1.0, 2.0, 3.0], "val_mean_ndcg@10": [0.7, 0.6, 0.65, 0.62]}).to_csv(history)
    capsys.readouterr()
    assert check_peak_epoch(2, history)
    assert "only hurt val" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match="before training"):
        check_peak_epoch(0, history)
