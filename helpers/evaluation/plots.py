"""Figures for notebook 05 (and the chunk-length histogram of notebook 01)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLORS = {"base": "#7f7f7f", "matryoshka": "#1f77b4", "mnrl": "#ff7f0e", "BM25": "#2ca02c"}
LABELS = {"base": "base model", "matryoshka": "fine-tuned, Matryoshka", "mnrl": "fine-tuned, plain MNRL",
          "BM25": "BM25 (bm25s)"}


def _style(system: str) -> tuple[str | None, str, str]:
    """Colour, label and line style of a system; a hybrid (notebook 04: a dense system fused with BM25) borrows its
    dense system's colour, dashed."""
    from helpers.lessons.hybrid import HYBRID_SUFFIX

    dense = system.removesuffix(HYBRID_SUFFIX)
    if dense != system:
        return COLORS.get(dense), f"{LABELS.get(dense, dense)} + BM25", "--"
    return COLORS.get(system), LABELS.get(system, system), "-"


def mean_ci(values: np.ndarray, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95% bootstrap interval of per-query scores."""
    rng = np.random.default_rng(seed)
    boot = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    return float(values.mean()), float(low), float(high)


def ndcg_by_dim(per_query: pd.DataFrame, metric: str = "ndcg@10", seed: int = 0) -> pd.DataFrame:
    """Mean, CI and ratio to the system's full-dim score, per system and dim."""
    rows = []
    for (system, dim), group in per_query.groupby(["system", "dim"], sort=False):
        mean, low, high = mean_ci(group[metric].to_numpy(), seed=seed)
        rows.append({"system": system, "dim": dim, "mean": mean, "ci_low": low, "ci_high": high})
    table = pd.DataFrame(rows)
    embedded = table[table.dim > 0]
    full_score = embedded.loc[embedded.groupby("system")["dim"].idxmax()].set_index("system")["mean"]
    table["ratio_to_full"] = [
        m / full_score[s] if d > 0 and full_score.get(s) else np.nan
        for s, d, m in zip(table.system, table.dim, table["mean"])
    ]
    return table


def plot_dims(per_query: pd.DataFrame, path: Path, title: str = "", metric: str = "ndcg@10"):
    """Left: metric vs dim with 95% CI bands (BM25 as a line). Right: ratio to each model's full dim."""
    import matplotlib.pyplot as plt

    table = ndcg_by_dim(per_query, metric)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for system, group in table.groupby("system", sort=False):
        color, label, style = _style(system)
        if (group.dim == 0).all():  # BM25 has no dimension
            left.axhline(group["mean"].iloc[0], color=color, linestyle=":", label=label)
            continue
        group = group.sort_values("dim")
        marker = "s" if style == "--" else "o"
        left.plot(group.dim, group["mean"], marker=marker, color=color, linestyle=style, label=label)
        left.fill_between(group.dim, group.ci_low, group.ci_high, color=color, alpha=0.15 if style == "-" else 0.07)
        right.plot(group.dim, group.ratio_to_full, marker=marker, color=color, linestyle=style, label=label)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        dims = sorted(table[table.dim > 0].dim.unique())
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.set_xlabel("embedding dimension (Matryoshka prefix)")
        ax.grid(alpha=0.3)
    left.set_ylabel(f"{metric} (test questions, whole corpus)")
    left.set_title(f"{metric} vs dimension, 95% bootstrap CI")
    right.set_ylabel("share of the model's own full-dim score")
    right.set_title("what truncation keeps")
    left.legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig


def plot_bytes(quant: pd.DataFrame, path: Path, metric: str = "ndcg@10"):
    """ndcg@10 against bytes per vector for float32 / int8 / binary at every dim."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    markers = {"float32": "o", "int8": "s", "binary": "^"}
    for (system, precision), group in quant.groupby(["system", "precision"], sort=False):
        group = group.sort_values("bytes")
        ax.plot(group.bytes, group[metric], marker=markers.get(precision, "o"), color=COLORS.get(system),
                alpha=0.9 if system != "base" else 0.5, label=f"{LABELS.get(system, system)}, {precision}")
        for _, row in group.iterrows():
            ax.annotate(str(row.dim), (row.bytes, row[metric]), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("bytes per vector (log scale)")
    ax.set_ylabel(metric)
    ax.set_title("storage vs quality: Matryoshka truncation x quantization")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig


# The paired differences notebook 05 shows next to the per-system bands: (system, baseline) as written by notebook 04.
PAIRED_PANELS = ((("matryoshka", "base"), ("mnrl", "base")), (("matryoshka", "mnrl"),))


def paired_differences(bootstrap: pd.DataFrame, metric: str = "ndcg@10") -> pd.DataFrame:
    """Notebook 04's paired bootstrap rows for ``metric``: one row per (system, baseline, dim), largest dim first.

    Only the clustered rows (test chunks resampled with all their questions, ``clustered_rows``) when the table
    has them; ``unit`` and ``n_units`` say what was resampled.
    """
    from helpers.evaluation.metrics import clustered_rows

    rows = clustered_rows(bootstrap)
    rows = rows[rows.metric == metric]
    columns = ["system", "baseline", "dim", "difference", "ci_low", "ci_high", "significant"]
    columns += [c for c in ("unit", "n_units") if c in rows.columns]
    return rows[columns].sort_values(["baseline", "system", "dim"], ascending=[True, True, False]).reset_index(drop=True)


def resampled(table: pd.DataFrame) -> str:
    """What a bootstrap table resampled, in words for a title: test chunks (with their questions) or questions."""
    from helpers.evaluation.metrics import CLUSTERED_UNIT

    if "unit" in table.columns and (table.unit == CLUSTERED_UNIT).all() and len(table):
        return "test chunks, each with all its questions"
    return "test questions, one by one"


def plot_paired_differences(bootstrap: pd.DataFrame, path: Path, metric: str = "ndcg@10"):
    """(system - baseline) per dim with its paired bootstrap 95% interval, and a line at 0.

    The intervals are the clustered ones (``paired_differences``) when the table has them. Left: each fine-tune
    minus the base model. Right: Matryoshka minus the plain-MNRL ablation. An interval
    that does not cross 0 is a difference the test set supports, whether or not the per-system bands overlap.
    """
    import matplotlib.pyplot as plt

    table = paired_differences(bootstrap, metric)
    fig, axes = plt.subplots(1, len(PAIRED_PANELS), figsize=(12, 4.5), sharex=True, sharey=True)
    for ax, pairs in zip(axes, PAIRED_PANELS):
        shown = [(s, b) for s, b in pairs if ((table.system == s) & (table.baseline == b)).any()]
        for i, (system, baseline) in enumerate(shown):
            rows = table[(table.system == system) & (table.baseline == baseline)].sort_values("dim")
            # a small horizontal shift on the log axis, so two systems' intervals at one dim do not hide each other
            shift = 2 ** (0.06 * (i - (len(shown) - 1) / 2))
            errors = [rows.difference - rows.ci_low, rows.ci_high - rows.difference]
            color = COLORS.get(system)
            ax.errorbar(rows.dim * shift, rows.difference, yerr=errors, marker="o", markerfacecolor="white", capsize=4,
                        color=color, label=f"{LABELS.get(system, system)} − {LABELS.get(baseline, baseline)}")
            clear = rows[(rows.ci_low > 0) | (rows.ci_high < 0)]  # filled: the interval excludes 0
            ax.plot(clear.dim * shift, clear.difference, "o", color=color, zorder=5)
        ax.axhline(0, color="black", linewidth=1)
        dims = sorted(table.dim.unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.minorticks_off()
        ax.set_xlabel("embedding dimension (Matryoshka prefix)")
        ax.grid(alpha=0.3)
        if shown:
            ax.legend(loc="best", fontsize=8)
        else:
            ax.text(0.5, 0.5, "not in bootstrap.csv (ablation not trained)", ha="center", transform=ax.transAxes)
    axes[0].set_ylabel(f"difference in {metric} (paired, 95% CI)")
    axes[0].set_title("fine-tuned − base model")
    axes[-1].set_title("Matryoshka − plain MNRL (same data and steps)")
    fig.suptitle(f"paired bootstrap resampling {resampled(table)}: a filled point's interval excludes 0")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return fig


def plot_val_curve(history, dims: list[int], best_epoch: float, path: Path, title: str):
    """Val ndcg@10 per epoch for every Matryoshka dim, with the mean over dims and the chosen checkpoint."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for d in dims:
        ax.plot(history["epoch"], history[f"val_dim{d}_ndcg@10"], marker="o", markersize=3, label=f"dim {d}")
    ax.plot(history["epoch"], history["val_mean_ndcg@10"], color="black", linewidth=2, label="mean over dims")
    ax.axvline(best_epoch, color="grey", linestyle=":", label=f"chosen checkpoint (epoch {best_epoch:g})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("val ndcg@10 (whole corpus)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.show()
    return fig
