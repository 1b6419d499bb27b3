"""Notebook 01's concept figure: where the splitter cuts one document of the course corpus."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.data import Chunk
from helpers.workshop.figures import course_data
from helpers.workshop.figures.style import ALTERNATE, INK, LEAK, NEUTRAL, new_figure

SHOW = {"\n": "¶", " ": "·"}  # invisible characters drawn visibly


def cuts(chunks: list[Chunk]) -> list[tuple[Chunk, Chunk]]:
    """Consecutive chunk pairs of one document."""
    return [(a, b) for a, b in zip(chunks, chunks[1:]) if a.document == b.document]


def example_document() -> tuple[str, list[Chunk]]:
    """The corpus document with the most overlapping cuts (ties: the first by name), and its chunks."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in course_data.chunks():
        by_doc.setdefault(c.document, []).append(c)
    name = max(sorted(by_doc), key=lambda d: sum(b.start < a.end for a, b in cuts(by_doc[d])))
    return name, by_doc[name]


def _zoom(ax, text: str, first: Chunk, second: Chunk, margin: int = 14) -> None:
    """The characters around one cut, with the span of each chunk drawn over them."""
    lo, hi = min(first.end, second.start) - margin, max(first.end, second.start) + margin
    for i in range(lo, hi):
        char = text[i]
        dropped = first.end <= i < second.start
        shared = second.start <= i < first.end
        if shared:
            ax.add_patch(Rectangle((i - 0.5, -0.4), 1, 0.8, facecolor=LEAK, alpha=0.25, linewidth=0))
        ax.text(i, 0, SHOW.get(char, char), ha="center", va="center", family="DejaVu Sans Mono", fontsize=7,
                color=LEAK if dropped else INK, fontweight="bold" if dropped else "normal")
    for lane, chunk, colour in ((0.75, first, ALTERNATE[0]), (-0.75, second, ALTERNATE[1])):
        start, end = max(chunk.start, lo), min(chunk.end, hi)
        if start < end:
            ax.add_patch(Rectangle((start - 0.5, lane - 0.2), end - start, 0.4, color=colour))
    ax.set_xlim(lo - 0.5, hi - 0.5)
    ax.set_ylim(-1.2, 1.2)
    ax.set_yticks([0.75, 0, -0.75], ["chunk i", "text", "chunk i+1"])
    ax.set_xlabel("character position in the document")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def chunk_boundaries() -> Figure:
    """One document as a strip of characters, its chunks as spans; a cut that drops a paragraph break and a cut
    where the next chunk repeats the end of the previous one, magnified."""
    name, chunks = example_document()
    text = next(d.text for d in course_data.documents() if d.name == name)
    pairs = cuts(chunks)
    overlapping = [(a, b) for a, b in pairs if b.start < a.end]
    dropping = [(a, b) for a, b in pairs if b.start > a.end]
    size, overlap = course_data.DEFAULT.chunk_size, course_data.DEFAULT.chunk_overlap

    fig = new_figure(7.2, 4.4)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.25])
    ax = top.subplots()
    for i, c in enumerate(chunks):
        ax.add_patch(Rectangle((c.start, (i % 2) - 0.3), c.end - c.start, 0.6, color=ALTERNATE[i % 2]))
    for a, _ in dropping:
        ax.plot([a.end, a.end], [-0.55, 1.55], color=NEUTRAL, linewidth=0.6)
    for _, b in overlapping:
        ax.plot([b.start], [1.75], marker="v", color=LEAK, markersize=6)
    ax.set_xlim(0, len(text))
    ax.set_ylim(-0.7, 2.0)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel("character position")
    ax.set_title(f"{name}: {len(chunks)} chunks (chunk_size={size}, chunk_overlap={overlap}), alternating rows\n"
                 f"of its {len(pairs)} cuts, {len(overlapping)} overlap (▼) and {len(dropping)} drop the separator "
                 "between two paragraphs (grey lines)", fontsize=8.5)

    left, right = bottom.subplots(1, 2)
    if dropping:
        a, b = dropping[0]
        _zoom(left, text, a, b)
        gap = text[a.end:b.start]
        left.set_title(f"a cut at a paragraph break:\n{gap!r} (red ¶) is in neither chunk", fontsize=8)
    if overlapping:
        a, b = overlapping[0]
        _zoom(right, text, a, b)
        right.set_title(f"an overlapping cut:\n{a.end - b.start} characters (shaded) are in both chunks",
                        fontsize=8)
    return fig


FIGURES = {"01-chunk-boundaries.svg": chunk_boundaries}
