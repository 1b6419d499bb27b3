"""Colab links from one setting: the ``Repository`` URL under ``[project.urls]`` in pyproject.toml.

Every notebook's first markdown cell carries an "Open in Colab" badge under its title, and its first code cell (the
setup cell) clones that same repository on Colab. ``python -m helpers colab-links`` writes both from the setting
(after you change it, or when a notebook is added); ``--check`` only reports what differs (tests/test_colab_setup.py
runs it). The setup cell is one template for all notebooks, except the line naming the notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers.config import ROOT

PYPROJECT = ROOT / "pyproject.toml"
NOTEBOOKS = ROOT / "notebooks"
BRANCH = "main"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\s*$")

SETUP_CELL = '''\
# Setup: works from notebooks/ locally, and on Colab, where it first clones the course (see notebooks/README.md).
import os
import subprocess
import sys
from pathlib import Path

NOTEBOOK = "{notebook}"  # this notebook: on a fresh runtime, the outputs it reads are prepared at the end of this cell
REPO_URL = os.environ.get("LAB_REPO_URL", "{clone_url}")  # pyproject.toml's Repository
if "google.colab" in sys.modules and not Path("helpers").is_dir() and Path.cwd().name != "notebooks":
    # Only on Colab: fetch the course, then install its pins around the torch Colab already has (its CUDA build stays).
    if not Path("matryoshka-lab").is_dir():
        subprocess.run(["git", "clone", "--depth", "1", REPO_URL, "matryoshka-lab"], check=True)
    sys.path.insert(0, str(Path("matryoshka-lab").resolve()))
    from helpers.workshop.doctor import install_course  # needs only the standard library

    install_course(Path("matryoshka-lab"))
    os.chdir("matryoshka-lab/notebooks")
    # os.environ["LAB_PROFILE"] = "full"  # on a GPU with internet: the published model and recipe
    # os.environ["LAB_OUTPUTS"] = "/content/drive/MyDrive/matryoshka-lab"  # keep outputs (mount Drive first)

HERE = Path.cwd()
ROOT = HERE.parent if HERE.name == "notebooks" else HERE
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so `helpers` imports even without `pip install -e .`

from helpers.config import get_profile
from helpers.training import device_summary
from helpers.workshop.doctor import prepare_inputs

profile = get_profile()  # chosen by the LAB_PROFILE environment variable: smoke, default (offline) or full
OUT = profile.outputs
print(f"profile: {{profile.name}} | model: {{profile.model}} | split: {{profile.split_regime}} | device: {{device_summary()}}")
print(f"outputs: {{OUT}}")
# Outputs of earlier notebooks that are missing (a fresh runtime) are made now, by `python -m helpers course --until M`;
# stale ones (an earlier notebook ran again since) stop here with what to re-run. LAB_PREPARE=0: only stop.
prepared = prepare_inputs(profile, NOTEBOOK)'''


def repository_url(pyproject: Path = PYPROJECT) -> str:
    """``[project.urls] Repository`` of pyproject.toml (https://github.com/<owner>/<name>, no ``.git``)."""
    text = pyproject.read_text(encoding="utf-8")
    section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = section and re.search(r'^\s*Repository\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not found:
        raise ValueError(f"{pyproject}: set Repository under [project.urls] to the course's GitHub URL")
    url = found.group(1).rstrip("/").removesuffix(".git")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"{pyproject}: Repository must be https://github.com/<owner>/<name>, not {url!r}")
    return url


def documentation_url(pyproject: Path = PYPROJECT) -> str | None:
    """``[project.urls] Documentation``: where the built site is published, when it is."""
    text = pyproject.read_text(encoding="utf-8")
    section = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    found = section and re.search(r'^\s*Documentation\s*=\s*"([^"]+)"', section.group(1), re.M)
    return found.group(1) if found else None


def colab_url(notebook: str, repository: str | None = None) -> str:
    owner_name = (repository or repository_url()).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_name}/blob/{BRANCH}/notebooks/{notebook}"


def badge(notebook: str, repository: str | None = None) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook, repository)})"


def notebook_id(path: Path) -> str:
    """What the setup cell's NOTEBOOK line holds: "04" for 04_evaluate_retrieval.ipynb, else the file's stem."""
    return path.stem[:2] if re.match(r"\d\d_", path.name) else path.stem


def setup_cell(path: Path, repository: str | None = None) -> str:
    return SETUP_CELL.format(notebook=notebook_id(path), clone_url=f"{repository or repository_url()}.git")


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def with_badge(markdown: str, line: str) -> str:
    """The first markdown cell with ``line`` directly under its title (replacing an older badge line)."""
    rows = markdown.split("\n")
    rows = [row for row in rows if not BADGE_LINE.match(row)]
    title = next((i for i, row in enumerate(rows) if row.startswith("# ")), 0)
    rows.insert(title + 1, line)
    if title + 2 < len(rows) and rows[title + 2].strip():
        rows.insert(title + 2, "")
    text = "\n".join(rows)
    return text.replace(f"{line}\n\n\n", f"{line}\n\n")


def sync_notebook(path: Path, repository: str, write: bool) -> list[str]:
    """Put the badge and the setup cell in one notebook; returns what was (or, with write=False, would be) changed."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    cells = nb["cells"]
    changes = []
    first_md = next(c for c in cells if c["cell_type"] == "markdown")
    first_code = next(c for c in cells if c["cell_type"] == "code")
    markdown = with_badge(_source(first_md), badge(path.name, repository))
    if markdown != _source(first_md):
        first_md["source"] = _lines(markdown)
        changes.append("badge")
    code = setup_cell(path, repository)
    if code != _source(first_code):
        first_code["source"] = _lines(code)
        changes.append("setup cell")
    if changes and write:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changes


def sync_notebooks(write: bool = True, folder: Path = NOTEBOOKS, pyproject: Path = PYPROJECT) -> dict[str, list[str]]:
    repository = repository_url(pyproject)
    found = {path.name: sync_notebook(path, repository, write) for path in sorted(folder.glob("*.ipynb"))}
    return {name: changes for name, changes in found.items() if changes}
