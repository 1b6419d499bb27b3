"""Keep what nbval executed: after a notebook's last cell ran without an error, its outputs are written to
``outputs/<profile>/executed/<notebook>.ipynb``, where ``python -m helpers course`` writes its executed copies too.
``make site`` (docs/build.py) then renders the notebooks of that profile without running them again; CI's site test
relies on it. A notebook with a failed cell leaves no copy (and removes an older one)."""

from __future__ import annotations

import copy
import json

_ran: dict[object, list] = {}
_failed: set[str] = set()


def pytest_runtest_logreport(report) -> None:
    """Remember cells that failed (tests/conftest.py registers this module as a plugin)."""
    if report.failed:
        _failed.add(report.nodeid)


def pytest_runtest_teardown(item, nextitem) -> None:
    after_item(item, nextitem)


def after_item(item, nextitem) -> None:
    """After every test item: when it is the last cell nbval ran of a notebook, save that notebook's copy."""
    if not hasattr(item, "test_outputs") or not str(item.fspath).endswith(".ipynb"):
        return
    _ran.setdefault(item.parent, []).append(item)
    if nextitem is not None and nextitem.parent is item.parent:
        return
    save(item.parent, _ran.pop(item.parent))


def save(notebook_item, items) -> None:
    from pathlib import Path

    from helpers.config import get_profile

    target = get_profile().outputs / "executed" / Path(str(notebook_item.fspath)).name
    nb = copy.deepcopy(notebook_item.nb)
    if any(item.nodeid in _failed for item in items):
        target.unlink(missing_ok=True)  # a failed cell: no copy to render
        return
    outputs = {id(item.cell): [] if getattr(item, "options", {}).get("skip") else item.test_outputs for item in items}
    count = 0
    for original, cell in zip(notebook_item.nb.cells, nb.cells):
        if cell.cell_type != "code":
            continue
        got = outputs.get(id(original))
        if got is None or any(o.get("output_type") == "error" for o in got):
            target.unlink(missing_ok=True)  # not run to the end: no copy to render
            return
        count += 1
        cell.execution_count = count
        cell.outputs = [dict(o, execution_count=count) if o.get("output_type") == "execute_result" else dict(o)
                        for o in got]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
