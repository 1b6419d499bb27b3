"""Load docs/build.py (the site builder, a script) as a module for the tests (see gpu_check_loader.py for why this
is a module of its own and not conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "build.py"


def load_site_builder():
    spec = importlib.util.spec_from_file_location("site_build", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
