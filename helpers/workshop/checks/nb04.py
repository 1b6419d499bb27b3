"""Checkers for the exercises of notebook 04 (evaluation)."""

from __future__ import annotations

import math

import pandas as pd

from helpers.workshop.checks.common import is_blank, verdict


def random_ndcg_at_10(n_chunks: int) -> float:
    """Expected ndcg@10 of a random ranking of ``n_chunks`` with one relevant chunk."""
    return sum(1 / math.log2(rank + 1) for rank in range(1, min(10, n_chunks) + 1)) / n_chunks


def check_random_ndcg(value: float | None, n_chunks: int = 12, corpus_chunks: int | None = None) -> bool:
    """04, exercise 3: the expected ndcg@10 of a random ranker over ``n_chunks`` candidates."""
    expected = random_ndcg_at_10(n_chunks)
    whole = (f"; over the whole corpus of {corpus_chunks} chunks a random ranker scores "
             f"{random_ndcg_at_10(corpus_chunks):.3f}" if corpus_chunks else "")
    ok = not is_blank(value) and math.isclose(float(value), expected, rel_tol=1e-6)
    hint = ("average 1/log2(rank+1) over the ranks 1..10 the relevant chunk can take (ranks 11 and beyond add 0); "
            f"each of the {n_chunks} ranks is equally likely, so divide the sum by {n_chunks}.")
    if not is_blank(value) and math.isclose(float(value), expected * n_chunks / 10, rel_tol=1e-6):
        hint = f"you divided by 10; the relevant chunk can land at any of {n_chunks} ranks. " + hint
    return verdict(
        value, ok,
        f"{expected:.3f}. A random ranker already scores {expected:.2f} when only {n_chunks} chunks compete, so 0.9 "
        f"or 1.0 under that protocol says little{whole}.",
        hint,
    )


def check_query_ndcg(value: float | None, hits: list[str], relevant: set[str], k: int = 10) -> bool:
    """04, exercise 1: ndcg@k of one ranked list, checked with the library's own DCG function."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    flags = [int(h in relevant) for h in hits]
    dcg = InformationRetrievalEvaluator.compute_dcg_at_k(flags, k)
    idcg = InformationRetrievalEvaluator.compute_dcg_at_k([1] * len(relevant), k)
    expected = dcg / idcg
    ok = not is_blank(value) and math.isclose(float(value), expected, abs_tol=1e-9)
    hint = ("DCG: add 1/log2(r+1) for each relevant chunk at rank r <= 10. IDCG: the DCG of the best ranking, all "
            "relevant chunks at ranks 1, 2, ...: add 1/log2(r+1) for r = 1..min(len(relevant), 10). Divide DCG by IDCG.")
    if not is_blank(value) and math.isclose(float(value), dcg, abs_tol=1e-9) and not math.isclose(dcg, expected):
        hint = "that is the DCG; divide it by the ideal DCG. " + hint
    return verdict(value, ok, f"ndcg@{k} = {dcg:.4f} / {idcg:.4f} = {expected:.4f}, as the library computes it.", hint)


def check_worse_count(answer: int | None, per_query_csv, dim: int, system: str = "matryoshka",
                      baseline: str = "base") -> bool:
    """04, exercise 2: how many test questions score a lower ndcg@10 with ``system`` than with ``baseline``."""

    per_query = pd.read_csv(per_query_csv)
    at_dim = per_query[per_query.dim == dim].pivot(index="query_id", columns="system", values="ndcg@10")
    difference = at_dim[system] - at_dim[baseline]
    expected = int((difference < 0).sum())
    hint = (f"keep the rows at dim {dim}, put {system} and {baseline} side by side per query_id (e.g. `pivot`), and "
            "count the questions whose difference is below 0 (a tie is not worse).")
    if answer == int((difference <= 0).sum()) and answer != expected:
        hint = "you counted ties too; a question with the same score did not get worse. " + hint
    return verdict(
        answer, answer == expected,
        f"{expected} of {len(difference)} questions got worse at dim {dim}, {int((difference > 0).sum())} got better.",
        hint,
    )
