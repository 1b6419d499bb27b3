"""Load docs/build.py (the site builder, a script) as a module for the tests (see gpu_check_loader.py for why this
is a module of its own and not conftest.py)."""

from __future__ import annotations

from gpu_check_loader import ROOT, load_script

SCRIPT = ROOT / "docs" / "build.py"


def load_site_builder():
    return load_script(SCRIPT, "site_build")
