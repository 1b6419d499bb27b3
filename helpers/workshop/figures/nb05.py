"""Notebook 05's concept figure: bytes per vector against ndcg@10 for every dim and precision, read as a decision.

It draws a measured table, so it reads a committed snapshot (``notebooks/figures/source/05-quantization.csv``) of a
course run's ``results/quantization.csv``, never ``outputs/``. Refresh the snapshot after a new run with
``python -m helpers.workshop.figures.nb05 outputs/default``, then ``python -m helpers figures``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.workshop.figures import FIGURE_DIR
from helpers.workshop.figures.style import INK, NEUTRAL, TRAIN, VAL, new_figure

SOURCE = FIGURE_DIR / "source" / "05-quantization.csv"
COLUMNS = ["system", "dim", "precision", "bytes", "ndcg@10"]
MARKERS = {"float32": "o", "int8": "s", "binary": "^"}
SYSTEMS = {"matryoshka": (TRAIN, "fine-tuned, Matryoshka"), "mnrl": (VAL, "fine-tuned, plain MNRL"),
           "base": (NEUTRAL, "base model")}
GIB = 2**30


def snapshot(outputs: str | Path, target: Path = SOURCE) -> Path:
    """Copy the columns the figure needs from ``<outputs>/results/quantization.csv`` (a course run) to ``target``."""
    table = pd.read_csv(Path(outputs) / "results" / "quantization.csv")[COLUMNS]
    target.parent.mkdir(parents=True, exist_ok=True)
    table.round({"ndcg@10": 4}).to_csv(target, index=False)
    return target


def front(table: pd.DataFrame) -> pd.DataFrame:
    """The rows no other row beats with fewer or equal bytes and a higher ndcg@10, cheapest first."""
    ordered = table.sort_values(["bytes", "ndcg@10"], ascending=[True, False])
    return ordered[ordered["ndcg@10"] > ordered["ndcg@10"].cummax().shift(fill_value=float("-inf"))]


def bytes_decision() -> Figure:
    """ndcg@10 against bytes per vector (log scale) for every system, dim and precision, the Matryoshka fine-tune's
    front as a line, its dims written beside its points, and a second axis with the vectors 1 GiB holds."""
    table = pd.read_csv(SOURCE)
    fig = new_figure(7.6, 4.0)
    ax = fig.subplots()
    for system, (colour, label) in reversed(SYSTEMS.items()):
        own = table[table.system == system]
        for precision, marker in MARKERS.items():
            rows = own[own.precision == precision]
            ax.scatter(rows["bytes"], rows["ndcg@10"], marker=marker, s=34 if system == "matryoshka" else 20,
                       color=colour, edgecolor=INK if system == "matryoshka" else "none", linewidth=0.4, zorder=3,
                       label=f"{label}, {precision}" if system == "matryoshka" else None)
        if system != "matryoshka":
            ax.scatter([], [], color=colour, marker="o", s=20, label=f"{label} (same markers)")
    tuned = table[table.system == "matryoshka"]
    best = front(tuned)
    ax.step(best["bytes"], best["ndcg@10"], where="post", color=TRAIN, linewidth=1.2, zorder=2,
            label="its front: the best ndcg@10 for each budget")
    for dim, size, score in zip(tuned.dim, tuned["bytes"], tuned["ndcg@10"]):
        ax.annotate(str(dim), (size, score), textcoords="offset points", xytext=(4, -9), fontsize=6.5, color=TRAIN)
    for size in sorted(set(tuned["bytes"])):
        same = tuned[tuned["bytes"] == size]
        if same.precision.nunique() > 1:  # two ways to spend the same bytes: more dims or more precision
            ax.axvline(size, color=NEUTRAL, linewidth=0.6, linestyle=":", zorder=1)
    ax.set_xscale("log", base=2)
    ticks = sorted(set(table["bytes"]))
    ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("bytes per vector (log scale): dims x 4 for float32, x 1 for int8, / 8 for binary")
    ax.set_ylabel("ndcg@10, test questions, whole corpus")
    per_gib = (lambda b: GIB / np.maximum(b, 1e-9), lambda n: GIB / np.maximum(n, 1e-9))  # vectors <-> bytes
    top = ax.secondary_xaxis("top", functions=per_gib)
    top.minorticks_off()
    top.set_xticks([GIB / t for t in (4, 32, 256, 1536)],
                   [f"{GIB / t / 1e6:,.1f}M" for t in (4, 32, 256, 1536)], fontsize=7)
    top.set_xlabel("vectors that fit in 1 GiB", fontsize=8)
    ax.legend(frameon=False, fontsize=6.5, loc="lower right")
    ax.set_title("What a byte buys: every dim x precision (dotted: the same bytes spent two ways)", fontsize=9)
    return fig


FIGURES = {"05-bytes-decision.svg": bytes_decision}

if __name__ == "__main__":  # python -m helpers.workshop.figures.nb05 outputs/default
    print(snapshot(sys.argv[1] if len(sys.argv) > 1 else "outputs/default"))
