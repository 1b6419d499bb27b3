"""Notebook 02's concept figure: the two split regimes on the course's own chunks and questions."""

from __future__ import annotations

from collections import Counter

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from helpers.lessons.splits import split_questions
from helpers.workshop.figures import course_data
from helpers.workshop.figures.style import LEAK, NEUTRAL, TEST, TRAIN, VAL, new_figure

COLOURS = {"train": TRAIN, "val": VAL, "test": TEST}


def splits_of_chunks(regime: str) -> tuple[dict[str, Counter], list[str]]:
    """Chunk id -> how many of its questions (any relevant chunk) went to each split; and the leaking chunk ids
    (relevant to a test question and to a training question)."""
    data, p = course_data.course_data(), course_data.DEFAULT
    splits = split_questions(data, regime, p.val_fraction, p.test_fraction, p.seed)
    where = {q: s for s, qids in splits.items() for q in qids}
    per_chunk: dict[str, Counter] = {c.id: Counter() for c in data.chunks}
    for q, ids in data.relevant.items():
        for cid in ids:
            per_chunk[cid][where[q]] += 1
    leaks = [cid for cid, n in per_chunk.items() if n["test"] and n["train"]]
    return per_chunk, leaks


def _grid(ax, regime: str, title: str) -> None:
    data = course_data.course_data()
    per_chunk, leaks = splits_of_chunks(regime)
    leaking = set(leaks)
    names = sorted({c.document for c in data.chunks})
    row = {n: i for i, n in enumerate(names)}
    column: Counter = Counter()
    for c in data.chunks:
        y, x = row[c.document], column[c.document]
        column[c.document] += 1
        counts = per_chunk[c.id]
        total = sum(counts.values())
        if not total:
            ax.add_patch(Rectangle((x, y), 0.9, 0.8, color=NEUTRAL))
        left = x
        for split in ("train", "val", "test"):  # one stripe per split, as wide as its share of the questions
            width = 0.9 * counts[split] / total if total else 0
            if width:
                ax.add_patch(Rectangle((left, y), width, 0.8, color=COLOURS[split], linewidth=0))
                left += width
        if c.id in leaking:
            ax.add_patch(Rectangle((x - 0.06, y - 0.08), 1.02, 0.96, fill=False, edgecolor=LEAK, linewidth=1.6))
    ax.set_xlim(-0.2, max(column.values()) + 0.1)
    ax.set_ylim(len(names), -0.2)
    ax.set_yticks([i + 0.4 for i in range(len(names))], [n.split(".")[0][:28] for n in names], fontsize=6.5)
    ax.set_xticks([])
    ax.set_xlabel("chunks of the document, in order")
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    # the leak alone: how many chunks the test questions ask about is notebook 02's exercise 3
    ax.set_title(f"{title}\n{len(leaks)} chunks shared by a training and a test question", fontsize=8.5)


def split_regimes() -> Figure:
    """Every chunk of the course corpus as a cell, one row per document, coloured by the splits of the questions
    about it, under each regime; a red frame marks a chunk that a training and a test question share (a leak)."""
    fig = new_figure(7.6, 4.2)
    left, right = fig.subplots(1, 2, sharey=True)
    _grid(left, "chunks", "held-out chunks (split=chunks)")
    _grid(right, "questions", "held-out questions (split=questions)")
    right.tick_params(labelleft=False)
    handles = [Patch(color=COLOURS[s], label=s) for s in COLOURS] + [
        Patch(color=NEUTRAL, label="no question"), Patch(fill=False, edgecolor=LEAK, linewidth=1.6, label="leak: a test and a training question share it")]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7.5, frameon=False)
    return fig


FIGURES = {"02-split-regimes.svg": split_regimes}
