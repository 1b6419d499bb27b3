"""Synthetic training questions for chunks: an LLM, or the offline Inverse Cloze Task.

- **LLM** (:func:`generate_questions`): the published prompt sent to any OpenAI-compatible
  chat-completions endpoint (OpenAI, Ollama, vLLM, LM Studio) with the ``openai`` SDK. Calls run
  concurrently under a limit, are retried with exponential backoff on rate limits, server errors,
  timeouts, lost connections and unreadable answers, and every finished chunk is appended at once
  to a JSON Lines cache, so a rerun only asks for the chunks that are still missing.
- **ICT** (:func:`ict_examples`, Lee et al., 2019): no model at all. One sentence of each chunk
  becomes the pseudo-query and the rest of the chunk its passage.

The API key is read from the argument, ``$OPENAI_API_KEY`` or a hidden prompt, and is never
written to the cache, the output, logs or error messages.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import json
import logging
import os
import random
import re
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpers.config import ROOT
from helpers.corpus import Chunk, Document
from helpers.jsonl import read_jsonl, write_jsonl
from helpers.questions import DataError, Question

log = logging.getLogger(__name__)

# The published system's prompt, with the number of questions as a parameter.
DEFAULT_PROMPT = (
    "Given the following context, you must generate questions based on only the provided context.\n\n"
    "You are to generate {n_questions} questions which should be provided in the following format:\n\n"
    "1. QUESTION #1\n2. QUESTION #2\n...\n\n"
    "Context:\n{context}"
)
DEFAULT_MODEL = "gpt-4o-mini"  # the AIE5 run's generator (2 questions per chunk, temperature 0)
LOCAL_KEY = "local-no-key"  # sent to loopback servers (Ollama, LM Studio, vLLM) that need no key
ICT_KEEP_PROBABILITY = 0.1  # Lee et al. (2019) leave the sentence in its passage 10% of the time


class GenerationError(RuntimeError):
    """A failure that stops the whole run (no key, key rejected, unknown model or address)."""


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

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(chunk_text: str, prompt_hash: str, model: str) -> str:
    """Cache key of one chunk's answer: chunk text hash + prompt hash + model."""
    return _sha(json.dumps([_sha(chunk_text), prompt_hash, model]))[:32]


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


# --------------------------------------------------------------------------- the LLM generator

@dataclass(frozen=True)
class LLMConfig:
    """Settings of one generation run. The API key is deliberately not one of them."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None  # default: $OPENAI_BASE_URL, else OpenAI
    n_questions: int = 2
    prompt: str = DEFAULT_PROMPT  # must contain {n_questions} and {context}
    temperature: float | None = 0.0
    max_tokens: int | None = None
    concurrency: int = 4
    max_attempts: int = 5  # calls per chunk, first one included
    backoff_base: float = 1.0  # seconds before the first retry; doubles each time
    backoff_max: float = 30.0
    timeout: float = 60.0  # seconds per call

    def __post_init__(self) -> None:
        for name in ("n_questions", "concurrency", "max_attempts"):
            if getattr(self, name) < 1:
                raise ValueError(f"LLMConfig.{name} must be at least 1, got {getattr(self, name)}")
        missing = [p for p in ("{n_questions}", "{context}") if p not in self.prompt]
        if missing:
            raise ValueError(f"LLMConfig.prompt must contain {' and '.join(missing)}")

    def render(self, context: str) -> str:
        return self.prompt.replace("{n_questions}", str(self.n_questions)).replace("{context}", context)

    @property
    def prompt_hash(self) -> str:
        """Hash of everything besides the chunk and model that shapes the answer."""
        return _sha(json.dumps([self.prompt, self.n_questions, self.temperature, self.max_tokens]))[:16]


@dataclass
class GenerationSummary:
    model: str
    chunks: int = 0
    cached: int = 0
    new: int = 0
    failed: int = 0
    questions: int = 0
    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.chunks} chunks ({self.cached} cached, {self.new} new, {self.failed} failed) -> "
            f"{self.questions} questions from {self.model}; {self.requests} requests ({self.retries} retries); "
            f"tokens this run: {self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion; "
            f"{self.seconds:.1f} s"
        )


@dataclass
class GenerationResult:
    records: list[dict]
    summary: GenerationSummary
    failures: dict[str, str] = field(default_factory=dict)  # chunk id -> last error (key removed)


def _is_loopback(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _interactive() -> bool:
    return (sys.stdin is not None and sys.stdin.isatty()) or "ipykernel" in sys.modules


def resolve_api_key(api_key: str | None = None, base_url: str | None = None, interactive: bool | None = None) -> str:
    """The key from the argument, ``$OPENAI_API_KEY``, or a hidden prompt (interactive only).

    Servers on this machine (Ollama, LM Studio, vLLM) get a placeholder when no key is set.
    """
    key = api_key or os.environ.get("OPENAI_API_KEY", "")
    if key:
        return key
    if _is_loopback(base_url or os.environ.get("OPENAI_BASE_URL")):
        return LOCAL_KEY
    if _interactive() if interactive is None else interactive:
        try:
            key = getpass.getpass("API key for the OpenAI-compatible endpoint (input hidden): ").strip()
        except Exception:  # e.g. a notebook run without a frontend (nbclient) cannot prompt
            key = ""
    if not key:
        raise GenerationError(
            "no API key: set OPENAI_API_KEY in the environment (or pass api_key=...); "
            "a local server needs none when --base-url points at 127.0.0.1 or localhost"
        )
    return key


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret and secret != LOCAL_KEY:
            text = text.replace(secret, "***")
    return text


def make_client(config: LLMConfig, api_key: str | None = None, interactive: bool | None = None):
    """An ``openai.AsyncOpenAI`` client with the SDK's own retries off (we retry ourselves)."""
    from openai import AsyncOpenAI

    base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or None
    key = resolve_api_key(api_key, base_url, interactive)
    return AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=config.timeout)


def _retryable(err: BaseException) -> bool:
    import openai

    if isinstance(err, (ParseError, openai.APIConnectionError, asyncio.TimeoutError)):  # timeouts included
        return True
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    return False


def _fatal(err: BaseException) -> bool:
    import openai

    return isinstance(err, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError))


def _retry_after(err: BaseException | None) -> float:
    response = getattr(err, "response", None)
    try:
        return float(response.headers.get("retry-after", 0)) if response is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _describe(err: BaseException, secrets: Sequence[str]) -> str:
    return redact(f"{type(err).__name__}: {err}", secrets)[:300]


async def _ask_chunk(client, config: LLMConfig, chunk: Chunk, summary: GenerationSummary, secrets: list[str]):
    """One chunk: call, parse, retry on transient failures. Returns (questions, usage)."""
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    rng = random.Random(chunk.id)  # jitter that is reproducible per chunk

    def wait(state) -> float:
        delay = min(config.backoff_max, config.backoff_base * 2 ** (state.attempt_number - 1))
        delay = max(delay, min(_retry_after(state.outcome.exception()), config.backoff_max))
        return delay * (0.5 + rng.random() / 2)

    def before_sleep(state) -> None:
        summary.retries += 1
        log.info("chunk %s: attempt %d/%d failed (%s); retrying", chunk.id, state.attempt_number,
                 config.max_attempts, _describe(state.outcome.exception(), secrets))

    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    kwargs: dict[str, Any] = {}
    if config.temperature is not None:
        kwargs["temperature"] = config.temperature
    if config.max_tokens is not None:
        kwargs["max_tokens"] = config.max_tokens
    retrying = AsyncRetrying(
        stop=stop_after_attempt(config.max_attempts), wait=wait, retry=retry_if_exception(_retryable),
        before_sleep=before_sleep, reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            summary.requests += 1
            response = await client.chat.completions.create(
                model=config.model, messages=[{"role": "user", "content": config.render(chunk.text)}],
                timeout=config.timeout, **kwargs,
            )
            if response.usage is not None:
                for name in usage:
                    spent = getattr(response.usage, name, 0) or 0
                    usage[name] += spent
                    setattr(summary, name, getattr(summary, name) + spent)
            content = response.choices[0].message.content if response.choices else ""
            questions = parse_questions(content or "")
    return questions, usage


def question_id(chunk_id: str, question: str, source: str) -> str:
    """Stable id of a generated question: ``g-`` + a hash of chunk, question and source."""
    return f"g-{_sha(json.dumps([chunk_id, question, source]))[:16]}"


def _records(chunk: Chunk, questions: list[str], model: str) -> list[dict]:
    return [
        {"id": question_id(chunk.id, q, model), "question": q, "chunk_id": chunk.id, "document": chunk.document,
         "source": "llm", "model": model}
        for q in questions
    ]


async def agenerate_questions(
    chunks: Sequence[Chunk],
    config: LLMConfig | None = None,
    *,
    api_key: str | None = None,
    cache_path: Path | None = None,
    progress: bool = True,
    client=None,
    interactive: bool | None = None,
) -> GenerationResult:
    """Ask the LLM for questions about every chunk not already in the cache (async version).

    ``client`` may be any ``openai.AsyncOpenAI``; by default one is made from ``config``.
    Chunks that still fail after ``config.max_attempts`` calls are reported in
    ``result.failures`` and asked again on the next run. A rejected key, an unknown model or a
    wrong address stops the run with :class:`GenerationError`.
    """
    from tqdm.auto import tqdm

    config = config or LLMConfig()
    start = time.perf_counter()
    cache = QuestionCache(cache_path or default_cache_path())
    summary = GenerationSummary(model=config.model, chunks=len(chunks))
    answers: dict[str, list[str]] = {}
    failures: dict[str, str] = {}
    todo: list[Chunk] = []
    for chunk in chunks:
        hit = cache.get(cache_key(chunk.text, config.prompt_hash, config.model))
        if hit is not None:
            answers[chunk.id] = hit["questions"]
        else:
            todo.append(chunk)
    summary.cached = len(chunks) - len(todo)
    secrets = [api_key or "", os.environ.get("OPENAI_API_KEY", "")]
    own_client = client is None and bool(todo)
    if own_client:
        client = make_client(config, api_key, interactive)
    if client is not None:
        secrets.append(str(getattr(client, "api_key", "") or ""))
    semaphore = asyncio.Semaphore(config.concurrency)  # held through a chunk's backoff too: no stampede on 429
    stop = asyncio.Event()  # set by a fatal error: chunks still waiting must not call
    bar = tqdm(total=len(chunks), initial=summary.cached, desc=f"questions from {config.model}",
               unit="chunk", disable=not progress)
    bar.set_postfix(cached=summary.cached, new=0, failed=0)

    async def run_one(chunk: Chunk) -> None:
        async with semaphore:
            if stop.is_set():
                return
            try:
                questions, usage = await _ask_chunk(client, config, chunk, summary, secrets)
            except Exception as err:  # every failure is reported; fatal ones stop the run
                message = _describe(err, secrets)
                if _fatal(err):
                    stop.set()
                    raise GenerationError(
                        f"the endpoint refused the request ({message}); check the API key "
                        f"(OPENAI_API_KEY), --model {config.model!r} and --base-url"
                    ) from None
                summary.failed += 1
                failures[chunk.id] = message
                log.warning("chunk %s failed after retries: %s", chunk.id, message)
            else:
                cache.append({
                    "key": cache_key(chunk.text, config.prompt_hash, config.model),
                    "chunk_hash": _sha(chunk.text)[:16], "prompt_hash": config.prompt_hash,
                    "model": config.model, "questions": questions, "usage": usage,
                })
                answers[chunk.id] = questions
                summary.new += 1
            finally:
                bar.update(1)
                bar.set_postfix(cached=summary.cached, new=summary.new, failed=summary.failed)

    tasks = [asyncio.ensure_future(run_one(chunk)) for chunk in todo]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        bar.close()
        if own_client:
            await client.close()
    records = [r for chunk in chunks if chunk.id in answers for r in _records(chunk, answers[chunk.id], config.model)]
    summary.questions = len(records)
    summary.seconds = time.perf_counter() - start
    log.info("%s", summary)
    return GenerationResult(records, summary, failures)


def generate_questions(chunks: Sequence[Chunk], config: LLMConfig | None = None, **kwargs) -> GenerationResult:
    """Blocking wrapper of :func:`agenerate_questions`; also works inside Jupyter's running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(agenerate_questions(chunks, config, **kwargs))
    with ThreadPoolExecutor(max_workers=1) as pool:  # a notebook: run our own loop in a thread
        return pool.submit(lambda: asyncio.run(agenerate_questions(chunks, config, **kwargs))).result()


# --------------------------------------------------------------------------- Inverse Cloze Task

# No maintained sentence splitter is installed (nltk needs a separate data download, pysbd is
# unmaintained), so this is a careful regex: a sentence ends at . ! or ? (plus closing quotes or
# brackets) followed by whitespace and a character that is not a lowercase letter, unless the
# word before the full stop is a known abbreviation or an initial ("e.g.", "et al.", "U.S.").
# Blank lines always end a sentence. Merging two sentences by mistake is harmless here.
_ABBREVIATIONS = frozenset(
    "al approx ca cf ch dr e.g eq eqs etc fig figs i.e inc jr ltd mr mrs ms no nos pp prof ref refs sec sr st "
    "vol vs".split()
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+(?![a-z]))")
_PARAGRAPH = re.compile(r"\S(?:(?!\n[ \t]*\n).)*", re.S)


def _is_abbreviation(before: str) -> bool:
    word = before.split()[-1].lstrip("([\"'“‘").lower() if before.split() else ""
    return word in _ABBREVIATIONS or bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, in order, without whitespace."""
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        body, base = para.group().rstrip(), para.start()
        start = 0
        for match in _SENTENCE_END.finditer(body):
            if body[match.start()] == "." and _is_abbreviation(body[start : match.start()]):
                continue
            spans.append((base + start, base + match.end()))
            start = match.end() + len(body[match.end() :]) - len(body[match.end() :].lstrip())
        if start < len(body):
            spans.append((base + start, base + len(body)))
    return spans


def _remove_span(text: str, start: int, end: int) -> str:
    left, right = text[:start], text[end:]
    gap = left[len(left.rstrip()) :] + right[: len(right) - len(right.lstrip())]
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left + right
    return left + ("\n\n" if "\n\n" in gap else " ") + right


def ict_example(chunk: Chunk, seed: int = 42, keep_probability: float = ICT_KEEP_PROBABILITY,
                min_words: int = 4) -> dict:
    """One Inverse Cloze Task pair for one chunk: a sentence and the rest of the chunk.

    The sentence is drawn among those with at least ``min_words`` words (all, if none has),
    with a generator seeded by ``seed`` and the chunk id, so the choice does not depend on the
    other chunks. With probability ``keep_probability`` the sentence stays in its passage, as in
    the paper, so the model also learns that word overlap matters. A chunk of one sentence is
    cut in two halves at a word boundary: one is the query, the other the passage.
    """
    if not 0.0 <= keep_probability <= 1.0:
        raise ValueError(f"keep_probability must be between 0 and 1, got {keep_probability}")
    text = chunk.text
    if not text.strip():
        raise ValueError(f"chunk {chunk.id} of {chunk.document} is empty")
    rng = random.Random(f"{seed}:{chunk.id}")
    spans = split_sentences(text)
    long_enough = [s for s in spans if len(text[s[0] : s[1]].split()) >= min_words] or spans
    if len(spans) >= 2:
        start, end = rng.choice(long_enough)
        query = text[start:end]
        kept = rng.random() < keep_probability
        passage = text if kept else _remove_span(text, start, end)
        method = "sentence"
    else:
        words = text.split()
        if len(words) >= 2:
            half = len(words) // 2
            first, second = " ".join(words[:half]), " ".join(words[half:])
            query, passage = (first, second) if rng.random() < 0.5 else (second, first)
            kept, method = False, "halves"
        else:
            query, passage, kept, method = text.strip(), text.strip(), True, "whole"
    return {
        "id": f"ict-{chunk.id.removeprefix('c-')}-{seed}", "question": query, "chunk_id": chunk.id,
        "document": chunk.document, "source": "ict", "passage": passage, "kept": kept, "method": method,
        "seed": seed,
    }


def ict_examples(chunks: Sequence[Chunk], seed: int = 42, keep_probability: float = ICT_KEEP_PROBABILITY,
                 min_words: int = 4) -> list[dict]:
    """One Inverse Cloze Task pair per chunk (see :func:`ict_example`); seeded and deterministic."""
    return [ict_example(c, seed, keep_probability, min_words) for c in chunks]


# --------------------------------------------------------------------------- from records to pairs

def write_records(records: Iterable[dict], path: Path) -> Path:
    """Write question records as JSON Lines (never half-written)."""
    return write_jsonl(path, records)


read_records = read_jsonl  # question records are plain JSON Lines


def _select(records: Iterable[dict], chunks: Sequence[Chunk], chunk_ids: Iterable[str] | None):
    text = {c.id: c.text for c in chunks}
    keep = set(chunk_ids) if chunk_ids is not None else None
    selected = []
    for record in records:
        if record["chunk_id"] not in text:
            raise DataError(
                f"question {record.get('id')!r}: field 'chunk_id' {record['chunk_id']!r} is not among the chunks; "
                "generate again with the same documents and chunk size"
            )
        if keep is None or record["chunk_id"] in keep:
            selected.append(record)
    return selected, text


def questions_to_pairs(records: Iterable[dict], chunks: Sequence[Chunk],
                       chunk_ids: Iterable[str] | None = None) -> list[dict[str, str]]:
    """Training rows ``{"anchor", "positive"}``: each question and its chunk (ICT: its passage).

    ``chunk_ids`` keeps only the questions of those chunks (e.g. the training split's).
    """
    selected, text = _select(records, chunks, chunk_ids)
    return [{"anchor": r["question"], "positive": r.get("passage") or text[r["chunk_id"]]} for r in selected]


def _refuse_ict(records: list[dict], what: str) -> None:
    if any(r.get("source") == "ict" for r in records):
        raise ValueError(
            f"ICT pseudo-queries are sentences copied from their chunk, so {what} would reward string matching; "
            "train on them with questions_to_pairs and evaluate on shipped or LLM questions"
        )


def questions_to_ir(records: Iterable[dict], chunks: Sequence[Chunk], chunk_ids: Iterable[str] | None = None,
                    protocol: str = "whole-corpus") -> dict:
    """An IR set (question -> its chunk) in the shape of :func:`helpers.dataset.ir_split`."""
    selected, text = _select(records, chunks, chunk_ids)
    _refuse_ict(selected, "an IR set of them")
    relevant = {r["id"]: [r["chunk_id"]] for r in selected}
    if protocol == "whole-corpus":
        corpus = dict(text)
    elif protocol == "test-chunks-only":
        keep = {cid for ids in relevant.values() for cid in ids}
        corpus = {cid: t for cid, t in text.items() if cid in keep}
    else:
        raise ValueError(f"unknown protocol {protocol!r}; use 'whole-corpus' or 'test-chunks-only'")
    return {"queries": {r["id"]: r["question"] for r in selected}, "corpus": corpus,
            "relevant_docs": relevant, "protocol": protocol}


def to_course_data(records: Iterable[dict], documents: list[Document], chunks: list[Chunk]):
    """Generated questions as a :class:`helpers.dataset.CourseData`, for ``prepare_pairs`` and the splits."""
    from helpers.dataset import CourseData

    selected, _ = _select(records, chunks, None)
    _refuse_ict(selected, "splitting them into val/test sets")
    questions = [
        Question(r["id"], r["question"], r["document"], evidence="", kind="generated",
                 source=f"{r.get('source', 'llm')}:{r.get('model', '')}")
        for r in selected
    ]
    return CourseData(documents, chunks, questions, {r["id"]: [r["chunk_id"]] for r in selected})


def summary_dict(summary: GenerationSummary) -> dict:
    """The summary as a plain dict (for JSON or a table)."""
    return asdict(summary)
