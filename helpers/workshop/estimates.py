"""How long a notebook takes a learner, estimated from its own text, so the "Estimated time" lines and the workshop
plans can be checked against the notebooks (``tests/test_estimates.py``).

The estimate is reading plus exercises: the words of the notebook's markdown cells at :data:`WPM` words a minute,
plus :data:`EXERCISE_MINUTES` for each exercise (a heading ``### Exercise N``). A section whose ``##`` heading starts
with "Optional" or "Going further" (after an optional number, "## 9. Optional ...") is counted apart, as optional
minutes, up to the next ``##`` heading that is not optional. Compute time is not in it: it depends
on the machine and is quoted separately, from what ``make course`` measured (:data:`MEASURED_CPU_SECONDS`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from helpers.config import ROOT

NOTEBOOKS = ROOT / "notebooks"
WPM = 200  # a common figure for reading technical prose; slower than reading fiction
EXERCISE_MINUTES = 5  # one small exercise: read it, write a line or two, run the checker, read its message
TOLERANCE_MINUTES = 3  # a stated estimate may differ from the computed one by this much, or by 15%
# Seconds per notebook on a 2-core CPU, offline default profile, printed by `make course`
# (`python -m helpers course --profile default`, a fresh clone of the final code, 646 s for 01-05 in all).
MEASURED_CPU_SECONDS = {"01": 14, "02": 6, "03": 484, "04": 80, "05": 62,
                        # 06 and 07 are not part of `make course`: each was executed once on the same run's outputs
                        # (`jupyter nbconvert --execute`, LAB_PROFILE=default, 2 cores), kernel start included.
                        "06": 55, "07": 114,
                        # 08 (an extension) the same way, the first time: the cross-encoder trains (565 s of it)
                        "08": 638}
MEASURED_BY = "make course (python -m helpers course --profile default), 2 CPU cores"

_EXERCISE = re.compile(r"^#{2,4}\s+Exercise\s+\d", re.M)
_STATED = re.compile(r"Estimated time:?\**\s*(?:about\s+)?(\d+)\s*min", re.I)
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_SECTION = re.compile(r"^##\s+(?:\d+\.\s*)?(.*)$", re.M)
_OPTIONAL = re.compile(r"(optional|going further)", re.I)


@dataclass(frozen=True)
class Estimate:
    """One notebook's estimated minutes: reading its markdown plus its exercises."""

    notebook: str
    words: int  # outside optional sections
    exercises: int
    optional_words: int = 0
    optional_exercises: int = 0

    @property
    def reading_minutes(self) -> float:
        return self.words / WPM

    @property
    def exercise_minutes(self) -> float:
        return self.exercises * EXERCISE_MINUTES

    @property
    def minutes(self) -> int:
        """Reading plus exercises outside optional sections, rounded up to a whole minute."""
        return math.ceil(self.reading_minutes + self.exercise_minutes)

    @property
    def optional_minutes(self) -> int:
        """The same for the optional sections."""
        return math.ceil(self.optional_words / WPM + self.optional_exercises * EXERCISE_MINUTES)


def _cells(path: Path) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def prose(markdown: str) -> str:
    """The words a reader reads in a markdown cell: link and image targets, HTML tags and bare URLs removed."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", markdown)  # an image: its alt text is read
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link: only its text
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"https?://\S+", " ", text)


def _markdown(path: Path) -> list[tuple[str, bool]]:
    """(source, in an optional section) for every markdown cell."""
    found, optional = [], False
    for cell in _cells(path):
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        headings = _SECTION.findall(text)
        if headings:  # a cell that opens a section decides for itself and the cells after it
            optional = bool(_OPTIONAL.match(headings[0].strip("*_ ")))
        found.append((text, optional))
    return found


def _words(text: str) -> int:
    return len(_WORD.findall(prose(text)))


def markdown_words(path: Path, optional: bool = False) -> int:
    """Words in the notebook's markdown cells (code cells are run, not counted), outside optional sections (or, with
    ``optional``, inside them)."""
    return sum(_words(text) for text, opt in _markdown(path) if opt == optional)


def count_exercises(path: Path, optional: bool = False) -> int:
    """Exercises in the notebook (markdown headings that start with ``Exercise N``), outside optional sections (or,
    with ``optional``, inside them)."""
    return sum(len(_EXERCISE.findall(text)) for text, opt in _markdown(path) if opt == optional)


def estimate(path: Path) -> Estimate:
    """The estimate for one notebook file."""
    path = Path(path)
    return Estimate(path.stem, markdown_words(path), count_exercises(path),
                    markdown_words(path, optional=True), count_exercises(path, optional=True))


def stated_minutes(path: Path) -> int | None:
    """The N of the notebook's "Estimated time: N min" line (in its first markdown cell), or None."""
    first = next((c for c in _cells(path) if c["cell_type"] == "markdown"), None)
    found = _STATED.search(_source(first)) if first else None
    return int(found.group(1)) if found else None


def agrees(stated: float, computed: float) -> bool:
    """True when a stated estimate is within :data:`TOLERANCE_MINUTES` or 15% of the computed one."""
    return abs(stated - computed) <= max(TOLERANCE_MINUTES, 0.15 * computed)


def course_estimates(folder: Path = NOTEBOOKS) -> dict[str, Estimate]:
    """Notebook stem -> estimate, for every notebook in ``folder``."""
    return {p.stem: estimate(p) for p in sorted(Path(folder).glob("*.ipynb"))}


def compute_minutes(notebook: str) -> float | None:
    """Measured CPU minutes of notebook ``"03"`` (its number) under ``make course``, or None when not measured."""
    seconds = MEASURED_CPU_SECONDS.get(notebook[:2])
    return None if seconds is None else seconds / 60
