"""JSON Lines files: the one reader and writer every step uses."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from helpers.data.questions import DataError


def write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    """Write one JSON object per line, through a temporary file renamed at the end (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(partial, path)
    return path


def read_jsonl(path: Path) -> list[dict]:
    """Read one JSON object per line; a bad line raises DataError naming the file and line."""
    rows = []
    for line_no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{line_no}: not valid JSON ({err.msg})") from None
    return rows
