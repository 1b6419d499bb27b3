"""The site builder's parts, without Sphinx (docs/build.py; the build itself and the browser check are in
tests/browser/test_site_browser.py): links, static widgets, which executed copies are reused, the link checker, and
the executed copies nbval leaves (tests/executed_copies.py)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import executed_copies
import nbformat
import pytest
from site_loader import load_site_builder

from helpers.config import ROOT, get_profile
from helpers.workshop.colab import repository_url

build = load_site_builder()
PAGES = {"README.md", "docs/results.md", "notebooks/README.md", "notebooks/04_evaluate_retrieval.ipynb"}


def rewrite(text: str, page: str = "README.md") -> str:
    return build.rewrite_links(text, page, PAGES, repository_url())


def test_links_between_pages_stay_relative_and_other_files_point_to_github():
    repo = repository_url()
    assert rewrite("[notes](notebooks/README.md)") == "[notes](notebooks/README.md)"
    assert rewrite("[r](docs/results.md#time-and-memory-measured)") == "[r](docs/results.md#time-and-memory-measured)"
    assert rewrite("[home](../README.md)", "docs/results.md") == "[home](../index.md)"
    assert rewrite("[04](04_evaluate_retrieval.ipynb)", "notebooks/README.md") == "[04](04_evaluate_retrieval.ipynb)"
    assert rewrite("[cfg](helpers/config.py)") == f"[cfg]({repo}/blob/main/helpers/config.py)"
    assert rewrite("[data](data/)") == f"[data]({repo}/tree/main/data)"
    assert rewrite("![fig](docs/figures/matryoshka-prefixes.svg)") == "![fig](docs/figures/matryoshka-prefixes.svg)"
    assert rewrite('<img src="helpers/config.py">') == f'<img src="{repo}/blob/main/helpers/config.py">'


def test_external_links_code_and_missing_targets_are_left_alone():
    assert rewrite("[x](https://example.org/a.md)") == "[x](https://example.org/a.md)"
    assert rewrite("[x](#a-section)") == "[x](#a-section)"
    assert rewrite("[x](no/such/file.md)") == "[x](no/such/file.md)"  # the link checker reports it
    fenced = "```\n[cfg](helpers/config.py)\n```"
    assert rewrite(fenced) == fenced


def test_an_optional_page_not_written_yet_points_to_github():
    glossary = ROOT / "notebooks" / "GLOSSARY.md"
    if glossary.exists():
        pytest.skip("the glossary exists: it is a page of the site")
    assert rewrite("[g](notebooks/GLOSSARY.md)") == f"[g]({repository_url()}/blob/main/notebooks/GLOSSARY.md)"


def widget_notebook(with_state: bool) -> dict:
    view = "application/vnd.jupyter.widget-view+json"
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_q", "IPY_MODEL_dim", "IPY_MODEL_res"]}},
        "q": {"model_name": "TextModel", "state": {"description": "Question:", "value": "What is BM25?"}},
        "dim": {"model_name": "SelectionSliderModel", "state": {"description": "Dim:", "index": 1,
                                                                "_options_labels": ["32", "64"]}},
        "res": {"model_name": "HTMLModel", "state": {"value": "<table><tr><td>relevant chunk at rank 1</td></tr></table>"}},
        "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_p"]}},
        "p": {"model_name": "FloatProgressModel", "state": {"value": 3, "max": 3}},
    }
    outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {view: {"model_id": "box"}, "text/plain": "VBox()"}},
        {"output_type": "display_data", "metadata": {},
         "data": {view: {"model_id": "bar"}, "text/plain": "Batches:   0%|          | 0/3"}},
    ]
    metadata = {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": state}}} if with_state else {}
    return {"metadata": metadata, "cells": [{"cell_type": "code", "source": "", "outputs": outputs}]}


def test_widgets_become_a_static_copy_of_their_saved_state():
    nb = widget_notebook(with_state=True)
    assert build.freeze_widgets(nb) == 2 and "widgets" not in nb["metadata"]
    playground, bar = (o["data"]["text/html"] for o in nb["cells"][0]["outputs"])
    assert "static copy" in playground and "relevant chunk at rank 1" in playground
    assert 'value="What is BM25?"' in playground and "<b>Dim:</b> 64" in playground
    assert '<progress value="3" max="3"' in bar and "static copy" not in bar


def test_without_saved_state_a_widget_says_it_needs_a_kernel_and_progress_bars_go():
    nb = widget_notebook(with_state=False)
    assert build.freeze_widgets(nb) == 1
    (only,) = nb["cells"][0]["outputs"]
    assert "needs a running kernel" in only["data"]["text/html"]


def test_a_widget_that_displayed_its_own_static_copy_keeps_it():
    nb = widget_notebook(with_state=False)
    nb["cells"][0]["outputs"][0]["data"]["text/html"] = '<div class="playground-static">results</div>'
    assert build.freeze_widgets(nb) == 1
    (only,) = nb["cells"][0]["outputs"]
    assert set(only["data"]) == {"text/html"} and "static copy" in only["data"]["text/html"]
    assert '<div class="playground-static">results</div>' in only["data"]["text/html"]


def test_an_executed_copy_is_reused_only_when_it_ran_the_notebook_as_it_is(tmp_path):
    name = "01_load_corpus.ipynb"
    source = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    (tmp_path / name).write_text(json.dumps(source))
    assert build.fresh_copy(name, tmp_path) is not None
    source["cells"][-1]["source"] = "changed since"
    (tmp_path / name).write_text(json.dumps(source))
    assert build.fresh_copy(name, tmp_path) is None
    source = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    code = next(c for c in source["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "error", "ename": "X", "evalue": "", "traceback": []}]
    (tmp_path / name).write_text(json.dumps(source))
    assert build.fresh_copy(name, tmp_path) is None
    assert build.fresh_copy("02_build_pairs.ipynb", tmp_path) is None


def test_the_link_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "b.html").write_text('<h1 id="here">B</h1>')
    (tmp_path / "img.png").write_bytes(b"png")
    (tmp_path / "a.html").write_text(
        '<a href="b.html#here">ok</a><a href="b.html#gone">no anchor</a><a href="c.html">no file</a>'
        '<img src="img.png"><img src="missing.png"><a href="https://example.org/x">external</a><a href="#top">top</a>'
        '<p id="top"></p>')
    problems = build.broken_links(tmp_path)
    assert len(problems) == 3, problems
    assert any("#gone" in p for p in problems) and any("c.html" in p for p in problems)
    assert any("missing.png" in p for p in problems)


def test_nbval_leaves_an_executed_copy_only_of_a_notebook_that_ran_through(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path))
    monkeypatch.setenv("LAB_PROFILE", "smoke")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("1 + 1")])
    notebook = SimpleNamespace(nb=nb, fspath=Path("notebooks/99_x.ipynb"))
    result = nbformat.NotebookNode(output_type="execute_result", data={"text/plain": "2"}, metadata={})
    item = SimpleNamespace(cell=nb.cells[1], test_outputs=[result], nodeid="nb::cell1", options={})
    executed_copies.save(notebook, [item])
    copy = json.loads((get_profile().outputs / "executed" / "99_x.ipynb").read_text())
    assert copy["cells"][1]["outputs"][0]["data"] == {"text/plain": "2"} and copy["cells"][1]["execution_count"] == 1
    assert nb.cells[1].outputs == []  # the collected notebook itself is left as it was
    executed_copies._failed.add("nb::cell1")
    try:
        executed_copies.save(notebook, [item])
    finally:
        executed_copies._failed.discard("nb::cell1")
    assert not (get_profile().outputs / "executed" / "99_x.ipynb").exists()


def test_make_site_runs_the_builder_for_the_profile_it_is_given():
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "site", "PROFILE=smoke", "EXECUTE=never"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "docs/build.py --profile smoke --execute never" in dry
