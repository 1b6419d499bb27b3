"""Evidence-anchored questions: loading, validation and mapping to chunks.

A question is tied to a verbatim evidence quote, not to a chunk id, so it survives any
chunk size: its relevant chunks are those that hold the quote, or at least half of it.

When the same fact is stated in more than one place, the record lists the other passages in
``also``: ``[{"document": "...", "evidence": "..."}]``. Every passage counts as relevant (in
the split, in val and test, and as a never-negative in hard-negative mining); the first,
``evidence``, is the training positive.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from helpers.data.corpus import Chunk, Document

KINDS = ("factoid", "why", "how", "comparison")
REQUIRED_FIELDS = ("id", "question", "document", "evidence", "kind")
EVIDENCE_MIN_CHARS = 40
EVIDENCE_MAX_CHARS = 300
# A chunk is relevant when it holds at least this share of the evidence quote.
MIN_EVIDENCE_SHARE = 0.5


class DataError(ValueError):
    """Bad input data; the message names the file, line and field, and what to do."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    document: str
    evidence: str
    kind: str
    source: str = ""  # "file:line" the record came from, for error messages
    also: tuple[tuple[str, str], ...] = ()  # (document, evidence) of other passages stating the same fact
    not_also: tuple[str, ...] = ()  # documents checked by a person: they share key facts but do not answer it

    @property
    def passages(self) -> list[tuple[str, str]]:
        """Every (document, evidence quote) that answers the question, the primary one first."""
        return [(self.document, self.evidence), *self.also]


def load_questions(path: Path) -> list[Question]:
    """Read a JSON Lines file (or every ``*.jsonl`` in a folder) of question records."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no *.jsonl question files found")
    questions: list[Question] = []
    for file in files:
        for line_no, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{file}:{line_no}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{where}: not valid JSON ({err.msg}); one object per line") from err
            if not isinstance(record, dict):
                raise DataError(f"{where}: expected a JSON object with fields {REQUIRED_FIELDS}")
            for field in REQUIRED_FIELDS:
                value = record.get(field)
                if not isinstance(value, str) or not value.strip():
                    raise DataError(f"{where}: field '{field}' is missing or empty; give it a non-empty string")
            if record["kind"] not in KINDS:
                raise DataError(f"{where}: field 'kind' is {record['kind']!r}; use one of {', '.join(KINDS)}")
            n = len(record["evidence"])
            if not EVIDENCE_MIN_CHARS <= n <= EVIDENCE_MAX_CHARS:
                raise DataError(
                    f"{where}: field 'evidence' has {n} characters; quote "
                    f"{EVIDENCE_MIN_CHARS}-{EVIDENCE_MAX_CHARS} characters"
                )
            also = _also_passages(record.get("also"), where)
            not_also = record.get("not_also", [])
            if not isinstance(not_also, list) or not all(isinstance(v, str) for v in not_also):
                raise DataError(f"{where}: field 'not_also' must be a list of document names")
            questions.append(Question(**{f: record[f] for f in REQUIRED_FIELDS}, source=where, also=also,
                                      not_also=tuple(not_also)))
    seen: dict[str, str] = {}
    for q in questions:
        if q.id in seen:
            raise DataError(f"{q.source}: field 'id' {q.id!r} repeats the id at {seen[q.id]}; ids must be unique")
        seen[q.id] = q.source
    return questions


def _also_passages(value, where: str) -> tuple[tuple[str, str], ...]:
    """Check the optional ``also`` field: a list of {"document", "evidence"} objects."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DataError(f'{where}: field \'also\' must be a list of {{"document": ..., "evidence": ...}} objects')
    passages = []
    for i, item in enumerate(value):
        field = f"also[{i}]"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k].strip()
                                                 for k in ("document", "evidence")):
            raise DataError(f"{where}: field '{field}' needs non-empty strings 'document' and 'evidence'")
        n = len(item["evidence"])
        if not EVIDENCE_MIN_CHARS <= n <= EVIDENCE_MAX_CHARS:
            raise DataError(f"{where}: field '{field}.evidence' has {n} characters; quote "
                            f"{EVIDENCE_MIN_CHARS}-{EVIDENCE_MAX_CHARS} characters")
        passages.append((item["document"], item["evidence"]))
    return tuple(passages)


def evidence_span(question: Question, docs_by_name: dict[str, Document], which: int = 0) -> tuple[int, int]:
    """Return the (start, end) of passage ``which`` (0: ``evidence``, 1..: ``also``) in its document; it must
    occur exactly once."""
    document, quote = question.passages[which]
    field = "evidence" if which == 0 else f"also[{which - 1}]"
    document_field = "document" if which == 0 else f"{field}.document"
    doc = docs_by_name.get(document)
    if doc is None:
        raise DataError(
            f"{question.source}: field '{document_field}' {document!r} is not in the corpus; "
            f"use one of {', '.join(sorted(docs_by_name))}"
        )
    count = doc.text.count(quote)
    if count != 1:
        problem = "is not found" if count == 0 else f"occurs {count} times"
        raise DataError(
            f"{question.source}: field '{field}' {problem} in the extracted text of {doc.name}; "
            "quote a passage that occurs exactly once (whitespace collapsed, within one paragraph)"
        )
    start = doc.text.index(quote)
    return start, start + len(quote)


def map_to_chunks(
    questions: list[Question], docs: list[Document], chunks: list[Chunk]
) -> dict[str, list[str]]:
    """Map each question id to the ids of the chunks holding most of its evidence.

    Chunks are returned best first (largest share of the evidence).
    """
    docs_by_name = {d.name: d for d in docs}
    chunks_by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        chunks_by_doc.setdefault(chunk.document, []).append(chunk)
    relevant: dict[str, list[str]] = {}
    for q in questions:
        ids: list[str] = []
        for which, (document, _) in enumerate(q.passages):
            start, end = evidence_span(q, docs_by_name, which)
            scored = [(-overlap, chunk.start, chunk.id)
                      for overlap, chunk in chunks_overlapping(start, end, chunks_by_doc.get(document, []))]
            if not scored:
                field = "evidence" if which == 0 else f"also[{which - 1}]"
                raise DataError(
                    f"{q.source}: field '{field}' maps to no chunk (no chunk holds half of it); "
                    "quote a shorter passage"
                )
            ids.extend(cid for _, _, cid in sorted(scored) if cid not in ids)
        relevant[q.id] = ids
    return relevant


def evidence_chunks(questions: list[Question], docs: list[Document], chunks: list[Chunk]) -> dict[str, list[str]]:
    """Map each question id to every chunk that holds any character of any of its passages.

    A superset of :func:`map_to_chunks`: a chunk holding a third of a quote is not labelled relevant, but it
    must not be mined as a hard negative either.
    """
    docs_by_name = {d.name: d for d in docs}
    touching: dict[str, list[str]] = {}
    for q in questions:
        ids: list[str] = []
        for which, (document, _) in enumerate(q.passages):
            start, end = evidence_span(q, docs_by_name, which)
            ids.extend(c.id for c in chunks if c.document == document and c.start < end and start < c.end
                       and c.id not in ids)
        touching[q.id] = ids
    return touching


def chunks_overlapping(start: int, end: int, doc_chunks: list[Chunk], relative_to_chunk: bool = False):
    """(overlap, chunk) for each chunk holding at least ``MIN_EVIDENCE_SHARE`` of the span ``start:end`` of its
    document; with ``relative_to_chunk``, holding that share of the span or being that share of the span."""
    found = []
    for chunk in doc_chunks:
        overlap = min(end, chunk.end) - max(start, chunk.start)
        reference = min(end - start, chunk.end - chunk.start) if relative_to_chunk else end - start
        if overlap >= MIN_EVIDENCE_SHARE * reference:
            found.append((overlap, chunk))
    return found


def questions_per_chunk(relevant: dict[str, list[str]], chunks: list[Chunk]) -> Counter:
    """Count, for every chunk (zeros included), how many questions map to it."""
    counts = Counter({c.id: 0 for c in chunks})
    for ids in relevant.values():
        counts.update(ids)
    return counts
