"""Question generation: parsing, retries, the cache and the key against a real loopback server; ICT; the CLI."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest
from fake_llm_server import FakeLLM, Reply, default_answer, error_body

from helpers.data import llm_client
from helpers.data.corpus import Chunk, chunk_id
from helpers.data.dataset import split_questions, training_pairs
from helpers.data.generate import (
    agenerate_questions,
    generate_questions,
    questions_to_ir,
    questions_to_pairs,
    read_records,
    to_course_data,
    write_records,
)
from helpers.data.ict import ict_example, ict_examples, split_sentences
from helpers.data.llm_answers import ParseError, QuestionCache, parse_questions
from helpers.data.llm_client import DEFAULT_PROMPT, GenerationError, LLMConfig, resolve_api_key
from helpers.data.questions import DataError

SECRET = "sk-test-SECRET-123"
RECORD_FIELDS = {"id", "question", "chunk_id", "document", "source", "model"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def make_chunks(n: int = 6) -> list[Chunk]:
    texts = [f"Passage number {i} is about topic {i}. It has a second sentence about item {i}." for i in range(n)]
    return [Chunk(chunk_id("doc.md", t), "doc.md", 0, len(t), t) for t in texts]


def config(server: FakeLLM, **overrides) -> LLMConfig:
    settings = {"base_url": server.base_url, "backoff_base": 0.001, "backoff_max": 0.01, "timeout": 5.0,
                "max_attempts": 3, **overrides}
    return LLMConfig(**settings)


def run(chunks, cfg, cache: Path, **kwargs):
    kwargs.setdefault("api_key", SECRET)
    return generate_questions(chunks, cfg, cache_path=cache, progress=False, **kwargs)


# ----------------------------------------------------------------------------- parsing

TWO = ["What is A?", "What is B?"]


@pytest.mark.parametrize("answer", [
    "1. What is A?\n2. What is B?",
    "1) What is A?\n2) What is B?",
    "Here are two questions:\n\n- What is A?\n- What is B?\n\nI hope these help!",
    "* What is A?\n* What is B?",
    "**1.** What is A?\n**2.** **What is B?**",
    "Q1: What is A?\nQ2: What is B?",
    "1. Question: What is A?\n2. Question 2: What is B?",
    '["What is A?", "What is B?"]',
    '{"questions": ["What is A?", "What is B?"]}',
    '[{"question": "What is A?"}, {"question": "What is B?"}]',
    '```json\n["What is A?", "What is B?"]\n```',
    "```\n1. What is A?\n2. What is B?\n```",
    '["What is A?", "What is B?", "What is C',  # cut off: the complete elements are kept
    '```json\n{"questions": ["What is A?", "What is B?", "Wh',
    "What is A?\nWhat is B?",  # no markers: lines that are questions
    "1. What is A?\n2. What is B?\n3. What is A?",  # repeats dropped
])
def test_parse_reads_every_answer_shape(answer):
    assert parse_questions(answer) == TWO


def test_parse_joins_a_question_wrapped_over_two_lines_but_not_trailing_chatter():
    assert parse_questions("1. What is the\n   role of A?\n2. What is B?") == ["What is the role of A?", "What is B?"]
    assert parse_questions("1. Describe A.\n2. Describe B.\nLet me know if you need more.") == [
        "Describe A.", "Describe B."]


@pytest.mark.parametrize("answer", [
    "", "Sorry, I cannot help with that.", '["What is', '{"questions": [', "1. QUESTION #1\n2. QUESTION #2", "[]",
])
def test_parse_raises_when_no_question_is_found(answer):
    with pytest.raises(ParseError, match="no questions found"):
        parse_questions(answer)


def test_default_prompt_is_the_published_one_with_n_as_a_parameter():
    rendered = LLMConfig(n_questions=3).render("CHUNK TEXT")
    assert rendered.startswith("Given the following context, you must generate questions based on only the provided")
    assert "You are to generate 3 questions which should be provided in the following format:" in rendered
    assert rendered.endswith("Context:\nCHUNK TEXT")
    assert LLMConfig().prompt == DEFAULT_PROMPT
    with pytest.raises(ValueError, match="must contain \\{context\\}"):
        LLMConfig(prompt="Write {n_questions} questions.")


# ----------------------------------------------------------------------------- generation against the server

def test_happy_path_records_tokens_and_concurrency_limit(tmp_path):
    chunks = make_chunks(6)
    with FakeLLM(lambda ctx, hit: Reply(delay=0.05)) as server:
        result = run(chunks, config(server, concurrency=2), tmp_path / "cache.jsonl")
    assert server.total == 6 and server.max_in_flight == 2
    assert server.authorization == {f"Bearer {SECRET}"}  # the key was really used
    assert len(result.records) == 12
    assert all(set(r) == RECORD_FIELDS and r["source"] == "llm" and r["model"] == "gpt-4o-mini" for r in result.records)
    assert [r["chunk_id"] for r in result.records] == [c.id for c in chunks for _ in range(2)]  # chunk order
    assert result.records[0]["question"] == default_answer(chunks[0].text).splitlines()[0][3:]
    assert len({r["id"] for r in result.records}) == 12
    s = result.summary
    assert (s.chunks, s.cached, s.new, s.failed, s.questions, s.requests, s.retries) == (6, 0, 6, 0, 12, 6, 0)
    assert (s.prompt_tokens, s.completion_tokens) == (server.prompt_tokens, server.completion_tokens) != (0, 0)
    assert "6 new" in str(s) and f"{server.prompt_tokens:,} prompt" in str(s)


def test_rate_limit_then_success_is_retried_once(tmp_path):
    chunks = make_chunks(3)
    target = chunks[1].text

    def script(ctx, hit):
        if ctx == target and hit == 1:
            return Reply(status=429, raw=error_body("rate limited"), headers={"retry-after": "0"})
        return None

    with FakeLLM(script) as server:
        result = run(chunks, config(server), tmp_path / "cache.jsonl")
    assert server.hits[target] == 2 and server.total == 4
    assert result.summary.retries == 1 and result.summary.new == 3 and not result.failures


def test_retry_after_header_is_honoured(tmp_path):
    chunks = make_chunks(1)

    def script(ctx, hit):
        return Reply(status=429, raw=error_body("wait"), headers={"retry-after": "0.4"}) if hit == 1 else None

    with FakeLLM(script) as server:
        start = time.perf_counter()
        result = run(chunks, config(server, backoff_max=1.0), tmp_path / "cache.jsonl")
        elapsed = time.perf_counter() - start
    assert server.total == 2 and result.summary.new == 1
    assert elapsed >= 0.2  # waited at least half the server's retry-after (jitter is 0.5-1x)


def test_server_errors_are_retried_a_bounded_number_of_times(tmp_path):
    chunks = make_chunks(3)
    target = chunks[0].text
    with FakeLLM(lambda ctx, hit: Reply(status=500, raw=error_body("boom")) if ctx == target else None) as server:
        result = run(chunks, config(server, max_attempts=4), tmp_path / "cache.jsonl")
    assert server.hits[target] == 4  # exactly max_attempts calls, then it gives up
    assert result.summary.failed == 1 and result.summary.new == 2
    assert list(result.failures) == [chunks[0].id] and "InternalServerError" in result.failures[chunks[0].id]
    assert {r["chunk_id"] for r in result.records} == {chunks[1].id, chunks[2].id}


def test_client_errors_other_than_auth_fail_the_chunk_without_retry(tmp_path):
    chunks = make_chunks(2)
    target = chunks[0].text
    with FakeLLM(lambda ctx, hit: Reply(status=400, raw=error_body("context too long")) if ctx == target else None) as s:
        result = run(chunks, config(s, max_attempts=5), tmp_path / "cache.jsonl")
    assert s.hits[target] == 1 and result.summary.failed == 1 and "BadRequestError" in result.failures[chunks[0].id]


def test_a_call_slower_than_the_timeout_is_retried(tmp_path):
    chunks = make_chunks(2)
    target = chunks[0].text
    with FakeLLM(lambda ctx, hit: Reply(delay=2.0) if ctx == target and hit == 1 else None) as server:
        start = time.perf_counter()
        result = run(chunks, config(server, timeout=0.3), tmp_path / "cache.jsonl")
        elapsed = time.perf_counter() - start
    assert server.hits[target] == 2 and result.summary.retries == 1 and not result.failures
    assert elapsed < 1.9  # the client gave up on the slow call instead of waiting for it


def test_malformed_answer_is_asked_again(tmp_path):
    chunks = make_chunks(2)
    target = chunks[0].text
    with FakeLLM(lambda ctx, hit: Reply(content="I am not able to do that.") if ctx == target and hit == 1 else None) as s:
        result = run(chunks, config(s), tmp_path / "cache.jsonl")
    assert s.hits[target] == 2 and not result.failures
    assert [r["question"] for r in result.records if r["chunk_id"] == chunks[0].id] == \
        [line[3:] for line in default_answer(target).splitlines()]


def test_truncated_json_is_salvaged_or_retried(tmp_path):
    chunks = make_chunks(2)
    salvage, hopeless = chunks[0].text, chunks[1].text

    def script(ctx, hit):
        if ctx == salvage:
            return Reply(content='{"questions": ["What is kept?", "What is cut')
        return Reply(content='["What is cu')

    with FakeLLM(script) as server:
        result = run(chunks, config(server, max_attempts=3), tmp_path / "cache.jsonl")
    assert server.hits[salvage] == 1 and [r["question"] for r in result.records] == ["What is kept?"]
    assert server.hits[hopeless] == 3 and "ParseError" in result.failures[chunks[1].id]


def test_rejected_key_stops_the_run_with_a_clear_error(tmp_path):
    chunks = make_chunks(4)
    with FakeLLM(lambda ctx, hit: Reply(status=401, raw=error_body(f"Incorrect API key provided: {SECRET}"))) as s:
        with pytest.raises(GenerationError, match="check the API key") as info:
            run(chunks, config(s, concurrency=1), tmp_path / "cache.jsonl")
    assert s.total == 1  # no retries, no further chunks
    text = "".join(traceback.format_exception(info.value))
    assert "401" in text and SECRET not in text and SECRET not in repr(info.value)


# ----------------------------------------------------------------------------- the cache

def _cache_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


def test_rerun_after_a_hard_server_failure_asks_only_for_missing_chunks(tmp_path):
    chunks, cache = make_chunks(6), tmp_path / "cache.jsonl"
    served = Counter()

    def failing_after_three(ctx, hit):
        if served["ok"] >= 3:
            return Reply(status=503, raw=error_body("overloaded"))
        served["ok"] += 1
        return None

    with FakeLLM(failing_after_three) as first:
        result1 = run(chunks, config(first, concurrency=1, max_attempts=2), cache)
    done = {r["chunk_id"] for r in result1.records}
    assert (result1.summary.new, result1.summary.failed, len(done)) == (3, 3, 3)
    assert len(_cache_lines(cache)) == 3

    with FakeLLM() as second:
        result2 = run(chunks, config(second), cache)
    assert all(second.hits[c.text] == 0 for c in chunks if c.id in done)  # no repeated call for a finished chunk
    assert all(second.hits[c.text] == 1 for c in chunks if c.id not in done)
    assert (result2.summary.cached, result2.summary.new, result2.summary.requests) == (3, 3, 3)
    assert len(result2.records) == 12

    with FakeLLM() as third:
        result3 = run(chunks, config(third), cache, api_key=None)  # all cached: no key needed, no client made
    assert third.total == 0 and result3.records == result2.records


def test_cancelling_midway_keeps_every_finished_chunk(tmp_path):
    chunks, cache = make_chunks(8), tmp_path / "cache.jsonl"

    async def cancel_after_two(server):
        task = asyncio.ensure_future(agenerate_questions(
            chunks, config(server, concurrency=1), api_key=SECRET, cache_path=cache, progress=False))
        while not cache.exists() or len(_cache_lines(cache)) < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with FakeLLM(lambda ctx, hit: Reply(delay=0.1)) as first:
        asyncio.run(cancel_after_two(first))
    finished = len(_cache_lines(cache))
    assert 2 <= finished < 8
    with FakeLLM() as second:
        result = run(chunks, config(second), cache)
    assert second.total == 8 - finished and result.summary.cached == finished and len(result.records) == 16


def test_a_cut_off_last_line_is_dropped_and_a_bad_middle_line_is_named(tmp_path, caplog):
    chunks, cache = make_chunks(3), tmp_path / "cache.jsonl"
    with FakeLLM() as server:
        run(chunks, config(server), cache)
    good = cache.read_text()
    cache.write_text(good + '{"key": "abc", "questions": ["What')  # a crash mid-write
    with caplog.at_level(logging.WARNING), FakeLLM() as server:
        result = run(chunks, config(server), cache)
    assert server.total == 0 and result.summary.cached == 3
    assert "cut-off last line" in caplog.text and cache.read_text() == good

    lines = good.splitlines()
    cache.write_text("\n".join([lines[0], "{broken", *lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"cache.jsonl:2: not a cache record"):
        QuestionCache(cache)


def test_cache_key_changes_with_model_and_number_of_questions(tmp_path):
    chunks, cache = make_chunks(2), tmp_path / "cache.jsonl"
    with FakeLLM() as server:
        run(chunks, config(server), cache)
        run(chunks, config(server), cache)
        assert server.total == 2
        run(chunks, config(server, model="other-model"), cache)
        assert server.total == 4
        run(chunks, config(server, n_questions=3), cache)
        assert server.total == 6


# ----------------------------------------------------------------------------- the key

def test_the_key_never_reaches_logs_output_cache_or_errors(tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    chunks, cache, out = make_chunks(5), tmp_path / "cache.jsonl", tmp_path / "questions.jsonl"
    texts = [c.text for c in chunks]

    def script(ctx, hit):  # every fault, each echoing the key back as some servers do
        echo = error_body(f"request with key {SECRET} failed")
        if ctx == texts[0] and hit == 1:
            return Reply(status=429, raw=echo)
        if ctx == texts[1]:
            return Reply(status=500, raw=echo)
        if ctx == texts[2]:
            return Reply(status=400, raw=echo)
        if ctx == texts[3] and hit == 1:
            return Reply(content=f"no questions, but here is {SECRET}")
        return None

    caplog.set_level(logging.DEBUG)  # the SDK's and httpx's debug logs included
    with FakeLLM(script) as server:
        cfg = config(server)
        result = generate_questions(chunks, cfg, cache_path=cache, progress=True)  # key from the environment
        write_records(result.records, out)
        print(result.summary, result.failures)
    assert server.authorization == {f"Bearer {SECRET}"}
    assert result.summary.failed == 2 and result.summary.retries >= 2
    captured = capsys.readouterr()
    for where, text in {
        "logs": caplog.text, "stdout": captured.out, "stderr": captured.err, "cache": cache.read_text(),
        "output": out.read_text(), "failures": repr(result.failures), "config": repr(cfg),
        "summary": repr(result.summary),
    }.items():
        assert SECRET not in text, f"the key leaked into {where}"
    assert "***" in repr(result.failures)  # the echoed key was there, and was masked
    assert SECRET not in repr(llm_client.make_client(cfg))

    with FakeLLM(lambda ctx, hit: Reply(status=401, raw=error_body(f"bad key {SECRET}"))) as server:
        with pytest.raises(GenerationError) as info:
            generate_questions(chunks, config(server), cache_path=tmp_path / "other.jsonl", progress=False)
    assert SECRET not in "".join(traceback.format_exception(info.value)) + caplog.text


def test_key_from_env_prompt_or_placeholder(monkeypatch):
    def no_prompt(prompt=""):
        raise AssertionError("getpass must not be called when not interactive")

    monkeypatch.setattr(llm_client.getpass, "getpass", no_prompt)
    with pytest.raises(GenerationError, match="set OPENAI_API_KEY"):
        resolve_api_key(interactive=False)
    assert resolve_api_key(base_url="http://127.0.0.1:11434/v1", interactive=False) == llm_client.LOCAL_KEY
    assert resolve_api_key(base_url="http://localhost:1234/v1", interactive=False) == llm_client.LOCAL_KEY
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert resolve_api_key(interactive=False) == SECRET
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setattr(llm_client.getpass, "getpass", lambda prompt="": "typed-key")
    assert resolve_api_key(interactive=True) == "typed-key"

    def frontend_without_input(prompt=""):
        raise RuntimeError("this frontend does not support input requests")

    monkeypatch.setattr(llm_client.getpass, "getpass", frontend_without_input)
    with pytest.raises(GenerationError, match="set OPENAI_API_KEY"):
        resolve_api_key(interactive=True)


def test_blocking_call_works_inside_a_running_event_loop(tmp_path):
    chunks = make_chunks(2)

    async def notebook_cell(server):  # Jupyter runs cells inside an event loop
        return run(chunks, config(server), tmp_path / "cache.jsonl")

    with FakeLLM() as server:
        result = asyncio.run(notebook_cell(server))
    assert result.summary.new == 2


# ----------------------------------------------------------------------------- ICT

def test_sentence_splitter_respects_abbreviations_initials_and_numbers():
    text = ("Lee et al. proposed ICT in 2019. It works, e.g. for open QA! Does it scale? The U.S. team used 3.5 GB "
            "of text.\n\nA heading\n\nLast paragraph (Fig. 2) ends here.")
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert sentences == [
        "Lee et al. proposed ICT in 2019.", "It works, e.g. for open QA!", "Does it scale?",
        "The U.S. team used 3.5 GB of text.", "A heading", "Last paragraph (Fig. 2) ends here.",
    ]


def _words(text: str) -> Counter:
    return Counter(text.split())


def test_ict_removes_the_sentence_and_loses_nothing_else(course_data):
    examples = ict_examples(course_data.chunks, seed=7, keep_probability=0.0)
    assert len(examples) == len(course_data.chunks)  # every chunk yields a pair
    by_id = {c.id: c for c in course_data.chunks}
    for ex in examples:
        chunk = by_id[ex["chunk_id"]]
        assert ex["question"].strip() and ex["passage"].strip() and ex["source"] == "ict"
        assert ex["document"] == chunk.document and not ex["kept"]
        if ex["method"] == "sentence":
            assert ex["question"] in chunk.text and ex["question"] not in ex["passage"]
            assert _words(ex["passage"]) + _words(ex["question"]) == _words(chunk.text)


def test_ict_is_deterministic_by_seed_and_independent_of_other_chunks(course_data):
    chunks = course_data.chunks
    first = ict_examples(chunks, seed=1)
    assert ict_examples(chunks, seed=1) == first
    assert ict_examples(chunks[10:20], seed=1) == first[10:20]
    other = ict_examples(chunks, seed=2)
    assert sum(a["question"] != b["question"] for a, b in zip(first, other)) > len(chunks) // 4


def test_ict_keep_probability_is_honoured(course_data):
    chunks = course_data.chunks
    assert all(ex["passage"] == c.text for ex, c in zip(ict_examples(chunks, keep_probability=1.0), chunks))
    kept = sum(ex["kept"] for ex in ict_examples(chunks, seed=3, keep_probability=0.1))
    assert 0 < kept < len(chunks) * 0.25
    with pytest.raises(ValueError, match="between 0 and 1"):
        ict_examples(chunks[:1], keep_probability=1.5)


def test_ict_handles_one_sentence_and_one_word_chunks():
    one = Chunk("c-1", "d.md", 0, 0, "A single long sentence without any full stop at all")
    halves = ict_example(one)
    assert halves["method"] == "halves"
    assert _words(halves["question"]) + _words(halves["passage"]) == _words(one.text)
    word = ict_example(Chunk("c-2", "d.md", 0, 0, "Word"))
    assert word["method"] == "whole" and word["question"] == word["passage"] == "Word"


# ----------------------------------------------------------------------------- pairs and IR sets

def test_pairs_ir_and_course_data_from_generated_questions(tmp_path, course_data):
    chunks = course_data.chunks[:6]
    with FakeLLM() as server:
        records = run(chunks, config(server), tmp_path / "cache.jsonl").records
    path = write_records(records, tmp_path / "q.jsonl")
    assert read_records(path) == records
    pairs = questions_to_pairs(records, chunks, chunk_ids=[chunks[0].id])
    assert pairs == [{"anchor": r["question"], "positive": chunks[0].text} for r in records[:2]]
    ir = questions_to_ir(records, chunks)
    assert len(ir["queries"]) == 12 and len(ir["corpus"]) == 6
    assert all(ids == [r["chunk_id"]] for r, ids in zip(records, ir["relevant_docs"].values()))
    data = to_course_data(records, course_data.documents, chunks)
    splits = split_questions(data, "chunks", 0.2, 0.2, seed=0)
    assert sorted(sum(splits.values(), [])) == sorted(r["id"] for r in records)
    assert len(training_pairs(data, splits["train"])) == len(splits["train"])

    ict = ict_examples(chunks, keep_probability=0.0)
    assert [p["positive"] for p in questions_to_pairs(ict, chunks)] == [e["passage"] for e in ict]
    with pytest.raises(ValueError, match="ICT pseudo-queries"):
        questions_to_ir(ict, chunks)
    with pytest.raises(DataError, match="'chunk_id'"):
        questions_to_pairs(records, chunks[1:])


# ----------------------------------------------------------------------------- the CLI

def _cli(argv: list[str]) -> int:
    from helpers.cli import generate as cli_generate

    parser = argparse.ArgumentParser()
    cli_generate.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_llm_writes_questions_and_prints_the_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    out, cache = tmp_path / "q.jsonl", tmp_path / "cache.jsonl"
    with FakeLLM() as server:
        code = _cli(["generate", "--source", "llm", "--base-url", server.base_url, "--limit", "3", "--n-questions",
                     "2", "--concurrency", "2", "--out", str(out), "--cache", str(cache), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0 and server.total == 3
    assert "3 new" in captured.out and "tokens this run" in captured.out and str(out) in captured.out
    assert len(read_records(out)) == 6
    assert SECRET not in captured.out + captured.err + out.read_text() + cache.read_text()


def test_cli_ict_covers_every_chunk_offline(tmp_path, capsys, course_data):
    out = tmp_path / "ict.jsonl"
    assert _cli(["generate", "--source", "ict", "--out", str(out), "--seed", "5"]) == 0
    records = read_records(out)
    assert len(records) == len(course_data.chunks) and {r["source"] for r in records} == {"ict"}
    assert json.loads(out.read_text().splitlines()[0])["seed"] == 5


def test_cli_reports_a_bad_manifest(tmp_path, capsys):
    bad = tmp_path / "m.json"
    bad.write_text('{"sources": [{"folder": "missing"}]}')
    assert _cli(["generate", "--source", "ict", "--manifest", str(bad), "--out", str(tmp_path / "x.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "generate: FAILED" in err and "m.json: sources[0].folder" in err
