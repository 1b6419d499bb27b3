"""One look for every concept figure, and a save that gives the same bytes on every run.

Figures are built on :class:`matplotlib.figure.Figure` directly, not through pyplot: no backend, no global figure
list, nothing shown in a notebook by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

# Okabe-Ito colours (safe for the common colour-vision deficiencies), named by their role in the course.
TRAIN, VAL, TEST = "#0072B2", "#E69F00", "#009E73"
LEAK, NEUTRAL, INK = "#D55E00", "#BBBBBB", "#222222"
NEGATIVE, HARD, TARGET = "#9ecae1", "#fdae6b", "#009E73"
ALTERNATE = ("#0072B2", "#56B4E9")  # neighbouring chunks in a strip

STYLE = {
    "svg.hashsalt": "matryoshka-lab",  # fixed ids inside the SVG, so two runs write the same bytes
    "svg.fonttype": "none",  # text stays text: smaller files, searchable, and no glyph paths to drift
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same metrics on every machine
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def new_figure(width: float = 6.4, height: float = 3.2, **kwargs) -> Figure:
    """A figure in the course's size (inches; about the width of a notebook cell), laid out by constrained layout."""
    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def save(draw: Callable[[], Figure], path: Path) -> Path:
    """Call ``draw`` and save its figure as SVG at ``path``, inside the course's style, with no date or version in
    the file (the bytes depend only on the drawing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STYLE):
        figure = draw()
        figure.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
    return path
