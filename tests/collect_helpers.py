"""Running ``spyglass collect`` for tests: as the real command in a subprocess, or in-process.

``start_cli`` runs ``python -m spyglass.cli collect --port 0`` and reads the address it printed;
``InProcess`` runs the same ``collector.run`` coroutine on a thread of the test process, so a
test can give it small limits (queue bound, timeouts) the command line does not expose.
Both listen on 127.0.0.1 on a free port. ``make_spans``, ``body`` and ``post`` make and send
OTLP requests; ``stored`` reads back what is in the file.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode

from spyglass.collector import CollectorSettings, Report, run

_READY = re.compile(r"listening on (http://\S+)/v1/traces")


class Cli:
    """A ``spyglass collect`` process."""

    def __init__(self, db: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spyglass.cli",
                "collect",
                "--db",
                str(db),
                "--port",
                "0",
                *args,
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stderr is not None
        self.first_lines: list[str] = []
        self.url = ""
        timer = threading.Timer(60, self.process.kill)  # never hang a test on a dead start
        timer.start()
        try:
            for line in self.process.stderr:
                self.first_lines.append(line)
                found = _READY.search(line)
                if found:
                    self.url = found.group(1)
                    break
        finally:
            timer.cancel()
        assert self.url, f"spyglass collect did not start: {''.join(self.first_lines)}"

    @property
    def traces_url(self) -> str:
        return self.url + "/v1/traces"

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> tuple[int, str]:
        """Send ``sig``; the exit status and what it printed after starting."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            _, rest = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, rest = self.process.communicate()
        return self.process.returncode, rest


class InProcess:
    """``collector.run`` on a thread with its own event loop; ``stop()`` returns its report."""

    def __init__(self, settings: CollectorSettings) -> None:
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.report: Report | None = None
        self.error: BaseException | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._main, args=(settings,), daemon=True)
        self._thread.start()
        assert self._started.wait(30), "the receiver did not start"
        if self.error is not None:
            raise self.error

    def _main(self, settings: CollectorSettings) -> None:
        async def go() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self.report = await run(settings, self._ready, self._stop)

        try:
            asyncio.run(go())
        except BaseException as exc:
            self.error = exc
            self._started.set()

    def _ready(self, url: str) -> None:
        self.url = url
        self._started.set()

    @property
    def traces_url(self) -> str:
        return self.url + "/v1/traces"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self) -> Report:
        """Stop (once; later calls return the same report) and return the report."""
        assert self._loop is not None and self._stop is not None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        assert not self._thread.is_alive(), "the receiver did not stop"
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report


PB = "application/x-protobuf"


def make_spans(count: int, trace: int = 1, project: str = "svc") -> list[ReadableSpan]:
    """A root and ``count - 1`` children, ids derived from ``trace`` so tests can find them."""
    resource = Resource({"service.name": project})
    root = SpanContext(trace, trace << 16, is_remote=False)
    spans = [
        ReadableSpan(
            name="root",
            context=root,
            resource=resource,
            attributes={"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 3},
            events=[Event("note", {"k": "v"}, 5)],
            kind=SpanKind.SERVER,
            status=Status(StatusCode.ERROR, "it broke"),
            start_time=1_000,
            end_time=9_000,
        )
    ]
    for i in range(1, count):
        spans.append(
            ReadableSpan(
                name=f"child-{i}",
                context=SpanContext(trace, (trace << 16) + i, is_remote=False),
                parent=root,
                resource=resource,
                attributes={"i": i},
                start_time=2_000 + i,
                end_time=3_000 + i,
            )
        )
    return spans


def body(spans: list[ReadableSpan]) -> bytes:
    return encode_spans(spans).SerializeToString()


def post(
    url: str,
    data: bytes,
    content_type: str = PB,
    headers: dict[str, str] | None = None,
    path: str = "/v1/traces",
) -> tuple[int, dict[str, str], bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, data, {"Content-Type": content_type, **(headers or {})})
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def stored(db: Path) -> set[tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT name, span_id, parent_id FROM spans"))
