"""Figures for notebook 05 (and the chunk-length histogram of notebook 01)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLORS = {"base": "#7f7f7f", "matryoshka": "#1f77b4", "mnrl": "#ff7f0e", "BM25": "#2ca02c"}
LABELS = {"base": "base model", "matryoshka": "fine-tuned, Matryoshka", "mnrl": "fine-tuned, plain MNRL",
          "BM25": "BM25 (bm25s)"}


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
        color, label = COLORS.get(system), LABELS.get(system, system)
        if (group.dim == 0).all():  # BM25 has no dimension
            left.axhline(group["mean"].iloc[0], color=color, linestyle="--", label=label)
            continue
        group = group.sort_values("dim")
        left.plot(group.dim, group["mean"], marker="o", color=color, label=label)
        left.fill_between(group.dim, group.ci_low, group.ci_high, color=color, alpha=0.15)
        right.plot(group.dim, group.ratio_to_full, marker="o", color=color, label=label)
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
