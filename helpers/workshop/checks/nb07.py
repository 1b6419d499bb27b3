"""Checkers for the exercises of notebook 07 (indexes)."""

from __future__ import annotations

import numbers
from typing import Any

import pandas as pd

from helpers.workshop.checks.common import is_blank, verdict


def best_index_for_budget(scale: pd.DataFrame, n_vectors: int, budget_mib: float,
                          max_p95_ms: float) -> tuple[set[str], pd.DataFrame]:
    """Notebook 07: at the largest size timed, the configurations with the best ndcg@10 among those whose index,
    scaled to ``n_vectors``, fits ``budget_mib`` and whose p95 latency is at most ``max_p95_ms``."""
    from helpers.deploy.vector_index import budget_table

    table = budget_table(scale, n_vectors, budget_mib, max_p95_ms)
    fits = table[table.fits]
    if fits.empty:
        return set(), table
    best = fits["ndcg@10"].max()
    return set(fits.config[(fits["ndcg@10"] - best).abs() <= 1e-12]), table


def check_index_budget(answer: Any, scale: pd.DataFrame, n_vectors: int = 1_000_000, budget_mib: float = 256,
                       max_p95_ms: float = 5) -> bool:
    """Notebook 07, exercise 1: the best configuration (by ndcg@10 at scale) for a memory and latency budget."""
    largest = int(scale.vectors.max())
    hint = (f"keep the rows of `scale` at {largest:,} vectors whose index_mib / {largest:,} x {n_vectors:,} is at "
            f"most {budget_mib} MiB and whose p95_ms is at most {max_p95_ms}; among them, take the one with the "
            "highest ndcg@10. Answer with its `config` text.")
    best, table = best_index_for_budget(scale, n_vectors, budget_mib, max_p95_ms)
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not best:
        return verdict(answer, False, "", "nothing fits this budget at these sizes: loosen it (more MiB or ms).")
    if isinstance(answer, str) and answer in set(table.config) and answer not in best:
        row = table.set_index("config").loc[answer]
        why = ("it does not fit: " + f"{row.index_mib_at_n:.0f} MiB, p95 {row.p95_ms:.2f} ms. "
               if not row.fits else f"it fits, but another that fits scores higher than its {row['ndcg@10']:.3f}. ")
        return verdict(answer, False, "", why + hint)
    pick = table.set_index("config").loc[sorted(best)[0]]
    return verdict(
        answer,
        isinstance(answer, str) and answer in best,
        f"{answer}: ndcg@10 {pick['ndcg@10']:.3f} at {largest:,} vectors, {pick.index_mib_at_n:.0f} MiB for "
        f"{n_vectors:,} vectors, p95 {pick.p95_ms:.2f} ms. Its re-ranking vectors, if any, stay on disk and are read "
        "for the shortlist only.",
        hint,
    )


def smallest_rescore_multiplier(enc: Any, target: float = 0.95, candidates: tuple[int, ...] = (1, 2, 4, 8, 16),
                                k: int = 10) -> int | None:
    """Notebook 07: the smallest multiplier whose binary-at-full-dim, rescored-at-full-dim top ``k`` has mean
    recall against exact float32 search of at least ``target``."""
    from helpers.deploy.vector_index import recall_against
    from helpers.evaluation.metrics import truncate_normalize
    from helpers.lessons.index_recipes import IndexConfig, build, search

    full = enc.corpus.shape[1]
    corpus = truncate_normalize(enc.corpus, full)
    exact, _ = search(IndexConfig("flat", full), build(IndexConfig("flat", full), corpus), enc.queries, k)
    binary = build(IndexConfig("binary", full), corpus)
    for multiplier in candidates:
        ids, _ = search(IndexConfig("binary", full, full, multiplier), binary, enc.queries, k, corpus)
        if recall_against(ids, exact).mean() >= target:
            return multiplier
    return None


def check_rescore_multiplier(answer: Any, enc: Any, target: float = 0.95,
                             candidates: tuple[int, ...] = (1, 2, 4, 8, 16)) -> bool:
    """Notebook 07, exercise 2: the smallest rescore multiplier reaching ``target`` recall@10 against exact search."""
    hint = (f"for each multiplier m in {list(candidates)}, search with IndexConfig('binary', {enc.corpus.shape[1]}, "
            f"{enc.corpus.shape[1]}, m) and compare its top 10 with IndexConfig('flat', {enc.corpus.shape[1]})'s using "
            f"recall_against; the answer is the first m whose mean is at least {target}.")
    expected = smallest_rescore_multiplier(enc, target, candidates)
    return verdict(
        answer,
        expected is not None and isinstance(answer, numbers.Integral) and int(answer) == expected,
        f"x{expected}: a shortlist of {10 * (expected or 0)} binary hits holds {target:.0%} of the exact top 10 here; "
        "a larger corpus has more near-ties and needs a deeper shortlist (see the scale table).",
        hint,
    )
