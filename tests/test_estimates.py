"""Each notebook's "Estimated time: N min" line agrees with its own text (reading at 200 wpm plus minutes per
exercise, helpers/workshop/estimates.py), and the compute time it quotes is the one `make course` measured."""

from __future__ import annotations

import json
import re

import pytest

from helpers.workshop import estimates

NOTEBOOKS = sorted(estimates.NOTEBOOKS.glob("*.ipynb"))
MUST_STATE = ("00", "01", "02", "03", "04", "05", "06", "07")  # notebooks whose first cell must carry the line (add yours)
COMPUTE = re.compile(r"compute on 2 CPU cores[^0-9]*(\d+)\s*s\b")


def first_markdown(path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_stated_estimate_agrees_with_the_text(path):
    stated = estimates.stated_minutes(path)
    if stated is None:
        assert path.stem[:2] not in MUST_STATE, f"{path.name}: its first cell has no 'Estimated time: N min' line"
        pytest.skip("states no estimate")
    computed = estimates.estimate(path)
    assert estimates.agrees(stated, computed.minutes), (
        f"{path.name} says {stated} min; its text gives {computed.minutes} min ({computed.words} words at "
        f"{estimates.WPM} wpm + {computed.exercises} exercises x {estimates.EXERCISE_MINUTES} min)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_quoted_compute_time_is_the_measured_one(path):
    found = COMPUTE.search(first_markdown(path))
    if not found:
        pytest.skip("quotes no compute time")
    measured = estimates.MEASURED_CPU_SECONDS.get(path.stem[:2])
    assert measured is not None and int(found.group(1)) == measured, (path.name, found.group(0), measured)


def test_the_estimate_counts_words_and_exercises(tmp_path):
    cells = [{"cell_type": "markdown", "source": ["# T\n", "**Estimated time: 6 min** [a link](https://x.org/a)"]},
             {"cell_type": "code", "source": ["print('not counted words here')"]},
             {"cell_type": "markdown", "source": "### Exercise 1: one\n" + "word " * 200}]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    got = estimates.estimate(path)
    assert got.exercises == 1 and got.words == 1 + 6 + 3 + 200  # the URL is not read, the code not counted
    assert got.minutes == 7 and estimates.stated_minutes(path) == 6 and estimates.agrees(6, 7)
    assert not estimates.agrees(20, 7)


def test_an_optional_section_is_counted_apart(tmp_path):
    cells = [{"cell_type": "markdown", "source": "## 1. Core\n" + "word " * 100},
             {"cell_type": "markdown", "source": "## 2. Optional: more\n### Exercise 3: extra\n" + "word " * 400},
             {"cell_type": "markdown", "source": "more optional words"},
             {"cell_type": "markdown", "source": "## Recap\nback"}]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    got = estimates.estimate(path)
    assert (got.words, got.exercises) == (2 + 100 + 2, 0)
    assert (got.optional_words, got.optional_exercises) == (3 + 3 + 400 + 3, 1)
    assert got.optional_minutes == 8  # 409 words at 200 wpm + one exercise, rounded up
