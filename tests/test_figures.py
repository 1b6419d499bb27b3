"""The committed concept figures (notebooks/figures/) are what the drawing code makes today, byte for byte, and every
figure a notebook shows exists. Fix a failure with `python -m helpers figures` and commit the files."""

from __future__ import annotations

import json
import re

import pytest

from helpers.workshop import figures

NOTEBOOKS = figures.ROOT / "notebooks"
SHOWN = re.compile(r"!\[[^\]]*\]\(figures/([^)\s]+)\)")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    figures.render_all(out)
    return out


def test_every_figure_is_drawn_and_committed_as_drawn(fresh):
    problems = figures.compare(fresh)
    assert not problems, f"figures out of date: {problems}; run `{figures.COMMAND}` and commit notebooks/figures/"


def test_drawing_twice_gives_the_same_bytes(fresh, tmp_path):
    name = next(iter(figures.registry()))
    again = figures.render(name, tmp_path)
    assert again.read_bytes() == (fresh / name).read_bytes(), f"{name} is not deterministic"


def test_the_svgs_carry_no_date_or_version():
    for path in figures.FIGURE_DIR.glob("*.svg"):
        head = path.read_text(encoding="utf-8")[:2000]
        assert "<dc:date>" not in head and "Matplotlib v" not in head, path.name


def test_every_figure_a_notebook_shows_is_registered():
    registered = set(figures.registry())
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        shown = {m for c in cells if c["cell_type"] == "markdown" for m in SHOWN.findall("".join(c["source"]))}
        assert shown <= registered, f"{notebook.name} shows {sorted(shown - registered)}: no drawing code makes them"


def test_a_changed_figure_is_reported(fresh, tmp_path):
    name = next(iter(figures.registry()))
    (tmp_path / name).write_bytes((fresh / name).read_bytes() + b"\n")
    assert figures.compare(fresh, tmp_path)[name] == "differs"
