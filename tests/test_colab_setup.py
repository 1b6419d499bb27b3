"""Colab and any fresh runtime (helpers/workshop/colab.py, helpers/workshop/runtime.py).

- Every notebook's badge and setup cell agree with pyproject.toml's Repository URL, and no placeholder is left.
- The install keeps a torch that is already installed (Colab's CUDA build): simulated with a fake installed version.
- A runtime without outputs prepares what a notebook reads (`course --until M`, one progress bar); a stale input still
  stops with the lineage message and runs nothing; LAB_PREPARE=0 only stops. The last test runs notebook 02's real
  setup cell in an empty outputs folder: it runs notebook 01 through `python -m helpers course --until 1`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from test_lineage import make_chain, remake_chunks

from helpers.config import ROOT, get_profile
from helpers.data.lineage import MissingStepError, StaleOutputError
from helpers.workshop import colab, runtime

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def first(path: Path, kind: str) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == kind)["source"])


# ----------------------------------------------------------------------------- one setting
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_badge_sits_under_the_title_and_opens_this_notebook_from_the_repository(path):
    owner_name = colab.repository_url().removeprefix("https://github.com/")
    lines = first(path, "markdown").split("\n")
    assert lines[0].startswith("# ")
    assert lines[1] == (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                        f"(https://colab.research.google.com/github/{owner_name}/blob/main/notebooks/{path.name})")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_setup_cell_clones_the_same_repository_and_names_its_notebook(path):
    code = first(path, "code")
    assert f'"LAB_REPO_URL", "{colab.repository_url()}.git")' in code
    assert f'NOTEBOOK = "{colab.notebook_id(path)}"' in code
    assert code == colab.setup_cell(path), "run `python -m helpers colab-links` after changing the template"


def test_every_notebook_says_what_it_reads_and_no_placeholder_is_left():
    assert set(runtime.NEEDS) == {colab.notebook_id(p) for p in NOTEBOOKS}
    for path in [*NOTEBOOKS, ROOT / "README.md", ROOT / "notebooks" / "README.md"]:
        assert "YOUR-ORG" not in path.read_text(encoding="utf-8"), path
    assert colab.sync_notebooks(write=False) == {}


def test_the_repository_setting_is_read_from_pyproject_and_checked(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[project]\nname = "x"\n\n[project.urls]\nRepository = "https://github.com/a-b/c.d.git"\n')
    assert colab.repository_url(good) == "https://github.com/a-b/c.d"
    assert colab.badge("01_x.ipynb", "https://github.com/a-b/c.d").endswith(
        "(https://colab.research.google.com/github/a-b/c.d/blob/main/notebooks/01_x.ipynb)")
    bad = tmp_path / "bad.toml"
    bad.write_text('[project.urls]\nHomepage = "https://example.org"\n')
    with pytest.raises(ValueError, match="Repository"):
        colab.repository_url(bad)


def test_a_badge_is_replaced_not_added_twice():
    text = "# 01 · Title\n\nBody."
    once = colab.with_badge(text, "[![Open In Colab](x)](old)")
    twice = colab.with_badge(once, "[![Open In Colab](x)](new)")
    assert twice == "# 01 · Title\n[![Open In Colab](x)](new)\n\nBody."


# ----------------------------------------------------------------------------- installing
def _fake_version(version):
    def version_of(name):
        if version is None:
            raise metadata.PackageNotFoundError(name)
        return version
    return version_of


def test_install_keeps_a_preinstalled_torch_and_installs_every_other_pin(capsys):
    seen = {}

    def run(command, cwd, check):
        seen["command"], seen["cwd"] = command, cwd
        seen["requirements"] = Path(command[command.index("-r") + 1]).read_text()
        seen["constraints"] = Path(command[command.index("-c") + 1]).read_text()

    runtime.install_course(ROOT, run=run, version_of=_fake_version("2.5.1+cu121"))
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    kept = seen["requirements"].splitlines()
    assert not [line for line in kept if line.startswith("torch")], "the torch pin must not reach pip"
    assert {p for p in pins if not p.startswith(("torch==", "-e"))} <= set(kept)
    assert f"-e {ROOT}" in kept  # the course's helpers, editable, wherever pip runs from
    assert seen["constraints"] == "torch==2.5.1+cu121\n" and seen["cwd"] == ROOT
    assert "keeping the installed torch 2.5.1+cu121" in capsys.readouterr().out


def test_install_without_torch_uses_requirements_txt_as_it_is():
    seen = {}
    runtime.install_course(ROOT, run=lambda command, cwd, check: seen.update(command=command),
                           version_of=_fake_version(None))
    assert seen["command"][-2:] == ["-r", str(ROOT / "requirements.txt")] and "-c" not in seen["command"]


# ----------------------------------------------------------------------------- preparing inputs
@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A runtime with no outputs: LAB_OUTPUTS points to an empty folder."""
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path / "outputs"))
    monkeypatch.delenv(runtime.PREPARE_ENV, raising=False)
    return get_profile("smoke")


FAKE_COURSE = r"""
import os, sys, pathlib, time
out = pathlib.Path(os.environ["LAB_OUTPUTS"]) / "smoke"
for notebook, cells in (("01_load_corpus", 4), ("02_build_pairs", 3), ("03_train_matryoshka", 5)):
    for done in range(cells + 1):
        sys.stderr.write(f"\r{notebook}:  {100 * done // cells}%|##   | {done}/{cells} [00:01<00:00,  1.0cell/s]")
        sys.stderr.flush()
    sys.stderr.write("\n")
(out / "pairs").mkdir(parents=True)
(out / "pairs" / "test_ir.json").write_text("{}")
for name in ("matryoshka", "mnrl"):
    (out / name / "model").mkdir(parents=True)
(out / "env.txt").write_text(os.environ.get("LAB_PREPARE", ""))
print("done in 3 s; peak kernel memory 0.1 GiB")
"""


@pytest.mark.filterwarnings("ignore::helpers.data.lineage.LineageWarning")  # the fake course records no lineage
def test_a_fresh_runtime_prepares_what_the_notebook_reads_with_one_progress_bar(fresh, monkeypatch, capsys):
    assert runtime.course_command(fresh, 3)[1:] == ["-m", "helpers", "course", "--profile", "smoke", "--until", "3"]
    bars = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.total, self.n = total, 0
            bars.append(self)

        def set_postfix_str(self, text, refresh=True):
            pass

        def refresh(self):
            bars.append(self.n)

        def close(self):
            pass

    monkeypatch.setattr("tqdm.auto.tqdm", Bar)
    monkeypatch.setattr(runtime, "course_command", lambda profile, until: [sys.executable, "-c", FAKE_COURSE])
    monkeypatch.setattr(runtime, "_code_cells", lambda name: {"01": 4, "02": 3, "03": 5}[name[:2]])
    prepared = runtime.prepare_inputs(fresh, "04")
    assert prepared == ["pairs/test_ir.json", "matryoshka/model", "mnrl/model"]
    printed = capsys.readouterr().out
    assert "Preparing notebooks 01-03 with `python -c" in printed and "benchmarks/README.md" in printed
    assert "Measured on a 2-core CPU" in printed and "done in 3 s" in printed
    bar, *steps = bars
    assert bar.total == 12 and steps[-1] == 12 and steps == sorted(steps)  # one bar over 01-03's cells, forward only
    assert (fresh.outputs / "env.txt").read_text() == "0"  # the course's kernels do not prepare again
    assert runtime.prepare_inputs(fresh, "04", run=lambda *a: pytest.fail("ran again")) == []  # now present


def test_a_stale_input_stops_with_the_lineage_message_and_prepares_nothing(fresh):
    make_chain(fresh.outputs)
    remake_chunks(fresh.outputs, chunk_size=500)  # notebook 01 ran again with other settings: pairs/ is stale
    with pytest.raises(StaleOutputError, match="02_build_pairs"):
        runtime.prepare_inputs(fresh, "06", run=lambda *a: pytest.fail("a stale input must not be prepared"))


def test_lab_prepare_0_stops_with_the_missing_step_message(fresh, monkeypatch):
    monkeypatch.setenv(runtime.PREPARE_ENV, "0")
    with pytest.raises(MissingStepError, match="run notebooks/01_load_corpus.ipynb first"):
        runtime.prepare_inputs(fresh, "02", run=lambda *a: pytest.fail("LAB_PREPARE=0 must not prepare"))


def test_the_estimate_quotes_measured_cpu_time_or_says_there_is_none(fresh):
    default = get_profile("default")
    assert "6.8 min" in runtime.estimate(default, 3) and "benchmarks/README.md" in runtime.estimate(default, 3)
    assert "No CPU time was measured" in runtime.estimate(get_profile("full"), 3)


def test_the_real_setup_cell_of_notebook_02_on_an_empty_outputs_folder_runs_notebook_01(tmp_path):
    code = first(ROOT / "notebooks" / "02_build_pairs.ipynb", "code")
    env = {**os.environ, "LAB_PROFILE": "smoke", "LAB_OUTPUTS": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env.pop(runtime.PREPARE_ENV, None)
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "notebooks", env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "python -m helpers course --profile smoke --until 1" in run.stdout
    assert (tmp_path / "smoke" / "chunks.jsonl").exists() and (tmp_path / "smoke" / "executed" / "01_load_corpus.ipynb").exists()
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "notebooks", env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and "Preparing" not in again.stdout  # present now: nothing to do
