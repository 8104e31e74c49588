"""A local stand-in for the OpenAI and Anthropic HTTP APIs, for tests and benchmarks.

The real ``openai`` and ``anthropic`` clients talk to it over HTTP on 127.0.0.1 (a stdlib
``ThreadingHTTPServer`` on port 0, served from a daemon thread), so the code under test runs
the SDKs' own request building, response parsing and server-sent-event decoding. It speaks:

* ``POST /v1/chat/completions``: JSON, or with ``stream`` SSE ``data: {chunk}`` lines and
  ``data: [DONE]`` (plus the usage-only chunk when ``stream_options.include_usage`` is set);
* ``POST /v1/responses``: JSON, or SSE with named ``event:`` lines (``response.created`` ...
  ``response.completed``);
* ``POST /v1/embeddings``: float or base64 vectors;
* ``POST /v1/messages`` (Anthropic): JSON, or SSE ``message_start`` ... ``message_stop``.

Each request takes the next queued ``Reply`` (else ``server.default``): the text, tool calls
and token counts to answer with, or an HTTP error status, a delay before answering (for client
timeouts), a pause between streamed events, or an error event part-way through a stream.
``server.requests`` keeps what was received (path, headers, JSON body). The payloads are
built in ``fake_llm_wire``; this module is the HTTP side.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import fake_llm_wire as wire
from fake_llm_wire import Json, Reply, ToolCall

__all__ = ["FakeLLMServer", "Received", "Reply", "ToolCall"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    """Names in lower case."""
    body: Json


@dataclass
class _State:
    default: Reply = field(default_factory=Reply)
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    counter: int = 0


class FakeLLMServer:
    """``with FakeLLMServer() as server:``; ``server.queue(Reply(status=429))``."""

    def __init__(self) -> None:
        self._state = _State()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def default(self) -> Reply:
        return self._state.default

    @default.setter
    def default(self, reply: Reply) -> None:
        self._state.default = reply

    @property
    def requests(self) -> list[Received]:
        return self._state.requests

    def reset(self) -> None:
        """Forget queued replies and received requests; answer with a fresh ``Reply()``."""
        with self._state.lock:
            self._state.replies.clear()
            self._state.requests.clear()
            self._state.default = Reply()

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order (then with ``default``)."""
        with self._state.lock:
            self._state.replies.extend(replies)

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def openai_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeLLMServer:
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="fake-llm-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.stopping.set()  # wakes handlers sleeping on a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for JSON answers; streams close the connection
    timeout = 60
    state: _State

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK stall every kept-alive JSON answer by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        return

    def handle(self) -> None:
        # The client may give up (a timeout test) or close a kept-alive connection.
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        body: Json = json.loads(raw or b"{}")
        state = self.state
        with state.lock:
            headers = {key.lower(): value for key, value in self.headers.items()}
            state.requests.append(Received(self.path, headers, body))
            reply = state.replies.popleft() if state.replies else state.default
            state.counter += 1
            number = state.counter
        if reply.delay and state.stopping.wait(reply.delay):
            return
        anthropic = self.path.split("?")[0].rstrip("/").endswith("/messages")
        if reply.status != 200:
            self._send_json(wire.error(reply, anthropic), reply.status)
            return
        model = reply.model or str(body.get("model") or "fake-model")
        route = self.path.split("?")[0].rstrip("/")
        if route.endswith("/chat/completions"):
            self._chat(reply, body, model, number)
        elif route.endswith("/responses"):
            self._responses(reply, body, model, number)
        elif route.endswith("/embeddings"):
            self._send_json(wire.embeddings(reply, body, model))
        elif anthropic:
            self._messages(reply, body, model, number)
        else:
            self._send_json({"error": {"message": f"no route {self.path}"}}, 404)

    # -- routes ---------------------------------------------------------------------------------

    def _chat(self, reply: Reply, body: Json, model: str, number: int) -> None:
        if not body.get("stream"):
            self._send_json(wire.chat_completion(reply, model, number))
            return
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = ((None, chunk) for chunk in wire.chat_chunks(reply, model, number, usage))
        failure = {"error": {"message": reply.error_message, "type": "server_error"}}
        self._send_events(reply, events, failure, done=True)

    def _responses(self, reply: Reply, body: Json, model: str, number: int) -> None:
        if not body.get("stream"):
            self._send_json(wire.response(reply, model, number, "completed"))
            return
        failure = {"type": "error", "code": "server_error", "message": reply.error_message}
        self._send_events(reply, wire.response_events(reply, model, number), failure)

    def _messages(self, reply: Reply, body: Json, model: str, number: int) -> None:
        if not body.get("stream"):
            self._send_json(wire.message(reply, model, number))
            return
        failure = {"type": "error", "error": {"type": "api_error", "message": reply.error_message}}
        self._send_events(reply, wire.message_events(reply, model, number), failure)

    # -- wire -----------------------------------------------------------------------------------

    def _send_json(self, payload: Json, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", "req_fake")
        self.end_headers()
        self.wfile.write(data)

    def _send_events(
        self,
        reply: Reply,
        events: Iterator[tuple[str | None, Json]],
        failure: Json,
        done: bool = False,
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for sent, (name, data) in enumerate(events):
            if reply.fail_after is not None and sent >= reply.fail_after:
                self._write_event("error" if "type" in failure else None, failure)
                return
            if reply.chunk_delay and self.state.stopping.wait(reply.chunk_delay):
                return
            self._write_event(name, data)
        if done:
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    def _write_event(self, name: str | None, data: Json) -> None:
        head = f"event: {name}\n" if name else ""
        self.wfile.write(f"{head}data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()
