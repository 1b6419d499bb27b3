"""Checkers for the exercises of notebook 03 (training)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from helpers.workshop.checks.common import is_blank, verdict


def check_negatives(answer: int | None, batch_size: int = 16, accumulation: int = 4) -> bool:
    """03, exercise 2: in-batch negatives per question for a batch size and gradient accumulation."""
    expected = batch_size - 1
    if answer == batch_size * accumulation - 1:
        hint = ("gradient accumulation adds up the gradients of separate micro-batches; each question is only "
                "scored against the passages of its own micro-batch.")
    elif answer == batch_size:
        hint = "one of the batch's positives is the question's own chunk: it is the right answer, not a negative."
    else:
        hint = f"a question's negatives are the other positives in its batch of {batch_size}."
    return verdict(
        answer, answer == expected,
        f"{expected}: every other positive in the micro-batch of {batch_size}. Accumulation does not add negatives; "
        "CachedMultipleNegativesRankingLoss does.",
        hint,
    )


def check_hard_negative_candidates(answer: int | None, batch_size: int = 16, negatives_per_row: int = 1) -> bool:
    """03, exercise 3: wrong passages each question is ranked against when every row carries hard negatives."""
    expected = batch_size * (1 + negatives_per_row) - 1
    if answer == batch_size - 1 + negatives_per_row:
        hint = ("MultipleNegativesRankingLoss ranks each question against every passage of the batch: the other rows' "
                "hard negatives count too, not only its own.")
    elif answer == batch_size * (1 + negatives_per_row):
        hint = "one of the batch's passages is the question's own positive: it is the right answer, not a negative."
    elif answer == batch_size - 1:
        hint = "that is the count without hard negatives; each row now brings more passages into the batch."
    else:
        hint = f"count every passage in a batch of {batch_size} rows (positives and negatives), minus the right one."
    return verdict(
        answer, answer == expected,
        f"{expected}: {batch_size - 1} other positives and {batch_size * negatives_per_row} hard negatives of the "
        "batch. Each step encodes that many more passages, which is the time hard negatives cost.",
        hint,
    )


def check_loss(loss: Any, dims: list[int]) -> bool:
    """03, exercise 1: a MatryoshkaLoss around MultipleNegativesRankingLoss at exactly the model's dims."""
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    hint = ("build `MultipleNegativesRankingLoss(model)` and wrap it: `MatryoshkaLoss(model, inner, "
            "matryoshka_dims=dims)`.")
    if not is_blank(loss):
        if not isinstance(loss, MatryoshkaLoss):
            hint = f"that is a {type(loss).__name__}; the outer loss must be a MatryoshkaLoss. " + hint
        elif not isinstance(loss.loss, MultipleNegativesRankingLoss):
            hint = f"the MatryoshkaLoss wraps a {type(loss.loss).__name__}; wrap MultipleNegativesRankingLoss. " + hint
        elif sorted(loss.matryoshka_dims) != sorted(dims):
            missing = sorted(set(dims) - set(loss.matryoshka_dims), reverse=True)
            hint = (f"its dims are {list(loss.matryoshka_dims)}, the model's are {dims}"
                    + (f" (missing: {missing}; the full dim must be trained too)" if missing else "") + ".")
        else:
            hint = ""
    return verdict(
        loss, not hint,
        f"MatryoshkaLoss(MultipleNegativesRankingLoss) at dims {sorted(dims, reverse=True)}: the same loss "
        "`build_loss` makes.",
        hint,
    )


def check_peak_epoch(answer: float | None, history_csv) -> bool:
    """03, exercise 4: the epoch with the highest mean val ndcg@10 in a saved val curve."""

    history = pd.read_csv(history_csv)
    best = history.loc[history["val_mean_ndcg@10"].idxmax()]
    last = history.iloc[-1]
    ok = not is_blank(answer) and math.isclose(float(answer), float(best.epoch))
    hint = ("read the `mean over dims` line (black) or the `val_mean_ndcg@10` column of the history table and "
            "find its highest row.")
    if not is_blank(answer) and math.isclose(float(answer), float(last.epoch)) and not ok:
        hint = "that is the last epoch; the peak comes earlier. " + hint
    return verdict(
        answer, ok,
        f"epoch {best.epoch:g}: mean val ndcg@10 {best['val_mean_ndcg@10']:.3f}, against "
        f"{last['val_mean_ndcg@10']:.3f} after the last epoch ({last.epoch:g}). Training past the peak made the model "
        "worse on new questions.",
        hint,
    )
