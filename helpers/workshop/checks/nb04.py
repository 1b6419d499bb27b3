"""Checkers for the exercises of notebook 04 (evaluation)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from helpers.workshop.checks.common import (
    ExerciseError,
    as_int,
    as_number,
    checker,
    close_enough,
    describe,
    is_blank,
    method_hint,
    verdict,
)


def require_number(answer: Any, expects: str, whole: bool = False) -> None:
    """Stop with what was expected when a non-blank ``answer`` is not a number (or not a whole number): a list or a
    word gets that message, not a hint about a method it never used."""
    if not is_blank(answer) and (as_int(answer) if whole else as_number(answer)) is None:
        raise ExerciseError(f"[TRY AGAIN] expected {expects}; got {describe(answer)}")


def random_ndcg_at_10(n_chunks: int) -> float:
    """Expected ndcg@10 of a random ranking of ``n_chunks`` with one relevant chunk."""
    return sum(1 / math.log2(rank + 1) for rank in range(1, min(10, n_chunks) + 1)) / n_chunks


@checker("a number between 0 and 1, e.g. 0.25")
def check_random_ndcg(value: Any, n_chunks: int = 12, corpus_chunks: int | None = None, hint: bool = False):
    """04, exercise 3: the expected ndcg@10 of a random ranker over ``n_chunks`` candidates (rounded answers pass)."""
    require_number(value, "a number between 0 and 1, e.g. 0.25")
    expected = random_ndcg_at_10(n_chunks)
    whole = (f"; over the whole corpus of {corpus_chunks} chunks a random ranker scores "
             f"{random_ndcg_at_10(corpus_chunks):.3f}" if corpus_chunks else "")
    every_rank = sum(1 / math.log2(rank + 1) for rank in range(1, n_chunks + 1)) / n_chunks
    wrong = {
        expected * n_chunks / 10: f"you divided by 10; the relevant chunk can land at any of the {n_chunks} ranks, "
                                  "each as likely as the others",
        every_rank: "ranks beyond the tenth count for nothing in ndcg@10; leave them out of the sum",
        1 / n_chunks: "that is only the chance of rank 1; every rank up to 10 earns something",
    }
    advice = ("the answer is an average over the ranks the relevant chunk can take, each equally likely; with one "
              "relevant chunk the ideal DCG is 1, so ndcg@10 at a rank is that rank's gain (0 beyond rank 10)")
    return verdict(
        value, close_enough(value, expected),
        f"{expected:.3f}. A random ranker already scores {expected:.2f} when only {n_chunks} chunks compete, so 0.9 "
        f"or 1.0 under that protocol says little{whole}.",
        method_hint(value, wrong, advice) if as_number(value) is not None else advice,
        task=f"compute the mean ndcg@10 of a random ranking of {n_chunks} chunks, one of them relevant",
        more="add the gain 1/log2(r + 1) of each rank r that ndcg@10 counts, then divide by the number of ranks the "
             "chunk can take",
        show_more=hint,
    )


def _ndcg(flags: list[int], n_relevant: int, k: int, cut: int | None = None) -> tuple[float, float]:
    """DCG of ``flags`` (1 = relevant) over the top ``cut`` ranks (default ``k``) and the ideal DCG at ``k``."""
    cut = k if cut is None else cut
    dcg = sum(1 / math.log2(rank + 1) for rank, flag in enumerate(flags[:cut], start=1) if flag)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(n_relevant, k) + 1))
    return dcg, ideal


@checker("a number between 0 and 1, e.g. 0.5")
def check_query_ndcg(value: Any, hits: list[str], relevant: set[str], k: int = 10, hint: bool = False):
    """04, exercise 1: ndcg@k of one ranked list, checked with the library's own DCG function."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    require_number(value, "a number between 0 and 1, e.g. 0.5")
    flags = [int(h in relevant) for h in hits]
    dcg = InformationRetrievalEvaluator.compute_dcg_at_k(flags, k)
    idcg = InformationRetrievalEvaluator.compute_dcg_at_k([1] * len(relevant), k)
    expected = dcg / idcg
    every = _ndcg(flags, len(relevant), k, cut=len(flags))
    found = _ndcg(flags, sum(flags), k)
    methods = (
        (found[0] / found[1] if found[1] else 0.0, "the ideal DCG counts every relevant chunk of the question "
                                                    "(len(relevant)), not only those the ranking found"),
        (every[0] / every[1], f"only the top {k} count: leave out relevant chunks ranked below {k}"),
        (dcg, "that is the DCG; divide it by the ideal DCG"),
    )
    wrong = {score: why for score, why in methods if not close_enough(score, expected)}
    advice = ("ndcg@10 is DCG / IDCG: the DCG of this ranking over the DCG of the best possible ranking of the same "
              "relevant chunks (figure 4.1 scores one list)")
    return verdict(
        value, close_enough(value, expected),
        f"ndcg@{k} = {dcg:.4f} / {idcg:.4f} = {expected:.4f}, as the library computes it.",
        method_hint(value, wrong, advice) if as_number(value) is not None else advice,
        task=f"compute this question's ndcg@{k} from `ranks` and `len(relevant)`, without ndcg_at_k",
        more=f"a relevant chunk at rank r <= {k} adds 1/log2(r + 1) to the DCG; the ideal DCG adds the same for "
             f"r = 1 .. min(len(relevant), {k})",
        show_more=hint,
    )


@checker("a whole number of questions, e.g. 12")
def check_worse_count(answer: Any, per_query_csv, dim: int, system: str = "matryoshka", baseline: str = "base",
                      hint: bool = False):
    """04, exercise 2: how many test questions score a lower ndcg@10 with ``system`` than with ``baseline``."""
    require_number(answer, "a whole number of questions, e.g. 12", whole=True)
    per_query = pd.read_csv(per_query_csv)

    def differences(at: pd.DataFrame) -> pd.Series:
        wide = at.pivot_table(index=["dim", "query_id"], columns="system", values="ndcg@10")
        return wide[system] - wide[baseline]

    at_dim = differences(per_query[per_query.dim == dim])
    expected = int((at_dim < 0).sum())
    every_dim = differences(per_query[per_query.dim > 0])
    count = as_int(answer)
    wrong = [
        (int((at_dim <= 0).sum()), "you counted ties too; a question with the same score did not get worse"),
        (int((at_dim > 0).sum()), "you counted the questions that got better"),
        (int((every_dim < 0).sum()), f"you counted over every dim; keep the rows at dim {dim} only"),
    ]
    advice = (f"compare {system} and {baseline} question by question at dim {dim} and count the questions whose "
              f"ndcg@10 is lower with {system}")
    method = next((why for value, why in wrong if count == value and value != expected), advice)
    return verdict(
        answer, count == expected,
        f"{expected} of {len(at_dim)} questions got worse at dim {dim}, {int((at_dim > 0).sum())} got better.",
        method,
        task=f"count the test questions whose ndcg@10 at dim {dim} is lower with the fine-tune than with the base model",
        more="put the two systems side by side, one row per query_id (DataFrame.pivot), subtract, and count the "
             "negative differences (a tie is not worse)",
        show_more=hint,
    )
