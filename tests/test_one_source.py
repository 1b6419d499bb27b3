"""One source of truth: notebook 03's code and `python -m helpers train` are the same recipe.

Notebook 03 defines the recipe in cells that `python -m helpers export` copies into helpers/lessons/recipe.py (the sync is
tested in test_export.py). Here both entry points train under `smoke` on the same pairs with the same seed and must
give the same val metrics at every epoch and dim, to 1e-6.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from helpers.config import ROOT, get_profile


def execute_notebook_03(outputs_root: Path, monkeypatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LAB_OUTPUTS", str(outputs_root))
    monkeypatch.setenv("LAB_PROFILE", "smoke")
    path = ROOT / "notebooks" / "03_train_matryoshka.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()


def test_notebook_03_and_cli_train_give_the_same_val_metrics(request, tmp_path: Path, monkeypatch):
    smoke = get_profile("smoke")
    notebook_run = smoke.outputs  # where nbval ran notebook 03 in this pytest session, if it did
    if not (getattr(request.config, "notebooks_collected", False) and (notebook_run / "matryoshka" /
                                                                       "val_history.csv").exists()):
        notebook_run = tmp_path / "notebook" / "smoke"
        # Prepare pairs with the command line, then run the notebook on them.
        env = {**os.environ, "LAB_OUTPUTS": str(tmp_path / "prepare"), "HF_HUB_OFFLINE": "1"}
        subprocess.run([sys.executable, "-c", "from helpers.config import get_profile; "
                        "from helpers.pipeline import step_build_pairs, step_load_corpus; p = get_profile('smoke'); "
                        "step_load_corpus(p); step_build_pairs(p)"], env=env, cwd=ROOT, check=True)
        shutil.copytree(tmp_path / "prepare" / "smoke", notebook_run)
        execute_notebook_03(tmp_path / "notebook", monkeypatch)
    cli_run = tmp_path / "cli" / "smoke"
    cli_run.mkdir(parents=True)
    shutil.copytree(notebook_run / "pairs", cli_run / "pairs")  # the same pairs: `train` prepares none
    env = {**os.environ, "LAB_OUTPUTS": str(tmp_path / "cli"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "helpers", "train", "--profile", "smoke"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    from_notebook = pd.read_csv(notebook_run / "matryoshka" / "val_history.csv")
    from_cli = pd.read_csv(cli_run / "matryoshka" / "val_history.csv")
    assert list(from_cli.columns) == list(from_notebook.columns)
    assert len(from_cli) == len(from_notebook) == smoke.epochs + 1
    pd.testing.assert_frame_equal(from_cli, from_notebook, check_exact=False, atol=1e-6, rtol=0)
