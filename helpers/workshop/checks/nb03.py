"""Checkers for the exercises of notebook 03 (training)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from helpers.workshop.checks.common import as_int, as_number, checker, is_blank, verdict, wrong_shape


@checker("a whole number, e.g. 7")
def check_negatives(answer: Any, batch_size: int = 16, accumulation: int = 4, hint: bool = False):
    """03, exercise 2: in-batch negatives per question for a batch size and gradient accumulation."""
    expected = batch_size - 1
    given = as_int(answer)
    advice = "which passages are in the same loss computation as the question, and which one of them is the right answer?"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a whole number")
    elif given == batch_size * accumulation - 1:
        advice = ("gradient accumulation adds up the gradients of separate micro-batches; each question is only "
                  "scored against the passages of its own micro-batch.")
    elif given == batch_size * accumulation:
        advice = ("accumulation does not put micro-batches in one softmax, and one passage per question is not a "
                  "negative.")
    elif given == batch_size:
        advice = "one of the batch's positives is the question's own chunk: it is the right answer, not a negative."
    return verdict(
        answer, given == expected,
        f"{expected}: every other positive in the micro-batch of {batch_size}. Accumulation does not add negatives; "
        "CachedMultipleNegativesRankingLoss does.",
        advice,
        task=f"predict the in-batch negatives per question at batch {batch_size} with accumulation {accumulation}",
        more="section 3 says which passages MultipleNegativesRankingLoss puts in one softmax, and what gradient "
             "accumulation does between optimizer steps",
        show_more=hint,
    )


@checker("a whole number, e.g. 7")
def check_hard_negative_candidates(answer: Any, batch_size: int = 16, negatives_per_row: int = 1,
                                   hint: bool = False):
    """03, exercise 3: wrong passages each question is ranked against when every row carries hard negatives."""
    expected = batch_size * (1 + negatives_per_row) - 1
    given = as_int(answer)
    advice = "how many passages does the batch hold now that every row has a third column, and which are wrong?"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "a whole number")
    elif given == batch_size - 1 + negatives_per_row:
        advice = ("MultipleNegativesRankingLoss ranks each question against every passage of the batch: the other rows' "
                  "hard negatives count too, not only its own.")
    elif given == batch_size * (1 + negatives_per_row):
        advice = "one of the batch's passages is the question's own positive: it is the right answer, not a negative."
    elif given == batch_size - 1:
        advice = "that is the count without hard negatives; each row now brings more passages into the batch."
    return verdict(
        answer, given == expected,
        f"{expected}: {batch_size - 1} other positives and {batch_size * negatives_per_row} hard negatives of the "
        "batch. Each step encodes that many more passages, which is the time hard negatives cost.",
        advice,
        task=f"predict the wrong passages per question at batch {batch_size} with {negatives_per_row} mined "
             "negative(s) per row",
        more="the loss scores each question against a matrix of candidates: one column per passage in the batch "
             "(positives first, then the mined negatives)",
        show_more=hint,
    )


def _loss_problem(loss: Any, dims: list[int]) -> str:
    """Why ``loss`` is not the course's loss ('' when it is)."""
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    if type(loss) is not MatryoshkaLoss:  # a subclass may change what is summed: only the library's own class
        return f"that is a {type(loss).__name__}; the outer loss must be the library's MatryoshkaLoss itself."
    inner = getattr(loss, "loss", None)
    if type(inner) is not MultipleNegativesRankingLoss:  # MNSRL and the sparse loss are subclasses: not this loss
        return (f"the MatryoshkaLoss wraps a {type(inner).__name__}; the course's ranking loss is "
                "MultipleNegativesRankingLoss itself (not a variant or a subclass).")
    given = list(loss.matryoshka_dims)
    if sorted(set(given)) != sorted(set(dims)) or len(given) != len(set(given)):
        missing = sorted(set(dims) - set(given), reverse=True)
        return (f"its dims are {given}, the model's Matryoshka dims are {dims}"
                + (f" (missing: {missing}; the full dim must be trained too)" if missing else "") + ".")
    weights = [as_number(w) for w in loss.matryoshka_weights]
    if any(w is None or w <= 0 for w in weights):
        return (f"its weights {list(loss.matryoshka_weights)} leave a dim untrained (or push it the wrong way): "
                "every dim needs a positive weight; leave the weights out for the course's (all 1).")
    if loss.n_dims_per_step not in (-1, None) and loss.n_dims_per_step < len(given):
        return "n_dims_per_step trains only some dims per step; leave it out so every dim is trained each step."
    return ""


@checker("a loss object built from the model")
def check_loss(loss: Any, dims: list[int], hint: bool = False):
    """03, exercise 1: the library's MatryoshkaLoss around its MultipleNegativesRankingLoss at exactly the model's
    dims, every dim with a positive weight. Other losses, subclasses and degenerate weights are rejected."""
    problem = "" if is_blank(loss) else _loss_problem(loss, dims)
    return verdict(
        loss, not problem,
        f"MatryoshkaLoss(MultipleNegativesRankingLoss) at dims {sorted(dims, reverse=True)}: the same loss "
        "`build_loss` makes.",
        problem or "two losses, one inside the other: the ranking loss of section 3, wrapped by the loss that "
                   "applies it at every dim; each is built from `model`.",
        task="build the course's loss yourself, without build_loss",
        more="both classes are imported in the cell that starts section 1 (`#| export recipe`); the wrapper takes "
             "the model, the inner loss and the list of dims (`dims`)",
        show_more=hint,
    )


@checker("an epoch number, e.g. 2")
def check_peak_epoch(answer: Any, history_csv, hint: bool = False):
    """03, exercise 4: the trained epoch (1 or later) with the highest mean val ndcg@10 in a saved val curve: the
    checkpoint the Trainer keeps. Epoch 0, the model before training, has no checkpoint to keep."""
    history = pd.read_csv(history_csv)
    trained = history[history["epoch"] > 0] if (history["epoch"] > 0).any() else history
    best = trained.loc[trained["val_mean_ndcg@10"].idxmax()]
    start, last = history.iloc[0], history.iloc[-1]
    given = as_number(answer)
    ok = given is not None and math.isclose(given, float(best.epoch))
    advice = "read the mean-over-dims line of the over-fitting plot (or the history's val_mean_ndcg@10 column)"
    if given is None:  # a blank answer keeps the task's hint
        advice = advice if is_blank(answer) else wrong_shape(answer, "an epoch number") + ". " + advice
    elif not ok and given == 0 and len(trained) < len(history):
        advice = ("epoch 0 is the model before training; the Trainer keeps one of the trained epochs' checkpoints. "
                  "Which trained epoch is highest? " + advice)
    elif given is not None and not ok and math.isclose(given, float(last.epoch)):
        advice = "that is the last epoch; is it the highest point of the mean curve? " + advice
    elif given is not None and not ok and not (history["epoch"] == given).any():
        advice = f"{answer!r} is not an epoch of this run (epochs {history['epoch'].tolist()}). " + advice
    beat = best["val_mean_ndcg@10"] > start["val_mean_ndcg@10"]
    return verdict(
        answer, ok,
        f"epoch {best.epoch:g}: mean val ndcg@10 {best['val_mean_ndcg@10']:.3f}, against {start['val_mean_ndcg@10']:.3f} "
        f"before training and {last['val_mean_ndcg@10']:.3f} after the last epoch ({last.epoch:g}). "
        + ("The best trained epoch is above the untrained model." if beat else
           "No trained epoch reached the untrained model's score: on so few pairs this recipe only hurt val."),
        advice,
        task="find the trained epoch at which the over-fitting run's mean val ndcg@10 is highest",
        more="pd.read_csv(OUT / 'overfit' / 'val_history.csv') holds one row per evaluation; epoch 0 is before "
             "training and is not a checkpoint",
        show_more=hint,
    )
