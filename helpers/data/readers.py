"""Readers and writers for the two common question/passage pair formats.

- The published system's files: one JSON object (despite the ``.jsonl`` name)
  ``{"questions": {qid: text}, "relevant_contexts": {qid: [cid]}, "corpus": {cid: text}}``.
- LlamaIndex's ``EmbeddingQAFinetuneDataset``: ``{"queries", "corpus", "relevant_docs"}``.

Both read into the same :class:`PairSet`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from helpers.data.questions import DataError


@dataclass
class PairSet:
    queries: dict[str, str]
    corpus: dict[str, str]
    relevant_docs: dict[str, list[str]]

    def pairs(self) -> list[dict]:
        """(anchor, positive) rows, one per (question, relevant passage), with the passage id and every relevant
        id of the question (``positive_id``, ``answer_ids``: hard-negative mining never picks those)."""
        return [
            {"anchor": self.queries[q], "positive": self.corpus[c], "positive_id": c,
             "answer_ids": list(self.relevant_docs[q])}
            for q in self.queries
            for c in self.relevant_docs.get(q, [])
        ]


def _read_object(path: Path) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path}:{err.lineno}: not a single JSON object ({err.msg}); both pair formats are one object per file"
        ) from err
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected one JSON object, got {type(data).__name__}")
    return data


def _check(path: Path, data: dict, keys: tuple[str, str, str]) -> PairSet:
    queries_key, corpus_key, relevant_key = keys
    for key in keys:
        if not isinstance(data.get(key), dict):
            raise DataError(f"{path}: field '{key}' is missing or not an object; expected keys {', '.join(keys)}")
    queries, corpus, relevant = data[queries_key], data[corpus_key], data[relevant_key]
    for qid, ids in relevant.items():
        if qid not in queries:
            raise DataError(f"{path}: field '{relevant_key}' names question {qid!r}, absent from '{queries_key}'")
        missing = [c for c in ids if c not in corpus]
        if missing:
            raise DataError(f"{path}: question {qid!r} points to passage {missing[0]!r}, absent from '{corpus_key}'")
    return PairSet(dict(queries), dict(corpus), {q: list(ids) for q, ids in relevant.items()})


def read_published(path: Path) -> PairSet:
    """Read the published system's ``{questions, relevant_contexts, corpus}`` file."""
    return _check(Path(path), _read_object(path), ("questions", "corpus", "relevant_contexts"))


def read_llamaindex(path: Path) -> PairSet:
    """Read LlamaIndex's ``{queries, corpus, relevant_docs}`` file."""
    return _check(Path(path), _read_object(path), ("queries", "corpus", "relevant_docs"))


def read_pairs(path: Path) -> PairSet:
    """Read either format, recognised by its keys."""
    data = _read_object(path)
    if "relevant_contexts" in data:
        return _check(Path(path), data, ("questions", "corpus", "relevant_contexts"))
    if "relevant_docs" in data:
        return _check(Path(path), data, ("queries", "corpus", "relevant_docs"))
    raise DataError(f"{path}: neither format: expected 'relevant_contexts' (published) or 'relevant_docs' (LlamaIndex)")


def write_published(pairs: PairSet, path: Path) -> None:
    """Write the published format (one object, no trailing newline, like the originals)."""
    obj = {"questions": pairs.queries, "relevant_contexts": pairs.relevant_docs, "corpus": pairs.corpus}
    Path(path).write_text(json.dumps(obj), encoding="utf-8")


def write_llamaindex(pairs: PairSet, path: Path) -> None:
    """Write LlamaIndex's format."""
    obj = {"queries": pairs.queries, "corpus": pairs.corpus, "relevant_docs": pairs.relevant_docs}
    Path(path).write_text(json.dumps(obj, indent=1), encoding="utf-8")
