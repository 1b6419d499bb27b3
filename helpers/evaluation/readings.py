"""Readings: what the result tables of notebooks 04, 05 and 07 say, written as sentences from the files themselves.

A notebook that types "the fine-tune wins at every dim" goes stale the day a recipe changes. These functions read
the tables (``summary.csv``, ``per_query.csv`` and the clustered rows of ``bootstrap.csv`` from notebook 04,
``quantization.csv`` from 05, ``index_quality.csv`` and ``index_scale.csv`` from 07) and say in words what they show,
so the words change with the numbers. A difference is called real only where its paired 95% interval, resampled by
test chunk, excludes 0; otherwise the sentence says the test set cannot tell the two apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from helpers.evaluation.metrics import clustered_rows, paired_bootstrap

BM25 = "BM25"
NAMES = {"base": "the base model", "matryoshka": "the Matryoshka fine-tune", "mnrl": "the plain-MNRL fine-tune",
         BM25: "BM25"}
MIN_SPEED_UP, MIN_RECALL = 10.0, 0.95  # what "fast and close to exact" means in notebook 07 (the README's goals)


def name_of(system: str) -> str:
    """A system's name in a sentence ("matryoshka+bm25" -> "the hybrid of the Matryoshka fine-tune and BM25")."""
    if system.endswith("+bm25"):
        return f"the hybrid of {NAMES.get(system.removesuffix('+bm25'), system.removesuffix('+bm25'))} and BM25"
    return NAMES.get(system, system)


def sentence_case(text: str) -> str:
    """``text`` with its first letter upper-cased (``str.capitalize`` would lower the rest: "MNRL" -> "mnrl")."""
    return text[:1].upper() + text[1:]


def listing(items: Iterable) -> str:
    """``[384, 256, 64]`` -> "384, 256 and 64"."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1] if words else ""


def interval(difference: float, low: float, high: float) -> str:
    """A difference with its 95% interval: "+0.051 [+0.016, +0.090]"."""
    return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]"


def bm25_comparisons(per_query: pd.DataFrame, clusters: Mapping[str, str] | None, seed: int = 0,
                     metric: str = "ndcg@10") -> pd.DataFrame:
    """Paired intervals of every dense (or hybrid) system at each dim against BM25, which has no dim (``dim`` 0):
    BM25's per-question scores are paired with each dim's, resampled by ``clusters`` as ``bootstrap.csv`` is."""
    bm25 = per_query[per_query.system == BM25]
    dense = per_query[(per_query.system != BM25) & (per_query.dim > 0)]
    if bm25.empty or dense.empty:
        return pd.DataFrame()
    copies = [bm25.assign(dim=d) for d in sorted(set(dense.dim))]  # the same BM25 ranking at every dim
    return paired_bootstrap(pd.concat([dense, *copies], ignore_index=True), baseline=BM25, metrics=(metric,),
                            seed=seed, clusters=clusters)


def comparisons(summary: pd.DataFrame, bootstrap: pd.DataFrame, per_query: pd.DataFrame | None = None,
                clusters: Mapping[str, str] | None = None, seed: int = 0, metric: str = "ndcg@10") -> pd.DataFrame:
    """One row per (system, baseline, dim): both means, the difference and its clustered 95% interval.

    Rows come from ``bootstrap.csv``'s clustered intervals; each system the file does not compare with BM25 gets that
    comparison from ``per_query`` (same resampling, ``clusters``). ``source`` says which.
    """
    rows = clustered_rows(bootstrap)
    rows = rows[rows.metric == metric].assign(source="bootstrap.csv")
    if per_query is not None:  # BM25 against the systems bootstrap.csv does not compare with it
        has_bm25 = set(rows.system[rows.baseline == BM25])
        extra = bm25_comparisons(per_query[~per_query.system.isin(has_bm25)], clusters, seed, metric)
        if not extra.empty:
            rows = pd.concat([rows, extra.assign(source="computed here from per_query.csv")], ignore_index=True)
    means = summary.set_index(["system", "dim"])[metric]
    bm25_mean = means.get((BM25, 0))

    def mean_of(system: str, dim: int) -> float:
        return bm25_mean if system == BM25 else means.get((system, dim), float("nan"))

    rows = rows.assign(
        mean=[mean_of(s, d) for s, d in zip(rows.system, rows.dim)],
        baseline_mean=[mean_of(b, d) for b, d in zip(rows.baseline, rows.dim)],
    )
    columns = ["system", "baseline", "dim", "mean", "baseline_mean", "difference", "ci_low", "ci_high",
               "significant", "source"]
    return rows[columns].sort_values(["system", "baseline", "dim"], ascending=[True, True, False]).reset_index(drop=True)


def compare_sentence(rows: pd.DataFrame, system: str, baseline: str) -> str:
    """One sentence for ``system`` against ``baseline`` over every dim: where it is ahead or behind with an interval
    clear of 0, and where the interval includes 0."""
    rows = rows[(rows.system == system) & (rows.baseline == baseline)].sort_values("dim", ascending=False)
    if rows.empty:
        return ""
    ahead = rows[rows.significant & (rows.difference > 0)]
    behind = rows[rows.significant & (rows.difference < 0)]
    unclear = rows[~rows.significant.astype(bool)]

    def dims_with(part: pd.DataFrame) -> str:
        every = len(part) == len(rows) and len(rows) > 1
        shown = listing(f"{int(r.dim)} ({interval(r.difference, r.ci_low, r.ci_high)})" for r in part.itertuples())
        return ("every dim: " if every else "") + shown

    parts = []
    if len(ahead):
        parts.append(f"ahead, with the interval above 0, at {dims_with(ahead)}")
    if len(behind):
        parts.append(f"behind, with the interval below 0, at {dims_with(behind)}")
    if len(unclear):
        parts.append(f"not measurably different (the interval includes 0) at {dims_with(unclear)}")
    return f"{sentence_case(name_of(system))} against {name_of(baseline)}: " + "; ".join(parts) + "."


def read_evaluation(rows: pd.DataFrame, system: str = "matryoshka") -> list[str]:
    """Notebook 04's reading: ``system`` against the base model, plain MNRL and BM25, then ``system``'s hybrid with
    BM25 against each baseline it has rows for, each dim with its difference and clustered 95% interval (from
    :func:`comparisons`)."""
    lines = []
    for baseline in ("base", "mnrl", BM25):
        if baseline != system:
            lines.append(compare_sentence(rows, system, baseline))
    bm25 = rows[rows.baseline == BM25]
    if not bm25.empty:
        lines.append(f"BM25 has no dim: it scores {bm25.baseline_mean.iloc[0]:.3f} whatever the dim of the others.")
    hybrids = sorted(s for s in set(rows.system) if s.endswith("+bm25"))
    own = f"{system}+bm25"  # the hybrid of this system; notebook 04's hybrid section reads the others
    for baseline in sorted(set(rows[rows.system == own].baseline)):
        lines.append(compare_sentence(rows, own, baseline))
    for other in sorted(set(rows.system) - {system, *hybrids}):  # e.g. plain MNRL against the base model
        lines.append(compare_sentence(rows, other, "base"))
    return [line for line in lines if line]


def kept_shares(summary: pd.DataFrame, metric: str = "ndcg@10") -> pd.DataFrame:
    """Each dense system's mean ``metric`` at every dim divided by its own full-dim mean (rows: dims)."""
    dense = summary[summary.dim > 0].pivot(index="dim", columns="system", values=metric).sort_index(ascending=False)
    return dense / dense.iloc[0]


def read_dims(summary: pd.DataFrame, rows: pd.DataFrame | None = None, share: float = 0.95,
              metric: str = "ndcg@10") -> list[str]:
    """Notebook 05's reading of quality against dim: what share of its full-dim score each system keeps, the smallest
    dim keeping ``share``, and where Matryoshka and plain MNRL differ with an interval clear of 0."""
    kept = kept_shares(summary, metric)
    full, smallest = int(kept.index.max()), int(kept.index.min())
    lines = []
    for system in [s for s in ("matryoshka", "mnrl", "base") if s in kept] + sorted(set(kept) - set(NAMES)):
        keeps = kept[system]
        enough = keeps[keeps >= share]
        shares = listing(f"{v:.0%} at {d}" for d, v in keeps.iloc[1:].items())
        lines.append(f"{sentence_case(name_of(system))} keeps {shares} dims of its {full}-dim {metric}; the smallest "
                     f"dim keeping {share:.0%} is {int(enough.index.min())}.")
    if rows is not None and {"matryoshka", "mnrl"} <= set(kept):
        lines.append(compare_sentence(rows, "matryoshka", "mnrl"))
        at_small = summary.set_index(["system", "dim"])[metric]
        lines.append(f"At {smallest} dims: Matryoshka {at_small[('matryoshka', smallest)]:.3f}, plain MNRL "
                     f"{at_small[('mnrl', smallest)]:.3f}, base {at_small.get(('base', smallest), float('nan')):.3f}.")
    return lines


def bytes_front(quant: pd.DataFrame, metric: str = "ndcg@10") -> pd.DataFrame:
    """The rows of a quantization table (or any table with ``bytes``) that no other row beats on both fewer or equal
    bytes and a higher ``metric``: the configurations worth considering, cheapest first."""
    ordered = quant.sort_values(["bytes", metric], ascending=[True, False])
    best, keep = float("-inf"), []
    for index, value in zip(ordered.index, ordered[metric]):
        if value > best:
            keep.append(index)
            best = value
    return ordered.loc[keep]


def read_precision(quant: pd.DataFrame, system: str = "matryoshka", metric: str = "ndcg@10") -> list[str]:
    """Notebook 05's reading of quality against bytes for ``system``: what int8 and binary cost next to float32, which
    configurations form the front, and at equal bytes whether more dims at lower precision beat fewer at float32."""
    own = quant[quant.system == system]
    by = own.pivot(index="dim", columns="precision", values=metric).sort_index(ascending=False)
    lines = []
    for precision in [p for p in ("int8", "binary") if p in by]:
        gap = by[precision] - by["float32"]
        lines.append(f"{precision} against float32 for {name_of(system)}: {gap.min():+.3f} to {gap.max():+.3f} "
                     f"{metric} over dims {listing(int(d) for d in by.index)}.")
    def steps(front: pd.DataFrame, named: bool) -> str:
        return listing(f"{int(r.dim)} dims {r.precision}{' of ' + name_of(r.system) if named else ''} "
                       f"({int(r.bytes)} B, {r[metric]:.3f})" for _, r in front.iterrows())

    lines.append(f"Among {name_of(system)}'s own configurations, cheapest to best, those no other of them beats on "
                 f"both bytes and {metric}: {steps(bytes_front(own, metric), named=False)}.")
    if quant.system.nunique() > 1:  # another system may beat it at some budgets: the front over every system says so
        front = bytes_front(quant, metric)
        others = front[front.system != system]
        verdict = (f"{name_of(system)} holds every step" if others.empty else
                   f"{len(others)} of its {len(front)} steps {'belongs' if len(others) == 1 else 'belong'} to "
                   f"another system than {name_of(system)}")
        lines.append(f"Over every system together, the front is: {steps(front, named=True)}; {verdict}. These are single "
                     "means without intervals: a gap of a few thousandths between two systems is within what notebook "
                     "04's intervals call noise.")
    for size, group in own.groupby("bytes"):
        if group.precision.nunique() > 1:
            ranked = group.sort_values(metric, ascending=False)
            top, other = ranked.iloc[0], ranked.iloc[1]
            lines.append(f"For {name_of(system)} at {int(size)} bytes per vector, {int(top.dim)} dims {top.precision} "
                         f"({top[metric]:.3f}) beats {int(other.dim)} dims {other.precision} ({other[metric]:.3f}).")
    return lines


def two_stage(table: pd.DataFrame, matryoshka: bool = False) -> pd.Series:
    """Rows of an index table that shortlist and then re-rank with float32 vectors; with ``matryoshka``, only those
    whose shortlist uses a shorter prefix than the re-ranking (the Matryoshka funnel)."""
    stages = table.rerank_dim.notna()
    return stages & (table.rerank_dim > table.dim) if matryoshka else stages


def read_deployment(quality: pd.DataFrame, scale: pd.DataFrame, system: str = "matryoshka",
                    metric: str = "ndcg@10") -> list[str]:
    """Notebook 07's reading: what quantized indexes keep on the real corpus, what is fast and close to exact at the
    largest size timed, and which configuration wins each memory and latency budget there."""
    own = quality[quality.system == system].set_index("config")
    full = int(own.dim.max())
    flat = own.loc[f"flat@{full}", metric]
    lines = []
    for config in (f"int8@{full}", f"binary@{full}", f"binary@{full} > f32@{full} x4"):
        if config in own.index:
            lines.append(f"On the course corpus, {config} keeps {own.loc[config, metric] / flat:.1%} of exact float32 "
                         f"{metric} ({own.loc[config, metric]:.3f} against {flat:.3f}).")
    funnels = own[two_stage(own, matryoshka=True)]
    if not funnels.empty:
        shares = funnels[metric] / flat
        lines.append(f"The Matryoshka funnels there (a short prefix shortlists, the full vector re-ranks) keep "
                     f"{shares.min():.1%} ({shares.idxmin()}) to {shares.max():.1%} ({shares.idxmax()}).")
    largest = scale[scale.vectors == scale.vectors.max()].copy()
    size = int(largest.vectors.iloc[0])
    exact = largest.iloc[0]  # scale_benchmark times exact float32 search at full dim first
    lines.append(f"At {size:,} vectors (the real chunks among synthetic distractors), exact search ({exact.config}) "
                 f"takes {exact.p50_ms:.2f} ms per query (p50).")
    close = largest[(largest["recall@10_vs_exact"] >= MIN_RECALL) & (largest.index != exact.name)]
    if not close.empty:
        quickest = close.sort_values("p50_ms").iloc[0]
        lines.append(f"The fastest configuration whose top 10 keeps at least {MIN_RECALL} of exact search's is "
                     f"{quickest.config}: {quickest.p50_ms:.2f} ms, {quickest['speed-up_vs_exact']:.1f}x faster.")
    staged = largest[two_stage(largest)]
    both = staged[(staged["recall@10_vs_exact"] >= MIN_RECALL) & (staged["speed-up_vs_exact"] >= MIN_SPEED_UP)]
    if both.empty:
        exact_enough = staged[staged["recall@10_vs_exact"] >= MIN_RECALL]
        # the closest: the fastest that is exact enough, else the most exact
        best = (exact_enough.sort_values("speed-up_vs_exact", ascending=False) if not exact_enough.empty
                else staged.sort_values("recall@10_vs_exact", ascending=False))
        closest = (f" (the closest, {best.config.iloc[0]}, reaches recall {best['recall@10_vs_exact'].iloc[0]:.3f} "
                   f"at {best['speed-up_vs_exact'].iloc[0]:.1f}x)" if not best.empty else "")
        lines.append(f"No shortlist-then-re-rank configuration here is both {MIN_SPEED_UP:.0f}x faster than exact "
                     f"search and at recall {MIN_RECALL} against it{closest}: at this size speed and exactness are "
                     "traded, not both had.")
    else:
        lines.append(f"Shortlist-then-re-rank configurations both {MIN_SPEED_UP:.0f}x faster than exact search and "
                     f"at recall {MIN_RECALL}: {listing(both.config)}.")
    largest["bytes_per_vector"] = largest.index_mib * 2**20 / size
    for cost, unit, label in (("bytes_per_vector", "B per vector", "memory"), ("p95_ms", "ms p95", "latency")):
        front = bytes_front(largest.rename(columns={cost: "bytes"}), metric)
        steps = listing(f"{r.config} ({r.bytes:.3g} {unit}, {r[metric]:.3f})" for _, r in front.iterrows())
        lines.append(f"By {label} ({metric} among the distractors): each of these wins every budget from its own cost "
                     f"up to the next one's: {steps}.")
    return lines


def key_numbers(summary: pd.DataFrame, rows: pd.DataFrame, system: str = "matryoshka",
                metric: str = "ndcg@10") -> pd.DataFrame:
    """Notebook 04's recap: at the full and the smallest dim, every system's mean ``metric`` and ``system``'s
    difference from each baseline with its clustered 95% interval (``*`` where it excludes 0)."""
    dense = summary[summary.dim > 0]
    dims = [int(dense.dim.max()), int(dense.dim.min())]
    table = summary.pivot(index="dim", columns="system", values=metric)
    recap = table.loc[dims, [s for s in ("base", "mnrl", system) if s in table]].round(3)
    if (BM25, 0) in set(zip(summary.system, summary.dim)):
        recap[BM25] = round(float(table.loc[0, BM25]), 3)
    own = rows[rows.system == system].set_index(["baseline", "dim"])
    for baseline in [b for b in ("base", "mnrl", BM25) if b in set(own.index.get_level_values(0))]:
        recap[f"{system} − {baseline}"] = [
            interval(*own.loc[(baseline, d), ["difference", "ci_low", "ci_high"]])
            + (" *" if own.loc[(baseline, d), "significant"] else "") if (baseline, d) in own.index else ""
            for d in dims]
    recap.index.name = "dim"
    return recap
