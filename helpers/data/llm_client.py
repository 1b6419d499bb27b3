"""The LLM client: any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, LM Studio).

Calls are retried with exponential backoff on rate limits, server errors, timeouts, lost connections and
unreadable answers. The API key is read from the argument, ``$OPENAI_API_KEY`` or a hidden prompt, and is never
written to the cache, the output, logs or error messages.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import os
import random
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from helpers.data.corpus import Chunk
from helpers.data.llm_answers import ParseError, parse_questions, text_hash

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


class GenerationError(RuntimeError):
    """A failure that stops the whole run (no key, key rejected, unknown model or address)."""



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
        return text_hash(json.dumps([self.prompt, self.n_questions, self.temperature, self.max_tokens]))[:16]


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


def is_fatal(err: BaseException) -> bool:
    import openai

    return isinstance(err, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError))


def _retry_after(err: BaseException | None) -> float:
    response = getattr(err, "response", None)
    try:
        return float(response.headers.get("retry-after", 0)) if response is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def describe_error(err: BaseException, secrets: Sequence[str]) -> str:
    return redact(f"{type(err).__name__}: {err}", secrets)[:300]


async def ask_chunk(client, config: LLMConfig, chunk: Chunk, summary: GenerationSummary, secrets: list[str]):
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
                 config.max_attempts, describe_error(state.outcome.exception(), secrets))

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

