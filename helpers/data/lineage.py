"""What each output under ``outputs/<profile>/`` was made from, so that no step reads a stale one.

Every step that writes an output also writes ``outputs/<profile>/lineage/<output>.json``::

    {"output": "pairs", "made_by": "02_build_pairs",
     "digest": <sha256 of the output's files>, "files": {file: sha256, ...},
     "parents": {input: sha256 of that input when this output was made},
     "parent_settings": {input: the settings recorded for that input then},
     "settings": {what else decided the result: route, split, seed, recipe, ...}}

Fingerprints are of content (sha256 over a file's bytes; over a folder, the files' fingerprints sorted by relative
path), never of paths or times: a copied or moved outputs folder stays valid. :func:`check` walks an output's chain:
its files still have the recorded fingerprint, and each input still has the fingerprint the output recorded, down
to notebook 01's files. A mismatch raises :class:`StaleOutputError`, saying what changed and which notebook to
re-run. An outputs folder with no ``lineage/`` at all was made before the course recorded lineage: it is accepted
with a :class:`LineageWarning`; in a folder that has one, an output without a record is stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

LINEAGE_DIR = "lineage"
NOTEBOOKS = ("01_load_corpus", "02_build_pairs", "03_train_matryoshka", "04_evaluate_retrieval",
             "05_plot_dims_vs_ndcg")
PRODUCED_BY = {
    "chunks.jsonl": "01_load_corpus",
    "corpus.jsonl": "01_load_corpus",
    "pairs": "02_build_pairs",
    "matryoshka": "03_train_matryoshka",
    "mnrl": "03_train_matryoshka",
    "matryoshka_held_out": "03_train_matryoshka",
    "results": "04_evaluate_retrieval",
    "plots/ndcg_vs_dim.png": "05_plot_dims_vs_ndcg",
}
_WHAT_CHANGED = {
    "01_load_corpus": "the documents or the chunking changed",
    "02_build_pairs": "the questions, the split or its settings changed",
    "03_train_matryoshka": "the model was trained again",
}
# Outputs the course's steps record; in a folder with lineage/, one of these without a record is stale.
_TRACKED = re.compile(r"(corpus\.jsonl|chunks\.jsonl|pairs(/.*)?|(matryoshka|mnrl|matryoshka_held_out)/model(/.*)?"
                      r"|results/(per_query|summary|bootstrap)(_test_chunks_only)?\.csv|results/hybrid_choice\.json)")
# In a folder's fingerprint: not what a step reads back (a model's checkpoints, logs, its card, hidden files).
_SKIP_DIRS = {"checkpoints", "logs", "runs", "__pycache__"}
_SKIP_FILES = {"README.md", "train_log.jsonl"}
_CACHE_FROM = 8 << 20  # files this large (model weights) are hashed once per process while unchanged
_cache: dict[tuple, str] = {}
_warned: set[str] = set()


class MissingStepError(FileNotFoundError):
    """An earlier notebook has not been run for this profile."""


class StaleOutputError(MissingStepError):
    """An earlier step's output no longer matches what it was made from: the message names the notebook to re-run."""


class LineageWarning(UserWarning):
    """Outputs made before lineage was recorded: they cannot be checked against each other."""


# ----------------------------------------------------------------------------- fingerprints

def file_digest(path: Path) -> str:
    """sha256 of a file's bytes."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if stat.st_size >= _CACHE_FROM and key in _cache:
        return _cache[key]
    hasher = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(block)
    if stat.st_size >= _CACHE_FROM:
        _cache[key] = hasher.hexdigest()
    return hasher.hexdigest()


def folder_files(folder: Path) -> list[str]:
    """The files of a folder that make up its content, as sorted relative paths (symbolic links followed)."""
    folder = Path(folder)
    found = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith((".", "checkpoint-"))]
        found += [(Path(root) / n).relative_to(folder).as_posix() for n in names
                  if n not in _SKIP_FILES and not n.startswith(".") and not n.endswith(".log")]
    return sorted(found)


def _combine(files: dict[str, str]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(files):
        hasher.update(f"{name}\0{files[name]}\n".encode())
    return hasher.hexdigest()


def content_digest(path: Path, files: list[str] | None = None) -> str:
    """sha256 of a file, or of a folder's files (``files``, relative to it; default: :func:`folder_files`)."""
    path = Path(path)
    if path.is_file():
        return file_digest(path)
    names = folder_files(path) if files is None else files
    return _combine({f: file_digest(path / f) if (path / f).is_file() else "missing" for f in names})


def ir_digest(ir: dict) -> str:
    """sha256 of an IR set's queries, corpus and relevance (sets or lists), whatever the key order."""
    plain = {"queries": ir["queries"], "corpus": ir["corpus"],
             "relevant_docs": {q: sorted(ids) for q, ids in ir["relevant_docs"].items()}}
    return hashlib.sha256(json.dumps(plain, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ----------------------------------------------------------------------------- records

def producer(name: str) -> str | None:
    """The notebook that writes ``name`` (a path under the outputs folder), or None."""
    parts = name.split("/")
    return next((PRODUCED_BY[p] for p in ("/".join(parts[:i]) for i in range(len(parts), 0, -1)) if p in PRODUCED_BY),
                None)


def record_file(outputs: Path, name: str) -> Path:
    return Path(outputs) / LINEAGE_DIR / f"{name}.json"


def read_record(outputs: Path, name: str) -> dict | None:
    path = record_file(outputs, name)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def owner(outputs: Path, relative: str) -> tuple[str, dict] | None:
    """The recorded output that ``relative`` is or lies in (the longest recorded prefix), with its record."""
    parts = relative.strip("/").split("/")
    for i in range(len(parts), 0, -1):
        name = "/".join(parts[:i])
        entry = read_record(outputs, name)
        if entry is not None:
            return name, entry
    return None


def current_digest(outputs: Path, relative: str) -> str | None:
    """The fingerprint of ``relative`` now (over the files its own record lists, when it has one); None if absent."""
    path = Path(outputs) / relative
    if not path.exists():
        return None
    entry = read_record(outputs, relative)
    return content_digest(path, list(entry["files"]) if entry and entry.get("files") else None)


def record(outputs: Path, name: str, parents: list[str] | tuple = (), settings: dict | None = None,
           files: list[str] | None = None, unknown_inputs: str | None = None) -> dict:
    """Write ``lineage/<name>.json``: the fingerprint of ``outputs/<name>`` (a file, or a folder's ``files``) and of
    each parent that exists. ``unknown_inputs`` says why the inputs could not be identified (then it is stale)."""
    outputs = Path(outputs)
    target = outputs / name
    listed = None
    if not target.is_file():
        listed = {f: file_digest(target / f) for f in (files if files is not None else folder_files(target))}
    entry = {"output": name, "made_by": producer(name),
             "digest": file_digest(target) if listed is None else _combine(listed), "files": listed,
             "parents": {}, "parent_settings": {}, "settings": json.loads(json.dumps(settings or {}, default=str))}
    for parent in parents:
        digest = current_digest(outputs, parent)
        if digest is None:
            continue  # not made here by the course's steps: nothing to follow
        entry["parents"][parent] = digest
        found = owner(outputs, parent)
        entry["parent_settings"][parent] = found[1].get("settings", {}) if found else {}
    if unknown_inputs:
        entry["unknown_inputs"] = unknown_inputs
    path = record_file(outputs, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return entry


# ----------------------------------------------------------------------------- checks

def tracked(relative: str) -> bool:
    """Whether ``relative`` is an output the course's steps record (so that lacking a record makes it stale)."""
    return _TRACKED.fullmatch(relative.strip("/")) is not None


def check(outputs: Path, relative: str, how: str = "") -> None:
    """Raise :class:`StaleOutputError` when ``outputs/<relative>`` or anything it was made from changed since.

    Of several stale steps, the message names the earliest (the notebook to re-run first). ``how`` ends its advice
    (e.g. "with LAB_PROFILE=smoke (or `python -m helpers course ...`)").
    """
    outputs = Path(outputs)
    found = owner(outputs, relative)
    if found is None:
        if not tracked(relative):
            return
        if not (outputs / LINEAGE_DIR).is_dir():
            _warn_unrecorded(outputs, how)
            return
        problems = [(producer(relative), relative, _no_record(relative))]
    else:
        problems = _problems(outputs, *found, seen=set())
    if problems:
        first, stale, detail = min(problems, key=lambda p: NOTEBOOKS.index(p[0]) if p[0] in NOTEBOOKS else 99)
        raise _stale(outputs, relative, stale, detail, first, how)


def _problems(outputs: Path, name: str, entry: dict, seen: set[str]) -> list[tuple[str | None, str, str]]:
    """Each stale step under ``name`` as (notebook to re-run, output, what changed); its inputs' chains first."""
    if name in seen:
        return []
    seen.add(name)
    found_problems = []
    if entry.get("unknown_inputs"):
        found_problems.append((producer(name), name, f"{_label(outputs, name)} {entry['unknown_inputs']}."))
    for parent, then in entry.get("parents", {}).items():
        found = owner(outputs, parent)
        if found is not None:
            found_problems += _problems(outputs, *found, seen=seen)
        elif tracked(parent):
            found_problems.append((producer(parent), parent, _no_record(parent)))
        now = current_digest(outputs, parent)
        if now is None:
            found_problems.append((producer(parent) or producer(name), name,
                                   f"{_label(outputs, name)} was made from {parent}, which is now missing."))
        elif now != then:
            made_by = producer(parent)
            why = _WHAT_CHANGED.get(made_by, "it changed")
            settings = _settings_change(entry.get("parent_settings", {}).get(parent, {}),
                                        found[1].get("settings", {}) if found else {})
            found_problems.append((producer(name), name, (
                f"{_label(outputs, name)} was made from {parent} {then[:12]}, but {parent} is now {now[:12]} "
                f"({f'notebook {made_by[:2]} ran again: ' if made_by else ''}{why}; {settings}).")))
    now = current_digest(outputs, name)
    if now is None:
        found_problems.append((producer(name), name, f"{name} is missing."))
    elif now != entry["digest"]:
        changed = sorted(f for f, d in (entry.get("files") or {}).items()
                         if not (outputs / name / f).is_file() or file_digest(outputs / name / f) != d)
        detail = f" ({', '.join(changed[:5])})" if changed else ""
        found_problems.append((producer(name), name, (
            f"{_label(outputs, name)} changed after {producer(name) or 'the step that made it'} wrote it{detail}: "
            "it no longer holds what was recorded.")))
    return found_problems


def _label(outputs: Path, name: str) -> str:
    return f"{name}/" if (Path(outputs) / name).is_dir() else name


def _no_record(name: str) -> str:
    return (f"{name} has no lineage record, so what it was made from cannot be checked: it was written before the "
            "course recorded lineage, or by code other than the course's steps.")


def _settings_change(then: dict, now: dict) -> str:
    changed = [k for k in sorted(set(then) | set(now)) if then.get(k) != now.get(k)]
    if not changed:
        shown = ", ".join(f"{k}={v}" for k, v in list(then.items())[:4])
        return f"same settings ({shown}), other content" if shown else "other content"
    return ("settings then: " + ", ".join(f"{k}={then.get(k)}" for k in changed)
            + "; now: " + ", ".join(f"{k}={now.get(k)}" for k in changed))


def _stale(outputs: Path, requested: str, stale: str, detail: str, first: str | None, how: str) -> StaleOutputError:
    """The error: which output cannot be used, what changed, and the notebooks to re-run from ``first`` on."""
    path = Path(outputs) / requested
    last = producer(requested)
    if first in NOTEBOOKS:
        start = NOTEBOOKS.index(first)
        later = NOTEBOOKS[start + 1: NOTEBOOKS.index(last) + 1] if last in NOTEBOOKS else ()
        advice = f"Re-run notebooks/{first}.ipynb" + (f", then {', '.join(later)}" if later else "")
        advice += " (and the notebooks after, in order)"
    else:
        advice = f"Re-make {stale} with the step that wrote it"
    head = f"{path} is stale: " if stale == requested else f"{path} is stale, because "
    return StaleOutputError(f"{head}{detail}\n{advice}{' ' + how if how else ''}.")


def _warn_unrecorded(outputs: Path, how: str) -> None:
    if str(outputs) in _warned:
        return
    _warned.add(str(outputs))
    warnings.warn(f"{outputs} has no {LINEAGE_DIR}/ folder: its outputs were made before the course recorded what "
                  "each one is made from, so they cannot be checked against each other. Re-run the notebooks from 01 "
                  f"{how or '(or `python -m helpers course`)'} to be sure they match.", LineageWarning, stacklevel=4)
