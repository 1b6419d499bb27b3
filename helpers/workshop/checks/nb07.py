"""Checkers for the exercises of notebook 07 (indexes)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.workshop.checks.common import as_int, checker, is_blank, verdict


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


@checker("a config name from the `config` column, e.g. 'flat@384'")
def check_index_budget(answer: Any, scale: pd.DataFrame, n_vectors: int = 1_000_000, budget_mib: float = 256,
                       max_p95_ms: float = 5, hint: bool = False):
    """Notebook 07, exercise 3 (optional): the best config (by ndcg@10 at scale) for a memory and latency budget."""
    largest = int(scale.vectors.max())
    task = (f"name the configuration with the best ndcg@10 that serves {n_vectors:,} vectors in {budget_mib:.1f} MiB "
            f"with p95 <= {max_p95_ms} ms")
    if n_vectors == largest:
        advice = (f"use the rows at the largest size ({largest:,} vectors): keep those whose index_mib and p95_ms are "
                  "within both limits, and take the best ndcg@10 among them")
        more = "memory is the index_mib column (re-ranking vectors stay on disk); latency is the p95_ms column"
    else:
        advice = (f"use the rows at the largest size ({largest:,} vectors): scale each index's memory to "
                  f"{n_vectors:,} vectors, keep the rows within both limits, and take the best ndcg@10 among them")
        more = f"memory at {n_vectors:,} = index_mib / {largest:,} * {n_vectors:,}; latency is the p95_ms column"
    best, table = best_index_for_budget(scale, n_vectors, budget_mib, max_p95_ms)
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    if not best:
        return verdict(answer, False, "", "nothing fits this budget at these sizes: loosen it (more MiB or ms).")
    if not isinstance(answer, str):
        return verdict(answer, False, "", "answer the config's name as a string. " + advice, more=more,
                       show_more=hint)
    name = answer.strip()
    if name not in set(table.config):
        return verdict(answer, False, "", f"{name!r} is not in the `config` column at {largest:,} vectors. " + advice,
                       more=more, show_more=hint)
    if name not in best:
        row = table.set_index("config").loc[name]
        why = (f"it does not fit: {row.index_mib_at_n:.0f} MiB, p95 {row.p95_ms:.2f} ms. " if not row.fits
               else f"it fits, but another that fits scores higher than its {row['ndcg@10']:.3f}. ")
        return verdict(answer, False, "", why + advice, more=more, show_more=hint)
    pick = table.set_index("config").loc[name]
    return verdict(
        answer, True,
        f"{name}: ndcg@10 {pick['ndcg@10']:.3f} at {largest:,} vectors, {pick.index_mib_at_n:.0f} MiB for "
        f"{n_vectors:,} vectors, p95 {pick.p95_ms:.2f} ms. Its re-ranking vectors, if any, stay on disk and are read "
        "for the shortlist only.",
        advice,
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


def rescore_recall(enc: Any, multiplier: int, k: int = 10) -> float:
    """Mean recall@k against exact float32 search of the binary index at full dim rescored at full dim."""
    from helpers.deploy.vector_index import recall_against
    from helpers.evaluation.metrics import truncate_normalize
    from helpers.lessons.index_recipes import IndexConfig, build, search

    full = enc.corpus.shape[1]
    corpus = truncate_normalize(enc.corpus, full)
    exact, _ = search(IndexConfig("flat", full), build(IndexConfig("flat", full), corpus), enc.queries, k)
    config = IndexConfig("binary", full, full, multiplier)
    ids, _ = search(config, build(config, corpus), enc.queries, k, corpus)
    return float(recall_against(ids, exact).mean())


@checker("one of the multipliers, e.g. 4")
def check_rescore_multiplier(answer: Any, enc: Any, target: float = 0.95,
                             candidates: tuple[int, ...] = (1, 2, 4, 8, 16), hint: bool = False):
    """Notebook 07, exercise 2: the smallest rescore multiplier reaching ``target`` recall@10 against exact search."""
    full = enc.corpus.shape[1]
    task = (f"find the smallest multiplier in {list(candidates)} whose rescored binary top 10 keeps at least "
            f"{target} of exact search's top 10")
    advice = (f"try the multipliers from the smallest up: search with IndexConfig('binary', {full}, {full}, m), "
              f"compare its top 10 with exact float32 search using recall_against, and stop at the first mean of "
              f"at least {target}")
    more = f"exact search is IndexConfig('flat', {full}); search() returns (ids, scores)"
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    multiplier = as_int(answer)
    if multiplier not in candidates:
        return verdict(answer, False, "", f"{answer!r} is not one of {list(candidates)}. " + advice, more=more,
                       show_more=hint)
    expected = smallest_rescore_multiplier(enc, target, candidates)
    if expected is None:
        return verdict(answer, False, "", f"no multiplier in {list(candidates)} reaches {target} here.")
    recall = rescore_recall(enc, multiplier)
    why = (f"at x{multiplier} the mean recall is {recall:.3f}, under {target}. " if recall < target
           else f"x{multiplier} reaches {recall:.3f}, but a smaller multiplier also reaches {target}. ")
    return verdict(
        answer,
        multiplier == expected,
        f"x{expected}: a shortlist of {10 * expected} binary hits holds {target:.0%} of the exact top 10 here; "
        "a larger corpus has more near-ties and needs a deeper shortlist (see the scale table).",
        why + advice, more=more, show_more=hint,
    )


def funnel_shares(quality: pd.DataFrame, system: str = "matryoshka", kind: str = "binary") -> dict[int, float]:
    """Prefix dim -> share of exact float32 ndcg@10 (full dim) kept by ``system``'s ``kind`` shortlist at that dim
    re-ranked with float32 vectors at full dim (notebook 07's quality table)."""
    own = quality[quality.system == system]
    full = int(own.dim.max())
    exact = float(own.loc[own.config == f"flat@{full}", "ndcg@10"].iloc[0])
    rows = own[(own.kind == kind) & (own.rerank_dim == full)]
    return {int(d): float(v) / exact for d, v in zip(rows.dim, rows["ndcg@10"])}


def smallest_funnel_prefix(quality: pd.DataFrame, share: float = 0.98, system: str = "matryoshka",
                           kind: str = "binary") -> int | None:
    """The smallest prefix whose ``kind`` shortlist, re-ranked at full dim, keeps ``share`` of exact search's
    ndcg@10; None when none does."""
    keeps = funnel_shares(quality, system, kind)
    reached = [d for d, v in keeps.items() if v >= share]
    return min(reached) if reached else None


@checker("one of the prefix dims, e.g. 128")
def check_funnel_prefix(answer: Any, quality: pd.DataFrame, share: float = 0.98, system: str = "matryoshka",
                        hint: bool = False):
    """Notebook 07, exercise 1: the shortest binary prefix whose funnel keeps ``share`` of exact float32 ndcg@10."""
    keeps = funnel_shares(quality, system)
    dims = sorted(keeps)
    full = max(dims)
    task = (f"find the smallest prefix dim whose binary shortlist, re-ranked with all {full} float32 numbers, keeps "
            f"at least {share:.0%} of exact float32 ndcg@10")
    advice = (f"in the quality table, take the {system} rows whose config reads binary@d > f32@{full} (the binary "
              f"shortlist at d dims, re-ranked at {full}) and divide each one's ndcg@10 by flat@{full}'s")
    more = f"the candidate dims are {dims}; the answer is the smallest whose ratio is at least {share}"
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    dim = as_int(answer)
    if dim not in keeps:
        return verdict(answer, False, "", f"{answer!r} is not one of the prefix dims {dims}. " + advice, more=more,
                       show_more=hint)
    expected = smallest_funnel_prefix(quality, share, system)
    if expected is None:
        return verdict(answer, False, "", f"no binary funnel keeps {share:.0%} here: lower the target.")
    wrong = {smallest_funnel_prefix(quality, share, system, "flat"): "that is the answer for the float32 (flat) "
             "shortlists; the question is about binary ones"}
    if "base" in set(quality.system) and system != "base":
        wrong.setdefault(smallest_funnel_prefix(quality, share, "base"), "that is the base model's answer; read the "
                         f"{system} rows")
    if dim in wrong and dim != expected:
        why = wrong[dim] + ". "
    elif keeps[dim] < share:
        why = f"at {dim} dims the funnel keeps {keeps[dim]:.1%}, under {share:.0%}. "
    else:
        why = f"{dim} dims keep {keeps[dim]:.1%}, but a shorter prefix also keeps {share:.0%}. "
    return verdict(
        answer, dim == expected,
        f"{expected} dims: a binary shortlist of {expected // 8} bytes per vector, re-ranked with the full vector, keeps "
        f"{keeps[expected]:.1%} of exact search's ndcg@10 on the course corpus. The scale section shows whether that "
        "holds when the corpus is a crowd of near-ties.",
        why + advice, more=more, show_more=hint,
    )
