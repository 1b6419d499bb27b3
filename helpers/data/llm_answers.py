"""What comes back from the LLM: questions parsed out of an answer, and the JSON Lines cache of answers.

Every finished chunk is appended to the cache at once, keyed by the chunk text, the prompt and the model, so a
rerun only asks for the chunks that are still missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from helpers.config import ROOT
from helpers.data.questions import DataError

log = logging.getLogger(__name__)


class ParseError(ValueError):
    """An answer in which no question could be found; the call is retried."""


def default_cache_path() -> Path:
    """``outputs/cache/llm-questions.jsonl`` (under ``$LAB_OUTPUTS`` when it is set)."""
    return Path(os.environ.get("LAB_OUTPUTS", ROOT / "outputs")) / "cache" / "llm-questions.jsonl"


# --------------------------------------------------------------------------- parsing answers

_FENCE = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)(?:```|\Z)", re.S)
# "1. q", "1) q", "Q1: q", "**2.** q", "- q", "* q", "• q"
_ITEM = re.compile(
    r"^\s*(?:\*\*)?(?:(?:Q(?:uestion)?\s*#?\s*)?\d{1,3}\s*[.):](?!\d)|[-*•+](?=\s))\s*(?:\*\*)?\s*(?P<text>\S.*)$",
    re.I,
)
_LABEL = re.compile(r"^(?:\*\*)?question\s*(?:#?\s*\d+)?\s*[:.)-]\s*(?:\*\*)?\s*", re.I)
_PLACEHOLDER = re.compile(r"^question\s*#?\s*\d+$", re.I)


def _clean(text: str) -> str:
    text = " ".join(text.split())
    text = _LABEL.sub("", text)
    text = text.strip().strip("*").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


def _from_json_items(items: Iterable[Any]) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("question") or item.get("text") or ""
        if isinstance(item, str):
            out.append(item)
    return out


def _from_json_value(value: Any) -> list[str]:
    if isinstance(value, dict):
        lists = [v for k, v in value.items() if isinstance(v, list) and k.lower() == "questions"]
        lists = lists or [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else []
    return _from_json_items(value) if isinstance(value, list) else []


def _salvage_json(text: str) -> list[str]:
    """Complete elements of a cut-off JSON array, decoded one by one with the stdlib decoder."""
    start = text.find("[")
    if start < 0:
        return []
    decoder, pos, items = json.JSONDecoder(), start + 1, []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            break
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break  # the cut-off element: everything before it is complete
        items.append(item)
    return _from_json_items(items)


def _from_lines(text: str) -> list[str]:
    items: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        match = _ITEM.match(line)
        if match:
            current = [match.group("text")]
            items.append(current)  # type: ignore[arg-type]
        elif line.strip() and current is not None and not re.search(r"[.?!]\W*$", current[-1]):
            current.append(line.strip())  # a question wrapped over two lines
        elif not line.strip():
            current = None
    found = [" ".join(parts) for parts in items]  # type: ignore[arg-type]
    if not found:  # no list markers: fall back to lines that are questions
        found = [line for line in text.splitlines() if line.strip().endswith("?")]
    return found


def parse_questions(text: str) -> list[str]:
    """Questions from a model's answer, whatever shape it took.

    Reads numbered lists ("1." / "1)" / "Q1:"), bullets ("-", "*", "•"), JSON arrays of
    strings or of ``{"question": ...}`` objects, ``{"questions": [...]}``, any of these inside
    a code fence, and cut-off JSON (the complete elements are kept). Raises :class:`ParseError`
    when no question can be found, so that the caller can ask again.
    """
    body = text or ""
    fence = _FENCE.search(body)
    if fence:
        body = fence.group(1)
    stripped = body.strip()
    if stripped[:1] in ("[", "{"):
        try:
            found = _from_json_value(json.loads(stripped))
        except json.JSONDecodeError:
            found = _salvage_json(stripped)
    else:
        found = _from_lines(body)
    questions: list[str] = []
    for raw in found:
        question = _clean(raw)
        if question and not _PLACEHOLDER.match(question) and question not in questions:
            questions.append(question)
    if not questions:
        preview = " ".join((text or "").split())[:80]
        raise ParseError(f"no questions found in the answer (starts {preview!r})")
    return questions


# --------------------------------------------------------------------------- the cache

def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(chunk_text: str, prompt_hash: str, model: str) -> str:
    """Cache key of one chunk's answer: chunk text hash + prompt hash + model."""
    return text_hash(json.dumps([text_hash(chunk_text), prompt_hash, model]))[:32]


class QuestionCache:
    """Append-only JSON Lines cache of finished chunks, one record per line.

    Each record is written and flushed as soon as its chunk finishes, so a crash loses only
    the calls in flight. A cut-off last line (a crash mid-write) is dropped with a warning;
    a bad line elsewhere is an error naming the file and line.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, dict] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        offset = 0
        last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
        for i, line in enumerate(lines):
            if line.strip():
                try:
                    record = json.loads(line)
                    self.entries[record["key"]] = record
                except (ValueError, KeyError, TypeError):
                    if i != last:
                        raise DataError(
                            f"{self.path}:{i + 1}: not a cache record; delete that line (or the file to start over)"
                        ) from None
                    log.warning("%s:%d: dropping a cut-off last line (an interrupted write)", self.path, i + 1)
                    with self.path.open("r+b") as fh:
                        fh.truncate(offset)
                    return
            offset += len(line) + 1
        if data and not data.endswith(b"\n"):  # complete record but no newline: add it before appending
            with self.path.open("ab") as fh:
                fh.write(b"\n")

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def append(self, record: dict) -> None:
        """Write one record and push it to disk before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self.entries[record["key"]] = record

