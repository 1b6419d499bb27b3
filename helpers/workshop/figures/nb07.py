"""Notebook 07's concept figure: the Matryoshka funnel, with the candidates left and the time spent at each stage.

The times are measured, so the figure reads a committed snapshot (``notebooks/figures/source/07-funnel.csv``), never
``outputs/``. :func:`measure` times the two stages apart with notebook 07's own index code, on the corpus its scale
benchmark builds (the real chunks plus Gaussian distractors). Refresh it after a new run with
``python -m helpers.workshop.figures.nb07 default`` (encodes with the fine-tuned model; a minute or two on a CPU),
then ``python -m helpers figures``.
"""

from __future__ import annotations

import math
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from helpers.workshop.figures import FIGURE_DIR
from helpers.workshop.figures.style import INK, NEUTRAL, TARGET, TRAIN, VAL, new_figure

SOURCE = FIGURE_DIR / "source" / "07-funnel.csv"
SIZE, SHORT_DIM, MULTIPLIER, K = 100_000, 64, 40, 10  # notebook 07's largest default size and its flat@64 funnel


def measure(enc, size: int = SIZE, short_dim: int = SHORT_DIM, multiplier: int = MULTIPLIER, k: int = K,
            seed: int = 42) -> pd.DataFrame:
    """Per-query milliseconds (median over ``enc``'s queries, one at a time on one thread) of the funnel's two
    stages, shortlist at ``short_dim`` then re-rank at full dim, and of exact search, plus recall@k of the funnel
    against exact search."""
    from helpers.deploy.vector_index import recall_against, single_threaded, synthetic_distractors
    from helpers.evaluation.metrics import truncate_normalize
    from helpers.lessons.index_recipes import build_index, rerank

    real = truncate_normalize(enc.corpus, enc.corpus.shape[1])
    full = real.shape[1]
    corpus = np.concatenate([real, synthetic_distractors(real, max(0, size - len(real)), seed)])
    short_index, exact_index = build_index("flat", truncate_normalize(corpus, short_dim)), build_index("flat", corpus)
    queries = truncate_normalize(enc.queries, full).astype(np.float32)
    times: dict[str, list[float]] = {"shortlist": [], "re-rank": [], "exact": []}
    found, exact = [], []
    with single_threaded(1):
        for query in np.concatenate([queries[:1], queries]):  # the first query warms up and is not counted
            start = time.perf_counter()
            _, ids = short_index.search(truncate_normalize(query[None, :], short_dim), k * multiplier)
            middle = time.perf_counter()
            top, _ = rerank(ids, query[None, :], corpus, k)
            end = time.perf_counter()
            _, best = exact_index.search(query[None, :], k)
            done = time.perf_counter()
            for stage, ms in (("shortlist", middle - start), ("re-rank", end - middle), ("exact", done - end)):
                times[stage].append(1000 * ms)
            found.append(top[0])
            exact.append(best[0])
    recall = float(recall_against(np.stack(found[1:]), np.stack(exact[1:])).mean())
    rows = [
        {"stage": "shortlist", "candidates_in": len(corpus), "candidates_out": k * multiplier, "dim": short_dim,
         "bytes_read_per_vector": 4 * short_dim},
        {"stage": "re-rank", "candidates_in": k * multiplier, "candidates_out": k, "dim": full,
         "bytes_read_per_vector": 4 * full},
        {"stage": "exact", "candidates_in": len(corpus), "candidates_out": k, "dim": full,
         "bytes_read_per_vector": 4 * full},
    ]
    table = pd.DataFrame(rows)
    table["p50_ms"] = [float(np.median(times[s][1:])) for s in table.stage]
    table["queries"] = len(queries)
    table["recall@10_vs_exact"] = recall
    return table.round({"p50_ms": 3, "recall@10_vs_exact": 3})


def snapshot(profile_name: str = "default", target: Path = SOURCE) -> Path:
    """Encode ``profile_name``'s test set with its fine-tuned model and write :func:`measure`'s table."""
    from helpers.config import get_profile
    from helpers.data.dataset import load_ir
    from helpers.lessons.retrieval import encode_ir
    from helpers.pipeline import require
    from helpers.training.modeling import load_model

    profile = get_profile(profile_name)
    test_ir = load_ir(require(profile, "pairs/test_ir.json"))
    enc = encode_ir(load_model(str(require(profile, "matryoshka/model"))), test_ir)
    target.parent.mkdir(parents=True, exist_ok=True)
    measure(enc, seed=profile.seed).to_csv(target, index=False)
    return target


def funnel() -> Figure:
    """The funnel drawn to scale in log(candidates): the corpus, the shortlist, the top 10; each stage with its
    dims and milliseconds, and exact search beside it for comparison."""
    table = pd.read_csv(SOURCE).set_index("stage")
    short, again, exact = table.loc["shortlist"], table.loc["re-rank"], table.loc["exact"]
    levels = [int(short.candidates_in), int(short.candidates_out), int(again.candidates_out)]
    widths = [math.log10(n) / math.log10(levels[0]) for n in levels]
    fig = new_figure(8.8, 3.8)
    ax = fig.subplots()
    ax.axis("off")
    ax.set_xlim(-1.05, 2.85)
    ax.set_ylim(-0.2, 3.3)
    ys = [3.0, 1.75, 0.5]
    colours = [NEUTRAL, VAL, TARGET]
    for (y, w), (y_next, w_next) in zip(zip(ys, widths), zip(ys[1:], widths[1:])):
        ax.add_patch(Polygon([(-w, y - 0.2), (w, y - 0.2), (w_next, y_next + 0.2), (-w_next, y_next + 0.2)],
                             closed=True, facecolor="#f2f2f2", edgecolor="none"))
    for y, w, n, colour in zip(ys, widths, levels, colours):
        ax.add_patch(Polygon([(-w, y - 0.2), (w, y - 0.2), (w, y + 0.2), (-w, y + 0.2)], closed=True,
                             facecolor=colour, edgecolor=INK, linewidth=0.5))
        inside = w > 0.35  # a narrow bar gets its label beside it
        ax.text(0 if inside else w + 0.04, y, f"{n:,} candidates", ha="center" if inside else "left", va="center",
                fontsize=8, fontweight="bold")
    notes = [
        (2.375, f"stage 1, shortlist: {short.p50_ms:.2f} ms", f"scan all {levels[0]:,} vectors cut to their first "
                f"{int(short.dim)} numbers (float32, {int(short.bytes_read_per_vector)} B each); keep the best "
                f"{levels[1]:,} = top {levels[2]} x {levels[1] // levels[2]}"),
        (1.125, f"stage 2, re-rank: {again.p50_ms:.2f} ms", f"score those {levels[1]:,} with all {int(again.dim)} "
                f"numbers (float32, {int(again.bytes_read_per_vector)} B each, read from RAM or disk); keep the top "
                f"{levels[2]}"),
    ]
    for y, head, body in notes:
        ax.text(1.08, y + 0.12, head, fontsize=8, fontweight="bold", va="bottom", color=INK)
        ax.text(1.08, y + 0.08, textwrap.fill(body, 62), fontsize=7.2, va="top", color=INK)
    total = short.p50_ms + again.p50_ms
    ax.text(-1.0, 0.45, f"funnel: {total:.2f} ms per query\nexact search over all {levels[0]:,}\nat {int(exact.dim)} "
                        f"dims: {exact.p50_ms:.2f} ms\nthe funnel's top {levels[2]} holds {short['recall@10_vs_exact']:.0%}"
                        "\nof exact search's top 10",
            fontsize=7.5, va="center", color=TRAIN,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": TRAIN, "linewidth": 0.6})
    ax.set_title(f"The Matryoshka funnel: median milliseconds per query over {int(short.queries)} test questions, "
                 "one CPU thread", fontsize=9)
    return fig


FIGURES = {"07-funnel.svg": funnel}

if __name__ == "__main__":  # python -m helpers.workshop.figures.nb07 default
    print(snapshot(sys.argv[1] if len(sys.argv) > 1 else "default"))
