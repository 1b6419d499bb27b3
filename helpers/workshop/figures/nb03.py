"""Notebook 03's concept figures: the score matrix one batch puts into MultipleNegativesRankingLoss, and the nested
prefixes MatryoshkaLoss scores. Both are schematics: their sizes come from the course's config, no score is measured."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from helpers.config import matryoshka_dims
from helpers.workshop.figures.style import HARD, INK, NEGATIVE, TARGET, new_figure

BATCH = 6  # rows drawn; the default trains at batch 16, which would be unreadable as text
FULL_DIM = 384  # all-MiniLM-L6-v2, the offline default


def batch_scores() -> Figure:
    """B questions against 2B passages (their positives, then one mined negative per row): the diagonal of the
    left block is each row's target, every other cell a negative in that row's softmax."""
    b = BATCH
    fig = new_figure(6.6, 3.5)
    ax = fig.subplots()
    for row in range(b):
        for col in range(2 * b):
            if col == row:
                colour, mark = TARGET, "✓"
            elif col < b:
                colour, mark = NEGATIVE, ""
            else:
                colour, mark = HARD, "own" if col - b == row else ""
            ax.add_patch(Rectangle((col, row), 0.94, 0.94, color=colour, linewidth=0))
            if mark:
                ax.text(col + 0.47, row + 0.5, mark, ha="center", va="center", fontsize=7, color=INK)
    ax.plot([b - 0.03, b - 0.03], [-0.1, b + 0.05], color=INK, linewidth=1.2)
    ax.set_xlim(-0.1, 2 * b)
    ax.set_ylim(b + 0.1, -0.9)
    ax.set_xticks([c + 0.47 for c in range(2 * b)], [f"p{c + 1}" for c in range(b)] + [f"n{c + 1}" for c in range(b)],
                  fontsize=7)
    ax.set_yticks([r + 0.47 for r in range(b)], [f"q{r + 1}" for r in range(b)], fontsize=7)
    ax.tick_params(length=0, labeltop=True, labelbottom=False)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.text(b / 2, -0.75, "positives of the batch", ha="center", fontsize=8)
    ax.text(1.5 * b, -0.75, "mined hard negatives, one per row", ha="center", fontsize=8)
    ax.set_title(f"One batch of B = {b}: a B × 2B matrix of scores (cosine × 20); each row is one softmax",
                 fontsize=9, pad=18)
    handles = [Patch(color=TARGET, label="target: the row's own positive"),
               Patch(color=NEGATIVE, label="in-batch negatives: the other rows' positives"),
               Patch(color=HARD, label="mined hard negatives (own = the row's own)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    return fig


def matryoshka_prefixes() -> Figure:
    """One embedding with a bracket over each Matryoshka prefix and the loss computed on it; the total is their
    weighted sum."""
    dims = sorted(matryoshka_dims(FULL_DIM))
    fig = new_figure(6.6, 2.8)
    ax = fig.subplots()
    blues = ["#08306b", "#2171b5", "#6baed6", "#c6dbef", "#eef4fb"]
    start = 0
    for dim, colour in zip(dims, blues):
        ax.add_patch(Rectangle((start, 0), dim - start, 0.45, color=colour, linewidth=0))
        start = dim
    ax.add_patch(Rectangle((0, 0), FULL_DIM, 0.45, fill=False, edgecolor=INK, linewidth=0.6))
    for level, dim in enumerate(dims):
        y = 0.7 + 0.32 * level
        ax.plot([0, 0, dim, dim], [y - 0.08, y, y, y - 0.08], color=INK, linewidth=0.8)
        ax.text(dim + 6, y, f"L{dim} = MNRL on the first {dim} numbers (re-normalised)", va="center", fontsize=7.5)
    terms = " + ".join(f"w{d}·L{d}" for d in sorted(dims, reverse=True))
    ax.text(0, -0.3, f"MatryoshkaLoss = {terms}", fontsize=7.5, va="center")
    ax.text(0, -0.65, "every weight w is 1 unless matryoshka_weights says otherwise; the batch is encoded once and "
            "the loss computed at each prefix", fontsize=7, va="center", color="#555555")
    ax.set_xlim(0, FULL_DIM * 1.75)
    ax.set_ylim(-0.9, 0.7 + 0.32 * len(dims))
    ax.axis("off")
    ax.set_title(f"The nested prefixes of one {FULL_DIM}-number embedding, each with its own ranking loss",
                 fontsize=9)
    return fig


FIGURES = {"03-batch-scores.svg": batch_scores, "03-matryoshka-prefixes.svg": matryoshka_prefixes}
