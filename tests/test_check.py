"""The checkers' contract, and the checkers of notebooks 03 and 04: each accepts the right answer, rejects a
plausible wrong one with a hint (ExerciseError), and only prints a hint for an exercise left blank."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers.workshop.checks import (
    ExerciseError,
    check_hard_negative_candidates,
    check_loss,
    check_negatives,
    check_peak_epoch,
    check_query_ndcg,
    check_random_ndcg,
    check_worse_count,
    random_ndcg_at_10,
    verdict,
)


def test_verdict_contract(capsys):
    assert verdict(None, False, "yes", "a hint") is False
    assert verdict(..., False, "yes", "a hint") is False
    assert "[NOT ANSWERED YET] a hint" in capsys.readouterr().out
    assert verdict(3, True, "yes", "a hint") is True
    with pytest.raises(ExerciseError, match="a hint"):
        verdict(3, False, "yes", "a hint")


def test_negatives():
    assert check_negatives(15)
    assert check_negatives(None) is False
    with pytest.raises(ExerciseError, match="micro-batch"):
        check_negatives(63)  # counts the accumulated batch
    with pytest.raises(ExerciseError, match="own chunk"):
        check_negatives(16)  # counts the positive as a negative


def test_loss(bundled_model):
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    dims = [384, 256, 128, 64, 32]
    inner = MultipleNegativesRankingLoss(bundled_model)
    assert check_loss(MatryoshkaLoss(bundled_model, inner, matryoshka_dims=dims), dims)
    assert check_loss(None, dims) is False
    with pytest.raises(ExerciseError, match="outer loss must be a MatryoshkaLoss"):
        check_loss(inner, dims)
    with pytest.raises(ExerciseError, match="missing: \\[384\\]"):  # the published run's mistake
        check_loss(MatryoshkaLoss(bundled_model, inner, matryoshka_dims=[256, 128, 64, 32]), dims)


def test_peak_epoch(tmp_path):
    history = tmp_path / "val_history.csv"
    pd.DataFrame({"epoch": [0.0, 1.0, 2.0, 3.0], "val_mean_ndcg@10": [0.5, 0.62, 0.60, 0.58]}).to_csv(history)
    assert check_peak_epoch(1, history)
    assert check_peak_epoch(None, history) is False
    with pytest.raises(ExerciseError, match="last epoch"):
        check_peak_epoch(3, history)


def test_query_ndcg():
    hits, relevant = ["x", "a", "y", "b"], {"a", "b"}
    right = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert check_query_ndcg(right, hits, relevant)
    assert check_query_ndcg(None, hits, relevant) is False
    with pytest.raises(ExerciseError, match="that is the DCG"):
        check_query_ndcg(1 / math.log2(3) + 1 / math.log2(5), hits, relevant)


def test_worse_count(tmp_path):
    rows = [("base", 64, "q1", 0.5), ("matryoshka", 64, "q1", 0.4), ("base", 64, "q2", 0.5),
            ("matryoshka", 64, "q2", 0.5), ("base", 64, "q3", 0.2), ("matryoshka", 64, "q3", 0.9),
            ("base", 384, "q1", 0.9), ("matryoshka", 384, "q1", 0.1)]
    path = tmp_path / "per_query.csv"
    pd.DataFrame(rows, columns=["system", "dim", "query_id", "ndcg@10"]).to_csv(path, index=False)
    assert check_worse_count(1, path, dim=64)
    assert check_worse_count(None, path, dim=64) is False
    with pytest.raises(ExerciseError, match="ties"):
        check_worse_count(2, path, dim=64)


def test_random_ndcg():
    assert check_random_ndcg(random_ndcg_at_10(12), 12)
    assert check_random_ndcg(None, 12) is False
    with pytest.raises(ExerciseError, match="divided by 10"):
        check_random_ndcg(random_ndcg_at_10(12) * 12 / 10, 12)


def test_hard_negative_candidates():
    assert check_hard_negative_candidates(31)
    assert check_hard_negative_candidates(None) is False
    assert check_hard_negative_candidates(3 * 16 - 1, negatives_per_row=2)
    with pytest.raises(ExerciseError, match="other rows' hard negatives"):
        check_hard_negative_candidates(16)  # only its own negative
    with pytest.raises(ExerciseError, match="own positive"):
        check_hard_negative_candidates(32)
    with pytest.raises(ExerciseError, match="without hard negatives"):
        check_hard_negative_candidates(15)
