"""A real chat-completions server on 127.0.0.1 with scripted answers and faults, for the tests.

Usage::

    with FakeLLM(script) as server:          # script(context, hit_number) -> Reply | None
        client = AsyncOpenAI(base_url=server.base_url, api_key="...")

``hit_number`` counts the calls for that context, from 1. ``None`` (or no script) gives the
default answer: two numbered questions derived from a hash of the context, so they are
deterministic and tell chunks apart.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant's text (status 200)
    raw: str | None = None  # a raw response body instead (any status)
    delay: float = 0.0  # seconds to wait before answering
    headers: dict[str, str] = field(default_factory=dict)


def context_of(prompt: str) -> str:
    """The chunk text inside a rendered prompt (after the last "Context:" line)."""
    return prompt.rsplit("Context:\n", 1)[-1]


def default_answer(context: str) -> str:
    tag = hashlib.sha256(context.encode()).hexdigest()[:8]
    return f"1. What does passage {tag} describe?\n2. Why does passage {tag} matter?"


def error_body(message: str) -> str:
    return json.dumps({"error": {"message": message, "type": "test_error", "code": None}})


class FakeLLM:
    def __init__(self, script: Callable[[str, int], Reply | None] | None = None) -> None:
        self.script = script
        self.hits: Counter[str] = Counter()
        self.total = 0
        self.authorization: set[str] = set()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length", 0))
        request = json.loads(handler.rfile.read(length) or b"{}")
        prompt = request["messages"][-1]["content"]
        context = context_of(prompt)
        with self._lock:
            self.total += 1
            self.hits[context] += 1
            hit = self.hits[context]
            self.authorization.add(handler.headers.get("authorization", ""))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            reply = (self.script(context, hit) if self.script else None) or Reply()
            if reply.delay:
                time.sleep(reply.delay)
            if reply.raw is not None:
                body = reply.raw
            else:
                content = reply.content if reply.content is not None else default_answer(context)
                usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": len(content.split())}
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                with self._lock:
                    self.prompt_tokens += usage["prompt_tokens"]
                    self.completion_tokens += usage["completion_tokens"]
                body = json.dumps({
                    "id": f"chatcmpl-{self.total}", "object": "chat.completion", "created": 0,
                    "model": request.get("model", "fake"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": usage,
                })
            data = body.encode()
            handler.send_response(reply.status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test): nothing to answer
        finally:
            with self._lock:
                self.in_flight -= 1

    def __enter__(self) -> FakeLLM:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:  # quiet on dropped clients
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
