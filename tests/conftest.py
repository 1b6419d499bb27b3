"""Shared fixtures. Notebooks (nbval) are collected before these tests (see pyproject's testpaths)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import executed_copies
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "external" / "llms-2023-2024"


def pytest_collection_modifyitems(session, config, items):
    # Remember whether this session executes the notebooks, for test_course_outputs.
    config.notebooks_collected = any(str(item.fspath).endswith(".ipynb") for item in items)


def pytest_configure(config):
    # nbval's notebooks, once run through, keep their outputs for `make site` (tests/executed_copies.py). A plugin,
    # not hooks of this file: a conftest's run hooks only reach the items under its own folder, and notebooks/ is not.
    if not config.pluginmanager.has_plugin("executed-copies"):
        config.pluginmanager.register(executed_copies, "executed-copies")


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of data/ to corrupt."""
    target = tmp_path / "data"
    shutil.copytree(ROOT / "data", target)
    return target


@pytest.fixture(scope="session")
def bundled_model():
    from helpers.config import BUNDLED_MODEL
    from helpers.training.modeling import load_model

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_model(BUNDLED_MODEL, device="cpu")


@pytest.fixture(scope="session")
def course_data():
    from helpers.data.dataset import build_course_data

    return build_course_data()

