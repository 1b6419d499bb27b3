"""Synthetic training questions for chunks from an LLM (notebook 02's `llm` route), and question records to pairs.

:func:`generate_questions` sends the published prompt for every chunk concurrently under a limit, through
:mod:`helpers.data.llm_client`, caching each answer (:mod:`helpers.data.llm_answers`). The offline alternative
without any model is the Inverse Cloze Task in :mod:`helpers.data.ict`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from helpers.data.corpus import Chunk, Document
from helpers.data.jsonl import read_jsonl, write_jsonl
from helpers.data.llm_answers import QuestionCache, cache_key, default_cache_path, text_hash
from helpers.data.llm_client import (
    GenerationError,
    GenerationResult,
    GenerationSummary,
    LLMConfig,
    ask_chunk,
    describe_error,
    is_fatal,
    make_client,
)
from helpers.data.questions import DataError, Question

log = logging.getLogger(__name__)


def question_id(chunk_id: str, question: str, source: str) -> str:
    """Stable id of a generated question: ``g-`` + a hash of chunk, question and source."""
    return f"g-{text_hash(json.dumps([chunk_id, question, source]))[:16]}"


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
                questions, usage = await ask_chunk(client, config, chunk, summary, secrets)
            except Exception as err:  # every failure is reported; fatal ones stop the run
                message = describe_error(err, secrets)
                if is_fatal(err):
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
                    "chunk_hash": text_hash(chunk.text)[:16], "prompt_hash": config.prompt_hash,
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
    """An IR set (question -> its chunk) in the shape of :func:`helpers.data.dataset.ir_split`."""
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
    """Generated questions as a :class:`helpers.data.dataset.CourseData`, for ``prepare_pairs`` and the splits."""
    from helpers.data.dataset import CourseData

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

