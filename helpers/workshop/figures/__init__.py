"""The course's concept figures: ``python -m helpers figures`` draws them into ``notebooks/figures/``.

One module per notebook (``nb01`` ... ``nb07``), each with a ``FIGURES`` dict that maps a file name
(``"01-chunk-boundaries.svg"``) to a function returning a :class:`matplotlib.figure.Figure`. The registry finds every
such module by itself, so adding a notebook's figures is adding its module. The figures are drawn from the course's
committed data (``data/``, the lessons' code), never from ``outputs/``, and saved as SVG that is byte-identical from
one run to the next (:func:`render`), so ``tests/test_figures.py`` can compare them with the committed files.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path

from helpers.config import ROOT

FIGURE_DIR = ROOT / "notebooks" / "figures"
COMMAND = "python -m helpers figures"
_MODULE = re.compile(r"nb\d\d$")


def registry() -> dict[str, Callable]:
    """File name -> drawing function, over every ``nbNN`` module of this package, sorted by name."""
    found: dict[str, Callable] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not _MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, draw in getattr(module, "FIGURES", {}).items():
            if name in found:
                raise ValueError(f"figure {name} is registered twice ({info.name})")
            found[name] = draw
    return dict(sorted(found.items()))


def render(name: str, directory: Path = FIGURE_DIR) -> Path:
    """Draw one registered figure into ``directory`` with the course's style; returns the file written."""
    from helpers.workshop.figures.style import save

    draw = registry()[name]
    return save(draw, Path(directory) / name)


def render_all(directory: Path = FIGURE_DIR, names: list[str] | None = None) -> list[Path]:
    """Draw every registered figure (or only ``names``) into ``directory``."""
    from helpers.workshop.figures.style import save

    figures = registry()
    unknown = sorted(set(names or ()) - set(figures))
    if unknown:
        raise KeyError(f"no such figure: {', '.join(unknown)} (known: {', '.join(figures)})")
    return [save(figures[n], Path(directory) / n) for n in (names or list(figures))]


def compare(fresh: Path, committed: Path = FIGURE_DIR) -> dict[str, str]:
    """Figure name -> problem ('missing', 'differs', 'not registered') between a fresh render and the committed one."""
    problems = {}
    fresh_names = {p.name for p in Path(fresh).glob("*.svg")}
    for name in sorted(fresh_names):
        target = Path(committed) / name
        if not target.exists():
            problems[name] = "missing"
        elif target.read_bytes() != (Path(fresh) / name).read_bytes():
            problems[name] = "differs"
    for stray in sorted(p.name for p in Path(committed).glob("*.svg")):
        if stray not in fresh_names:
            problems[stray] = "not registered (no drawing code makes it)"
    return problems
