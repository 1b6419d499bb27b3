"""Checkers for the exercises of notebook 05 (dims, precision, budgets)."""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.workshop.checks.common import is_blank, verdict


def configs_within_budget(quant: pd.DataFrame, n_vectors: int, budget_bytes: int) -> pd.DataFrame:
    """The rows of notebook 05's quantization table whose ``n_vectors`` vectors fit in ``budget_bytes``."""
    return quant[quant["bytes"] * n_vectors <= budget_bytes]


def best_configs_within_budget(
    quant: pd.DataFrame, n_vectors: int, budget_bytes: int, metric: str = "ndcg@10"
) -> set[tuple[str, int, str]]:
    """Every (system, dim, precision) that fits and has the best ``metric`` among those that fit (ties kept)."""
    fits = configs_within_budget(quant, n_vectors, budget_bytes)
    if fits.empty:
        return set()
    best = fits[metric].max()
    top = fits[[math.isclose(v, best, abs_tol=1e-12) for v in fits[metric]]]
    return {(str(r.system), int(r.dim), str(r.precision)) for r in top.itertuples()}


def check_best_config_within_budget(
    answer: Any,
    quantization_csv: str | Path,
    n_vectors: int = 10_000_000,
    budget_bytes: int = 2**30,
    metric: str = "ndcg@10",
) -> bool:
    """Notebook 05: ``answer`` = (system, dim, precision) must be THE best-``metric`` row of the saved quantization
    table among those whose ``n_vectors`` vectors fit in ``budget_bytes``."""
    quant = pd.read_csv(quantization_csv)
    per_vector = budget_bytes / n_vectors
    hint = (f"{n_vectors:,} vectors in {budget_bytes / 2**30:.2f} GiB leave {per_vector:.0f} bytes per vector: keep "
            f"the rows of the table whose `bytes` fit, then take the one with the highest {metric}; answer "
            "(system, dim, precision), e.g. ('base', 128, 'float32').")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not (isinstance(answer, tuple | list) and len(answer) == 3):
        return verdict(answer, False, "", "answer a tuple (system, dim, precision). " + hint)
    system, dim, precision = answer
    row = quant[(quant.system == system) & (quant.dim == dim) & (quant.precision == precision)]
    if row.empty:
        return verdict(answer, False, "", (
            f"{answer} is not a row of the table: systems {sorted(set(quant.system))}, dims "
            f"{sorted(set(quant.dim), reverse=True)}, precisions {sorted(set(quant.precision))}."))
    size, score = int(row["bytes"].iloc[0]), float(row[metric].iloc[0])
    if size * n_vectors > budget_bytes:
        return verdict(answer, False, "", (
            f"{dim} dims in {precision} take {size} bytes per vector, {size * n_vectors / 2**30:.2f} GiB for "
            f"{n_vectors:,} vectors: over the budget of {budget_bytes / 2**30:.2f} GiB ({per_vector:.0f} bytes "
            "per vector). " + hint))
    best = best_configs_within_budget(quant, n_vectors, budget_bytes, metric)
    return verdict(
        answer,
        (system, int(dim), precision) in best,
        f"{system}, {dim} dims, {precision}: {size} bytes per vector ({size * n_vectors / 2**30:.2f} GiB) and "
        f"{metric} {score:.3f}, the best that fits. " + _budget_lesson(quant, n_vectors, budget_bytes, precision),
        f"{system}, {dim} dims, {precision} fits ({size} bytes per vector) with {metric} {score:.3f}, but another "
        "row that fits scores higher. " + hint,
    )


def _budget_lesson(quant: pd.DataFrame, n_vectors: int, budget_bytes: int, precision: str) -> str:
    """What the best configuration within a budget teaches, in one sentence."""
    fitting_float32 = configs_within_budget(quant[quant.precision == "float32"], n_vectors, budget_bytes)
    if fitting_float32.empty:
        return (f"No float32 row fits at any dim: truncation alone cannot meet this budget, truncation and "
                f"{precision} together can.")
    return "Compare it with the float32 rows that fit: fewer dims at full precision is not always the better trade."


def mean_by_dim(per_query: pd.DataFrame, system: str, metric: str = "ndcg@10") -> pd.Series:
    """Mean ``metric`` of one system per Matryoshka dim (BM25's dim 0 left out)."""
    rows = per_query[(per_query.system == system) & (per_query.dim > 0)]
    return rows.groupby("dim")[metric].mean()


def smallest_dim_keeping(per_query: pd.DataFrame, system: str, share: float = 0.95, metric: str = "ndcg@10") -> int:
    """The smallest dim whose mean ``metric`` is at least ``share`` of the system's own full-dim mean."""
    means = mean_by_dim(per_query, system, metric)
    full = means.loc[means.index.max()]
    return int(means[means >= share * full].index.min())


def check_dim_keeping_share(
    answer: Any, per_query_csv: str | Path, system: str = "matryoshka", share: float = 0.95, metric: str = "ndcg@10"
) -> bool:
    """Notebook 05: the smallest dim at which ``system`` keeps ``share`` of its full-dim ``metric``
    (notebook 04's per-query results)."""
    means = mean_by_dim(pd.read_csv(per_query_csv), system, metric)
    full_dim = int(means.index.max())
    hint = (f"in the ratio table, read the column '{system}' from the bottom (smallest dim) up and stop at the first "
            f"dim whose ratio to full dim is at least {share}; answer that dim, one of {sorted(means.index)}.")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not isinstance(answer, numbers.Real) or answer not in set(means.index):
        return verdict(answer, False, "", f"{answer!r} is not a Matryoshka dim of this model. " + hint)
    answer = int(answer)
    expected = smallest_dim_keeping(pd.read_csv(per_query_csv), system, share, metric)
    ratio = means.loc[answer] / means.loc[full_dim]
    if ratio < share:
        return verdict(answer, False, "", f"at dim {answer} {system} keeps {ratio:.1%} of its full-dim {metric}, "
                                          f"under {share:.0%}. " + hint)
    return verdict(
        answer,
        answer == expected,
        f"dim {expected} keeps {ratio:.1%} of the full-dim {metric} with {expected} of {full_dim} numbers per "
        "vector. The ratio is a point estimate: read it with the confidence bands before promising it to anyone.",
        f"dim {answer} keeps {ratio:.1%}, but a smaller dim also keeps {share:.0%}. " + hint,
    )


def dims_with_paired_difference(
    bootstrap: pd.DataFrame, system: str, baseline: str, metric: str = "ndcg@10"
) -> set[int]:
    """Dims where notebook 04's paired 95% interval of (system - baseline) excludes 0 (the clustered intervals,
    test chunks resampled with all their questions, when the table has them)."""
    from helpers.evaluation.metrics import clustered_rows

    bootstrap = clustered_rows(bootstrap)
    rows = bootstrap[(bootstrap.system == system) & (bootstrap.baseline == baseline) & (bootstrap.metric == metric)]
    return {int(r.dim) for r in rows.itertuples() if r.ci_low > 0 or r.ci_high < 0}


def dims_with_overlapping_bands(per_query: pd.DataFrame, system: str, baseline: str, metric: str = "ndcg@10") -> set[int]:
    """Dims where the per-system 95% bands of notebook 05's first plot overlap (same bootstrap, same seed)."""
    from helpers.evaluation.plots import ndcg_by_dim

    pair = per_query[per_query.system.isin([system, baseline]) & (per_query.dim > 0)]
    if set(pair.system) != {system, baseline}:
        return set()
    bands = ndcg_by_dim(pair, metric).set_index(["system", "dim"])
    dims = {int(d) for d in bands.loc[system].index} & {int(d) for d in bands.loc[baseline].index}
    return {d for d in dims if bands.loc[(system, d), "ci_low"] <= bands.loc[(baseline, d), "ci_high"]
            and bands.loc[(baseline, d), "ci_low"] <= bands.loc[(system, d), "ci_high"]}


def check_paired_difference_dims(
    answer: Any,
    bootstrap_csv: str | Path,
    per_query_csv: str | Path,
    system: str = "matryoshka",
    baseline: str = "base",
    metric: str = "ndcg@10",
) -> bool:
    """Notebook 05: the set of dims where the paired interval of (``system`` - ``baseline``) excludes 0."""
    hint = (f"in the table of paired differences, keep the rows {system} − {baseline}; a dim belongs to the answer "
            "when its interval [ci_low, ci_high] does not contain 0 (both ends above 0, or both below). Answer a set "
            "of dims, e.g. {384, 64}, or set() if there is none.")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    try:
        chosen = {int(d) for d in answer}
    except (TypeError, ValueError):
        return verdict(answer, False, "", hint)
    expected = dims_with_paired_difference(pd.read_csv(bootstrap_csv), system, baseline, metric)
    if chosen != expected:
        extra, missing = sorted(chosen - expected, reverse=True), sorted(expected - chosen, reverse=True)
        detail = (f"at dim {extra[0]} the interval contains 0 (or that dim was not evaluated). " if extra
                  else f"{len(missing)} dim(s) with an interval clear of 0 are missing. ")
        return verdict(answer, False, "", detail + hint)
    overlap = expected & dims_with_overlapping_bands(pd.read_csv(per_query_csv), system, baseline, metric)
    return verdict(
        answer,
        True,
        f"{len(expected)} dim(s) {sorted(expected, reverse=True)} show a difference the test set supports; at "
        f"{len(overlap)} of them {sorted(overlap, reverse=True)} the per-system bands of the first plot overlap "
        "anyway. Both systems answer the same questions, so the paired interval removes the question-to-question "
        "spread that widens each band: overlapping bands do not mean 'no difference'.",
        hint,
    )
