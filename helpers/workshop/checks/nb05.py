"""Checkers for the exercises of notebook 05 (dims, precision, budgets)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.workshop.checks.common import as_int, checker, is_blank, verdict


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


def _as_config(answer: Any) -> tuple[str, int, str] | None:
    """``answer`` as (system, dim, precision), the dim possibly a numeric string; None when it is not that shape."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return None
    system, dim, precision = answer
    dim = as_int(dim)
    if not isinstance(system, str) or not isinstance(precision, str) or dim is None:
        return None
    return system.strip(), dim, precision.strip().lower()


@checker("a tuple (system, dim, precision), e.g. ('base', 128, 'float32')")
def check_best_config_within_budget(
    answer: Any,
    quantization_csv: str | Path,
    n_vectors: int = 10_000_000,
    budget_bytes: int = 2**30,
    metric: str = "ndcg@10",
    hint: bool = False,
):
    """Notebook 05: ``answer`` = (system, dim, precision) must be THE best-``metric`` row of the saved quantization
    table among those whose ``n_vectors`` vectors fit in ``budget_bytes``."""
    quant = pd.read_csv(quantization_csv)
    per_vector = budget_bytes / n_vectors
    advice = (f"work out how many bytes one vector may take when {n_vectors:,} of them share "
              f"{budget_bytes / 2**30:.2f} GiB, keep the rows whose `bytes` fit, then take the best {metric}")
    task = (f"pick the (system, dim, precision) with the best {metric} whose {n_vectors:,} vectors fit in "
            f"{budget_bytes / 2**30:.2f} GiB")
    more = f"a GiB is 2**30 bytes; the `bytes` column is per vector; compare bytes * {n_vectors:,} with the budget"
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    config = _as_config(answer)
    if config is None:
        return verdict(answer, False, "", "answer a tuple (system, dim, precision). " + advice, task=task, more=more,
                       show_more=hint)
    system, dim, precision = config
    row = quant[(quant.system == system) & (quant.dim == dim) & (quant.precision == precision)]
    if row.empty:
        return verdict(answer, False, "", (
            f"{answer} is not a row of the table: systems {sorted(set(quant.system))}, dims "
            f"{sorted(set(quant.dim), reverse=True)}, precisions {sorted(set(quant.precision))}."), more=more,
            show_more=hint)
    size, score = int(row["bytes"].iloc[0]), float(row[metric].iloc[0])
    if size * n_vectors > budget_bytes:
        return verdict(answer, False, "", (
            f"{dim} dims in {precision} take {size} bytes per vector, {size * n_vectors / 2**30:.2f} GiB for "
            f"{n_vectors:,} vectors: over the budget. " + advice), more=more, show_more=hint)
    best = best_configs_within_budget(quant, n_vectors, budget_bytes, metric)
    as_gb = best_configs_within_budget(quant, n_vectors, int(budget_bytes / 2**30 * 10**9), metric)  # GiB read as GB
    beaten = (f"{system}, {dim} dims, {precision} fits ({size} bytes per vector, {per_vector:.0f} allowed) with "
              f"{metric} {score:.3f}, but another row that fits scores higher: look at every system and precision.")
    if config in as_gb and config not in best:
        beaten = f"that is the best within 10**9 bytes; a GiB is 2**30 bytes. {beaten}"
    return verdict(
        answer,
        config in best,
        f"{system}, {dim} dims, {precision}: {size} bytes per vector ({size * n_vectors / 2**30:.2f} GiB) and "
        f"{metric} {score:.3f}, the best that fits. " + _budget_lesson(quant, n_vectors, budget_bytes, precision),
        beaten, more=more, show_more=hint,
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


@checker("one of the Matryoshka dims, e.g. 128")
def check_dim_keeping_share(
    answer: Any, per_query_csv: str | Path, system: str = "matryoshka", share: float = 0.95, metric: str = "ndcg@10",
    hint: bool = False,
):
    """Notebook 05: the smallest dim at which ``system`` keeps ``share`` of its full-dim ``metric``
    (notebook 04's per-query results). ``"128"`` passes as 128."""
    per_query = pd.read_csv(per_query_csv)
    means = mean_by_dim(per_query, system, metric)
    full_dim = int(means.index.max())
    dims = sorted(int(d) for d in means.index)
    task = f"predict the smallest dim at which {system} keeps at least {share:.0%} of its full-dim {metric}"
    advice = (f"read the right panel (each model's score over its own full-dim score) for {system}: the answer is "
              f"the smallest dim whose ratio is still at least {share}")
    more = f"the ratio table under the exercise lists the same numbers; the dims are {dims}"
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    dim = as_int(answer)
    if dim is None or dim not in dims:
        return verdict(answer, False, "", f"{answer!r} is not a Matryoshka dim of this model ({dims}). " + advice,
                       task=task, more=more, show_more=hint)
    ratio = means.loc[dim] / means.loc[full_dim]
    if ratio < share:
        return verdict(answer, False, "", f"at dim {dim} {system} keeps {ratio:.1%} of its full-dim {metric}, under "
                                          f"{share:.0%}. " + advice, more=more, show_more=hint)
    expected = smallest_dim_keeping(per_query, system, share, metric)
    others = {s: smallest_dim_keeping(per_query, s, share, metric) for s in set(per_query.system) - {system, "BM25"}}
    column = next((s for s, d in sorted(others.items()) if d == dim and d != expected), None)
    wrong = (f"dim {dim} is the answer for the '{column}' line; read the {system} line" if column else
             f"dim {dim} keeps {ratio:.1%}, but a smaller dim also keeps {share:.0%}. " + advice)
    return verdict(
        answer,
        dim == expected,
        f"dim {expected} keeps {ratio:.1%} of the full-dim {metric} with {expected} of {full_dim} numbers per "
        "vector. The ratio is a point estimate: read it with the confidence bands before promising it to anyone.",
        wrong, more=more, show_more=hint,
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


def _as_dims(answer: Any) -> set[int] | None:
    """``answer`` as a set of whole numbers (a set, list or tuple; numeric strings allowed), else None."""
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, (set, frozenset, list, tuple)):
        return None
    dims = {as_int(d) for d in answer}
    return None if None in dims else dims


@checker("a set of dims, e.g. {384, 64}, or set()")
def check_paired_difference_dims(
    answer: Any,
    bootstrap_csv: str | Path,
    per_query_csv: str | Path,
    system: str = "matryoshka",
    baseline: str = "base",
    metric: str = "ndcg@10",
    hint: bool = False,
):
    """Notebook 05: the set of dims where the paired interval of (``system`` - ``baseline``) excludes 0 (the clustered
    rows of ``bootstrap.csv``)."""
    task = f"list the dims where the paired 95% interval of {system} − {baseline} excludes 0"
    advice = (f"use the rows {system} − {baseline} of the paired table; a dim counts when its whole interval "
              "[ci_low, ci_high] lies on one side of 0")
    more = "answer a set of ints; set() when no interval excludes 0"
    if is_blank(answer):
        return verdict(answer, False, "", advice, task=task, more=more, show_more=hint)
    chosen = _as_dims(answer)
    if chosen is None:
        return verdict(answer, False, "", "answer a set of dims. " + advice, task=task, more=more, show_more=hint)
    table = pd.read_csv(bootstrap_csv)
    expected = dims_with_paired_difference(table, system, baseline, metric)
    if chosen != expected:
        naive = table[table.unit == "question"] if "unit" in table else table.iloc[0:0]
        by_question = dims_with_paired_difference(naive, system, baseline, metric) if not naive.empty else None
        extra = sorted(chosen - expected, reverse=True)
        if by_question is not None and chosen == by_question != expected:
            why = ("those are the rows that resample single questions (unit 'question'); read the rows resampled by "
                   "test chunk, as the table above shows them. ")
        elif extra:
            why = f"at dim {extra[0]} the interval contains 0, or that dim was not evaluated. "
        else:
            why = "a dim whose interval lies clear of 0 is missing. "
        return verdict(answer, False, "", why + advice, more=more, show_more=hint)
    overlap = expected & dims_with_overlapping_bands(pd.read_csv(per_query_csv), system, baseline, metric)
    return verdict(
        answer,
        True,
        f"{len(expected)} dim(s) {sorted(expected, reverse=True)} show a difference the test set supports; at "
        f"{len(overlap)} of them {sorted(overlap, reverse=True)} the per-system bands of the first plot overlap "
        "anyway. Both systems answer the same questions, so the paired interval removes the question-to-question "
        "spread that widens each band: overlapping bands do not mean 'no difference'.",
        advice,
    )
