"""The generated modules are the notebooks' `#| export` cells, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.export import export, exported_cells, render_modules


def test_generated_modules_match_their_notebooks():
    stale = export(check=True)
    assert not stale, f"helpers/{stale[0]}.py differs from its notebook cells: run `python -m helpers export`"


def test_export_collects_marked_cells_only(tmp_path: Path):
    notebook = {"cells": [
        {"cell_type": "code", "source": ["#| export demo\n", "def f():\n", "    return 1\n"]},
        {"cell_type": "code", "source": ["print(f())\n"]},
        {"cell_type": "markdown", "source": ["#| export demo\n", "not code\n"]},
        {"cell_type": "code", "source": ["#| export demo\n", "def g():\n", "    return 2"]},
    ]}
    (tmp_path / "01_demo.ipynb").write_text(json.dumps(notebook))
    assert [m for m, _ in exported_cells(tmp_path / "01_demo.ipynb")] == ["demo", "demo"]
    text = render_modules(tmp_path)["demo"]
    assert "def f():" in text and "def g():" in text and "print(f())" not in text and "not code" not in text
    package = tmp_path / "pkg"
    package.mkdir()
    assert export(notebooks_dir=tmp_path, package=package) == ["demo"]
    assert export(check=True, notebooks_dir=tmp_path, package=package) == []
    namespace: dict = {}
    exec((package / "demo.py").read_text(), namespace)
    assert namespace["f"]() + namespace["g"]() == 3
