"""A fresh runtime (Colab, a new clone): install the course around the torch that is already there, and make the
outputs a notebook reads when they are missing. Every notebook's setup cell calls these (through ``doctor``).

- :func:`install_course` runs before the course's packages are installed, so this module imports only the standard
  library and :mod:`helpers.config` at its top.
- :func:`prepare_inputs` checks the outputs notebook N reads with :func:`helpers.pipeline.require`. Missing ones are
  made by ``python -m helpers course --until M`` (M: the last notebook that writes one of them), with one progress
  bar; a stale one (an earlier notebook ran again since) still stops with the lineage message, and nothing runs.
  ``LAB_PREPARE=0`` turns preparing off: a missing input then stops with the message naming the notebook to run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from helpers.config import ROOT, Profile

PREPARE_ENV = "LAB_PREPARE"
TORCH_LINE = re.compile(r"^\s*torch\s*(?:[=<>!~;\[]|$)")

# The outputs each notebook reads, with the notebook that writes them (its first cells call `require` on these).
NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "00": (),
    "01": (),
    "02": (("chunks.jsonl", "01"),),
    "03": (("pairs/train.jsonl", "02"), ("pairs/val_ir.json", "02")),
    "04": (("pairs/test_ir.json", "02"), ("matryoshka/model", "03"), ("mnrl/model", "03")),
    "05": (("results/per_query.csv", "04"), ("results/bootstrap.csv", "04")),
    "06": (("pairs/test_ir.json", "02"), ("matryoshka/model", "03")),
    "07": (("pairs/test_ir.json", "02"), ("matryoshka/model", "03")),
    "08": (("pairs/train.jsonl", "02"), ("pairs/val_ir.json", "02"), ("pairs/test_ir.json", "02"),
           ("matryoshka/model", "03"), ("results/hybrid_choice.json", "04"), ("results/summary.csv", "04")),
    "solutions": (("results/summary.csv", "04"), ("overfit/val_history.csv", "03"),
                  ("results/index_scale.csv", "07")),
}

# Seconds per notebook of `python -m helpers course` on the reference machine (2 CPU cores, no GPU), as the command
# printed them. `default`: docs/results.md "Time and memory" (its first row, the recipe before the current default:
# a mined negative at batch 32). `smoke`: one run of
# `python -m helpers course --profile smoke --until 7` while a training job shared the 2 cores (so on the high side;
# README "Time and memory"). Re-quote these when those figures are measured again.
CPU_SECONDS: dict[str, dict[str, int]] = {
    "default": {"01": 5, "02": 2, "03": 402, "04": 33, "05": 17},
    "smoke": {"01": 15, "02": 7, "03": 326, "04": 99, "05": 71, "06": 44, "07": 47},
}
CPU_NOTE = {"smoke": ", with another job on the CPU", "default": ", with the recipe before the current default"}
GPU_TIMES = "benchmarks/README.md"


# ----------------------------------------------------------------------------- installing
def torch_version(version_of: Callable[[str], str] = metadata.version) -> str | None:
    """The installed torch's version, or None when there is none."""
    try:
        return version_of("torch")
    except metadata.PackageNotFoundError:
        return None


def install_command(root: Path, folder: Path, installed_torch: str | None) -> list[str]:
    """The pip command that installs the course from ``root``; files it needs are written to ``folder``.

    Without torch: ``requirements.txt`` as it is. With a torch already installed (Colab's CUDA build): the same pins
    without the torch line, and a constraints file holding the installed version, so pip never swaps it for the pin.
    """
    requirements = root / "requirements.txt"
    command = [sys.executable, "-m", "pip", "install", "-q"]
    if installed_torch is None:
        return [*command, "-r", str(requirements)]
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if TORCH_LINE.match(line):
            continue
        lines.append(f"-e {root.resolve()}" if line.strip() == "-e ." else line)
    kept = folder / "requirements-without-torch.txt"
    kept.write_text("\n".join(lines) + "\n", encoding="utf-8")
    constraints = folder / "constraints.txt"
    constraints.write_text(f"torch=={installed_torch}\n", encoding="utf-8")
    return [*command, "-r", str(kept), "-c", str(constraints)]


def install_course(root: Path, run: Callable = subprocess.run,
                   version_of: Callable[[str], str] = metadata.version) -> list[str]:
    """Install the course's pinned packages (and its helpers, editable) without replacing an installed torch."""
    root = Path(root)
    installed = torch_version(version_of)
    with tempfile.TemporaryDirectory(prefix="lab-install-") as folder:
        command = install_command(root, Path(folder), installed)
        kept = f"keeping the installed torch {installed}" if installed else "torch from requirements.txt"
        print(f"Installing the course's packages ({kept}); this takes a few minutes the first time.")
        run(command, cwd=root, check=True)
    print("Installed. If an import below fails, use Runtime > Restart session and run this cell again.")
    return command


# ----------------------------------------------------------------------------- preparing inputs
def missing_inputs(profile: Profile, notebook: str) -> list[tuple[str, str]]:
    """(output, writer) for each input of ``notebook`` that does not exist; a stale one raises StaleOutputError."""
    from helpers.pipeline import MissingStepError, StaleOutputError, require

    missing = []
    for relative, writer in NEEDS[notebook]:
        try:
            require(profile, relative)
        except StaleOutputError:
            raise
        except MissingStepError:
            missing.append((relative, writer))
    return missing


def course_command(profile: Profile, until: int) -> list[str]:
    command = [sys.executable, "-m", "helpers", "course", "--profile", profile.name, "--until", str(until)]
    return command + (["--split", profile.split_regime] if profile.split_regime != "chunks" else [])


def estimate(profile: Profile, until: int) -> str:
    """How long preparing notebooks 01..until takes, from the measured figures (or that none were measured)."""
    measured = CPU_SECONDS.get(profile.name, {})
    wanted = [f"{n:02d}" for n in range(1, until + 1)]
    where = f"GPU times are in {GPU_TIMES}"
    if not all(n in measured for n in wanted):
        return f"No CPU time was measured for 01-{wanted[-1]} on the {profile.name} profile; {where}."
    seconds = sum(measured[n] for n in wanted)
    took = f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds} s"
    note = CPU_NOTE.get(profile.name, "")
    return f"Measured on a 2-core CPU{note}: {took} for the {profile.name} profile; {where}."


def _code_cells(name: str) -> int:
    cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return sum(cell["cell_type"] == "code" for cell in cells)


BAR = re.compile(r"(\d\d)_\w+:\s+\d+%\|.*?\|\s*(\d+)/(\d+)")


def run_with_progress(command: list[str], until: int, env: dict | None = None) -> tuple[int, str]:
    """Run ``course`` and turn its per-notebook bars (stderr) into one bar over every code cell of 01..until.

    Returns the exit status and what the command printed on stdout (its timings and, from 04 on, the table).
    """
    from tqdm.auto import tqdm

    names = [path.stem for path in sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))][:until]
    sizes = {name[:2]: _code_cells(name) for name in names}
    before = {}
    total = 0
    for name in names:
        before[name[:2]] = total
        total += sizes[name[:2]]
    bar = tqdm(total=total, desc=f"notebooks 01-{until:02d}", unit="cell")
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
        pending, tail = b"", []
        while chunk := proc.stderr.read1(4096):
            pending += chunk
            *pieces, pending = re.split(rb"[\r\n]", pending)
            for piece in pieces:
                text = piece.decode("utf-8", "replace")
                if (match := BAR.search(text)) and match.group(1) in before:
                    bar.n = before[match.group(1)] + int(match.group(2))
                    bar.set_postfix_str(match.group(1), refresh=False)
                    bar.refresh()
                elif text.strip():
                    tail = (tail + [text])[-20:]
        code = proc.wait()
        bar.close()
        out.seek(0)
        printed = out.read()
    return code, printed if code == 0 else printed + "\n".join(tail)


def prepare_inputs(profile: Profile, notebook: str,
                   run: Callable[[list[str], int, dict], tuple[int, str]] = run_with_progress) -> list[str]:
    """Make the missing outputs ``notebook`` reads (``course --until M``); returns them (empty: nothing to do)."""
    from helpers.pipeline import require

    missing = missing_inputs(profile, notebook)
    if not missing:
        return []
    if os.environ.get(PREPARE_ENV, "1") == "0":
        require(profile, missing[0][0])  # raises MissingStepError, naming the notebook to run first
    until = max(int(writer) for _, writer in NEEDS[notebook])
    command = course_command(profile, until)
    shown = " ".join(["python", *command[1:]])
    which = "notebook 01" if until == 1 else f"notebooks 01-{until:02d}"
    print(f"Notebook {notebook} reads {', '.join(r for r, _ in missing)}, missing for the {profile.name} profile "
          f"(a fresh runtime). Preparing {which} with `{shown}`. {estimate(profile, until)}", flush=True)
    code, printed = run(command, until, {**os.environ, PREPARE_ENV: "0"})
    if code != 0:
        log = profile.outputs / "logs" / "course.log"
        raise RuntimeError(f"`{shown}` failed (exit {code}); the error is at the end of {log}\n{printed[-2000:]}")
    print(printed.strip())
    for relative, _ in NEEDS[notebook]:
        require(profile, relative)  # whatever is still missing now stops here, with its message
    return [relative for relative, _ in missing]
