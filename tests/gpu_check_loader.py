"""Load benchmarks/gpu_check.py as a module: it also holds the tiny random-BERT builder that tests use.

A module of its own (not conftest.py): tests/browser has a conftest too, and two modules named
``conftest`` would shadow each other on import.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"


def load_script(path: Path, name: str):
    """Import a script of the repository (not a package module) as the module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_gpu_check():
    return load_script(SCRIPT, "gpu_check")
