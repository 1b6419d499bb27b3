"""Evidence-anchored questions: loading, validation and mapping to chunks.

A question is tied to a verbatim evidence quote, not to a chunk id, so it survives any
chunk size: its relevant chunks are those that hold the quote, or at least half of it.
A quote is matched with whitespace collapsed on both sides (:func:`find_quote`), so one
copied across a file's hard line wraps, or across a paragraph break, still matches.

When the same fact is stated in more than one place, the record lists the other passages in
``also``: ``[{"document": "...", "evidence": "..."}]``. Every passage counts as relevant (in
the split, in val and test, and as a never-negative in hard-negative mining); the first,
``evidence``, is the training positive.

The checks collect every problem of a file (:mod:`helpers.data.problems`): given a ``problems`` list
they append to it and skip the bad records; without one they raise one DataError listing all errors.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from helpers.data.corpus import MARKDOWN_SUFFIXES, Chunk, Document, markdown_quote_text
from helpers.data.problems import (
    BAD_ALSO,
    BAD_NOT_ALSO,
    DUPLICATE_ID,
    INVALID_JSON,
    MISSING_FIELD,
    NO_CHUNK,
    NOT_AN_OBJECT,
    NOT_FOUND,
    NOT_IN_CORPUS,
    SEVERAL,
    UNKNOWN_KIND,
    WARNING,
    DataError,
    Problem,
    raise_if_errors,
)

KINDS = ("factoid", "why", "how", "comparison")
REQUIRED_FIELDS = ("id", "question", "document", "evidence", "kind")
# Outside these lengths a quote is a warning, not an error: a short one is thin (it says little and may stand in
# other places), a long one is hard to check by eye.
EVIDENCE_MIN_CHARS = 40
EVIDENCE_MAX_CHARS = 300
SHORT_EVIDENCE = f"evidence shorter than {EVIDENCE_MIN_CHARS} characters"
LONG_EVIDENCE = f"evidence longer than {EVIDENCE_MAX_CHARS} characters"
# A chunk is relevant when it holds at least this share of the evidence quote.
MIN_EVIDENCE_SHARE = 0.5


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


def load_questions(path: Path, problems: list[Problem] | None = None) -> list[Question]:
    """Read a JSON Lines file (or every ``*.jsonl`` in a folder) of question records.

    Every problem of every line is found: given a ``problems`` list, they are appended to it and the bad
    records left out; without one, a DataError lists every error at once (quote lengths are only warnings).
    """
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no *.jsonl question files found")
    found: list[Problem] = [] if problems is None else problems
    questions: list[Question] = []
    for file in files:
        for line_no, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                question = _read_record(line, f"{file}:{line_no}", found)
                if question is not None:
                    questions.append(question)
    seen: dict[str, str] = {}
    unique: list[Question] = []
    for q in questions:
        if q.id in seen:
            found.append(Problem(q.source, "id", DUPLICATE_ID,
                                 f"field 'id' {q.id!r} repeats the id at {seen[q.id]}; ids must be unique"))
            continue
        seen[q.id] = q.source
        unique.append(q)
    if problems is None:
        raise_if_errors(found)
    return unique


def _read_record(line: str, where: str, problems: list[Problem]) -> Question | None:
    """The Question of one line, or None when it has an error; every problem of the line goes to ``problems``."""
    mine: list[Problem] = []

    def error(field: str, kind: str, message: str) -> None:
        mine.append(Problem(where, field, kind, message))

    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        error("", INVALID_JSON, f"not valid JSON ({err.msg}); one object per line")
        record = None
    if record is not None and not isinstance(record, dict):
        error("", NOT_AN_OBJECT, f"expected a JSON object with fields {REQUIRED_FIELDS}")
    if not isinstance(record, dict):
        problems.extend(mine)
        return None
    for field in REQUIRED_FIELDS:
        value = record.get(field)
        if not isinstance(value, str) or not value.strip():
            error(field, MISSING_FIELD, f"field '{field}' is missing or empty; give it a non-empty string")
    kind = record.get("kind")
    if isinstance(kind, str) and kind.strip() and kind not in KINDS:
        error("kind", UNKNOWN_KIND, f"field 'kind' is {kind!r}; use one of {', '.join(KINDS)}")
    if isinstance(record.get("evidence"), str):
        mine.extend(_length_warnings(record["evidence"], "evidence", where))
    also = _also_passages(record.get("also"), where, mine)
    not_also = record.get("not_also", [])
    if not isinstance(not_also, list) or not all(isinstance(v, str) for v in not_also):
        error("not_also", BAD_NOT_ALSO, "field 'not_also' must be a list of document names")
    problems.extend(mine)
    if any(p.is_error for p in mine):
        return None
    return Question(**{f: record[f] for f in REQUIRED_FIELDS}, source=where, also=also, not_also=tuple(not_also))


def _length_warnings(quote: str, field: str, where: str) -> list[Problem]:
    """A warning when a quote (whitespace collapsed) is shorter or longer than a person can use well."""
    n = len(" ".join(quote.split()))
    if 0 < n < EVIDENCE_MIN_CHARS:
        return [Problem(where, field, SHORT_EVIDENCE,
                        f"field '{field}' has {n} characters; a quote this short is thin: it says little of the "
                        "answer and may stand in other passages too. Quote the whole sentence "
                        f"({EVIDENCE_MIN_CHARS}-{EVIDENCE_MAX_CHARS} characters)", WARNING)]
    if n > EVIDENCE_MAX_CHARS:
        return [Problem(where, field, LONG_EVIDENCE,
                        f"field '{field}' has {n} characters; a quote this long is hard to check by eye "
                        "against its question. Quote only the sentences that answer it "
                        f"({EVIDENCE_MIN_CHARS}-{EVIDENCE_MAX_CHARS} characters)", WARNING)]
    return []


def _also_passages(value, where: str, problems: list[Problem] | None = None) -> tuple[tuple[str, str], ...]:
    """Check the optional ``also`` field: a list of {"document", "evidence"} objects.

    Without ``problems``, the first error raises a DataError; with it, every problem is appended to it.
    """
    found: list[Problem] = [] if problems is None else problems
    start = len(found)
    passages = []
    if value is None:
        pass
    elif not isinstance(value, list):
        found.append(Problem(where, "also", BAD_ALSO, 'field \'also\' must be a list of {"document": ..., '
                                                      '"evidence": ...} objects'))
    else:
        for i, item in enumerate(value):
            field = f"also[{i}]"
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item[k].strip()
                                                     for k in ("document", "evidence")):
                found.append(Problem(where, field, BAD_ALSO,
                                     f"field '{field}' needs non-empty strings 'document' and 'evidence'"))
                continue
            found.extend(_length_warnings(item["evidence"], f"{field}.evidence", where))
            passages.append((item["document"], item["evidence"]))
    if problems is None:
        errors = [p for p in found[start:] if p.is_error]
        if errors:
            raise DataError(str(errors[0]), errors)
    return tuple(passages)


@lru_cache(maxsize=4096)
def quote_pattern(quote: str) -> re.Pattern | None:
    """A pattern for ``quote`` with whitespace collapsed, or None for a quote of whitespace only.

    Any run of whitespace in the quote (spaces, tabs, line breaks, blank lines) matches any run of whitespace in
    the text; the quote's leading and trailing whitespace is ignored.
    """
    pieces = quote.split()
    return re.compile(r"\s+".join(map(re.escape, pieces))) if pieces else None


def find_quote(text: str, quote: str) -> list[tuple[int, int]]:
    """The (start, end) in ``text`` of every occurrence of ``quote``, whitespace collapsed on both sides: from
    the first matched character to just after the last one, in the original text."""
    pattern = quote_pattern(quote)
    return [m.span() for m in pattern.finditer(text)] if pattern else []


def _span(question: Question, docs_by_name: dict[str, Document], which: int) -> tuple[int, int] | Problem:
    """The (start, end) of passage ``which`` in its document, or the Problem that stops it."""
    document, quote = question.passages[which]
    field = "evidence" if which == 0 else f"also[{which - 1}]"
    document_field = "document" if which == 0 else f"{field}.document"
    doc = docs_by_name.get(document)
    if doc is None:
        return Problem(question.source, document_field, NOT_IN_CORPUS,
                       f"field '{document_field}' {document!r} is not in the corpus; "
                       f"use one of {', '.join(sorted(docs_by_name))}")
    spans = find_quote(doc.text, quote)
    if not spans and Path(doc.name).suffix.lower() in MARKDOWN_SUFFIXES:
        # Copied from the Markdown source rather than the rendered page: match what a reader sees of the quote.
        spans = find_quote(doc.text, markdown_quote_text(quote))
    if len(spans) != 1:
        problem = "is not found" if not spans else f"occurs {len(spans)} times"
        return Problem(question.source, field, NOT_FOUND if not spans else SEVERAL,
                       f"field '{field}' {problem} in the extracted text of {doc.name}; quote a passage that "
                       "occurs exactly once (whitespace collapsed: line breaks and spaces count alike)")
    if quote != quote.strip() and doc.text.count(quote) == 1:
        # Quoted verbatim with its surrounding whitespace: the offsets it has always had.
        start = doc.text.index(quote)
        return start, start + len(quote)
    return spans[0]


def evidence_span(question: Question, docs_by_name: dict[str, Document], which: int = 0) -> tuple[int, int]:
    """Return the (start, end) of passage ``which`` (0: ``evidence``, 1..: ``also``) in its document; it must
    occur exactly once, whitespace collapsed (see :func:`find_quote`)."""
    span = _span(question, docs_by_name, which)
    if isinstance(span, Problem):
        raise DataError(str(span), [span])
    return span


def map_to_chunks(
    questions: list[Question], docs: list[Document], chunks: list[Chunk], problems: list[Problem] | None = None
) -> dict[str, list[str]]:
    """Map each question id to the ids of the chunks holding most of its evidence.

    Chunks are returned best first (largest share of the evidence). Every question is checked: given a
    ``problems`` list, those whose passages cannot be placed are left out and their problems appended to it;
    without one, a DataError lists them all.
    """
    docs_by_name = {d.name: d for d in docs}
    chunks_by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        chunks_by_doc.setdefault(chunk.document, []).append(chunk)
    found: list[Problem] = [] if problems is None else problems
    relevant: dict[str, list[str]] = {}
    for q in questions:
        ids: list[str] = []
        placed = True
        for which, (document, _) in enumerate(q.passages):
            span = _span(q, docs_by_name, which)
            if isinstance(span, Problem):
                found.append(span)
                placed = False
                continue
            start, end = span
            scored = [(-overlap, chunk.start, chunk.id)
                      for overlap, chunk in chunks_overlapping(start, end, chunks_by_doc.get(document, []))]
            if not scored:
                field = "evidence" if which == 0 else f"also[{which - 1}]"
                found.append(Problem(q.source, field, NO_CHUNK, f"field '{field}' maps to no chunk (no chunk holds "
                                                                "half of it); quote a shorter passage"))
                placed = False
                continue
            ids.extend(cid for _, _, cid in sorted(scored) if cid not in ids)
        if placed:
            relevant[q.id] = ids
    if problems is None:
        raise_if_errors(found)
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
