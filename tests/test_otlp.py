"""Spans sent over OTLP/HTTP to a collector of the tests' own, as well as into the SQLite file.

The collector is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 that decodes each POST body with
the OTLP protobuf definitions, so what is asserted is what a real collector (Jaeger, Tempo,
Phoenix, ...) would receive. The OTLP branch of the pipeline has its own
``BlockingBatchProcessor``; ``spyglass.flush()`` flushes it too, and exit waits for an
unreachable collector a few seconds at most (a subprocess against a closed port, and against a
local socket that accepts and never answers).
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

import spyglass
from spyglass.tracer import attributes as A

SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind is not None else None


def _attributes(pairs: Iterator[KeyValue] | list[KeyValue]) -> dict[str, object]:
    return {pair.key: _value(pair.value) for pair in pairs}


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the collector decoded it."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, object]
    resource: dict[str, object]
    status_message: str
    events: list[tuple[str, dict[str, object]]]


@dataclass
class Collector:
    """What the test collector received: decoded spans, request paths and raw bodies."""

    url: str
    spans: list[ReceivedSpan] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        spans = [
            ReceivedSpan(
                name=span.name,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_id=span.parent_span_id.hex(),
                attributes=_attributes(span.attributes),
                resource=_attributes(resource_spans.resource.attributes),
                status_message=span.status.message,
                events=[(event.name, _attributes(event.attributes)) for event in span.events],
            )
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self.lock:
            self.paths.append(path)
            self.bodies.append(body)
            self.spans.extend(spans)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedSpan]:
        """The spans received once there are ``count`` of them (flush sends synchronously; the
        wait only guards against a slow machine)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                spans = list(self.spans)
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.02)

    def by_name(self) -> dict[str, ReceivedSpan]:
        with self.lock:
            return {span.name: span for span in self.spans}


def _handler(collector: Collector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if not self.path.endswith("/v1/traces"):
                self.send_response(404)
                self.end_headers()
                return
            collector.record(self.path, body)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            return  # keep test output clean

    return Handler


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    received = Collector(url=f"http://127.0.0.1:{port}/v1/traces")
    server.RequestHandlerClass = _handler(received)
    thread = threading.Thread(target=server.serve_forever, name="otlp-collector", daemon=True)
    thread.start()
    yield received
    spyglass.autolog(disable=True)  # flush and stop the exporter before the server goes
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _traced_work() -> int:
    """A root with two children, one of them a retriever; returns what the code computed."""
    with spyglass.trace("answer", session_id="s-1", tags=["otlp"]) as root:
        assert root is not None
        root.set_input({"question": "why?"})
        root.set_attribute("app.order_id", 42)
        with spyglass.trace("lookup", kind="retriever") as lookup:
            assert lookup is not None
            lookup.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, "why")

        @spyglass.trace("compute")
        def compute(x: int) -> int:
            return x * 7

        result = compute(6)
        root.set_output(result)
    return result


def test_spans_reach_the_collector_with_structure_and_resource(
    collector: Collector, db: Path
) -> None:
    spyglass.autolog(db=db, project="checkout", otlp_endpoint=collector.url, integrations=())
    assert _traced_work() == 42
    assert spyglass.flush() is True

    assert len(collector.wait_for(3)) == 3
    spans = collector.by_name()
    assert set(spans) == {"answer", "lookup", "compute"}
    root, lookup, compute = spans["answer"], spans["lookup"], spans["compute"]
    assert root.parent_id == ""
    assert lookup.parent_id == root.span_id and compute.parent_id == root.span_id
    assert {span.trace_id for span in spans.values()} == {root.trace_id}
    assert root.attributes[A.SPYGLASS_KIND] == "CHAIN"
    assert lookup.attributes[A.SPYGLASS_KIND] == "RETRIEVER"
    assert lookup.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "why"
    assert root.attributes["app.order_id"] == 42
    assert json.loads(str(root.attributes[A.SPYGLASS_INPUT])) == {"question": "why?"}
    assert json.loads(str(compute.attributes[A.SPYGLASS_INPUT])) == {"x": 6}
    assert json.loads(str(compute.attributes[A.SPYGLASS_OUTPUT])) == 42
    # Inherited context attributes travel too.
    assert lookup.attributes[A.GEN_AI_CONVERSATION_ID] == "s-1"
    assert lookup.attributes[A.SPYGLASS_TAGS] == ["otlp"]
    for span in spans.values():
        assert span.resource["service.name"] == "checkout"
    assert collector.paths and set(collector.paths) == {"/v1/traces"}

    # The SQLite file holds the very same spans.
    trace = spyglass.Store(db).trace(root.trace_id)
    assert {(s.name, s.span_id, s.parent_id) for s in trace.spans} == {
        (s.name, s.span_id, s.parent_id or None) for s in spans.values()
    }
    assert trace.summary.span_count == 3


@pytest.mark.parametrize(
    ("variable", "suffix"),
    [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces"),  # the full traces URL
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),  # a base URL: /v1/traces is appended
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "/"),
    ],
)
def test_standard_environment_variables_choose_the_collector(
    collector: Collector, db: Path, monkeypatch: pytest.MonkeyPatch, variable: str, suffix: str
) -> None:
    base = collector.url.removesuffix("/v1/traces")
    monkeypatch.setenv(variable, base + suffix)
    spyglass.autolog(db=db, integrations=())
    assert _traced_work() == 42
    assert spyglass.flush() is True
    assert len(collector.wait_for(3)) == 3
    assert set(collector.paths) == {"/v1/traces"}
    assert {span.resource["service.name"] for span in collector.spans} == {"default"}
    assert spyglass.Store(db).span_count() == 3


def _leaky_work() -> str:
    """Code that puts a secret into a span name, attributes, its input and an exception."""
    with spyglass.trace("leaky") as span:
        assert span is not None
        span.set_attribute("note", f"the key is {SECRET}")
        span.set_input({"headers": {"Authorization": f"Bearer {SECRET}"}})
        try:
            with spyglass.trace(f"call with {SECRET}"):
                raise PermissionError(f"rejected key {SECRET}")
        except PermissionError as exc:
            return str(exc)
    raise AssertionError("unreachable")


def test_secrets_are_redacted_before_they_leave_the_process(collector: Collector, db: Path) -> None:
    spyglass.autolog(db=db, otlp_endpoint=collector.url, integrations=())
    # The program itself still sees its own values unchanged.
    assert _leaky_work() == f"rejected key {SECRET}"
    assert spyglass.flush() is True
    assert len(collector.wait_for(2)) == 2

    for body in collector.bodies:  # not anywhere in what went over the wire
        assert SECRET.encode() not in body
    spans = collector.by_name()
    leaky = spans["leaky"]
    assert leaky.attributes["note"] == "the key is [REDACTED]"
    assert "Bearer [REDACTED]" in str(leaky.attributes[A.SPYGLASS_INPUT])
    (failed,) = (span for span in spans.values() if span is not leaky)
    assert failed.name == "call with [REDACTED]"
    assert failed.status_message.endswith("rejected key [REDACTED]")
    ((event_name, event_attributes),) = failed.events
    assert event_name == "exception"
    assert event_attributes["exception.message"] == "rejected key [REDACTED]"

    store = spyglass.Store(db)
    stored = store.trace(leaky.trace_id)
    assert SECRET not in repr(
        [(s.name, s.attributes, s.status_message, s.events) for s in stored.spans]
    )


def test_redact_false_sends_values_as_they_are(collector: Collector, db: Path) -> None:
    spyglass.autolog(db=db, otlp_endpoint=collector.url, integrations=(), redact=False)
    _leaky_work()
    assert spyglass.flush() is True
    assert len(collector.wait_for(2)) == 2
    assert collector.by_name()["leaky"].attributes["note"] == f"the key is {SECRET}"


@pytest.mark.parametrize("redact", [True, False])
def test_a_lone_surrogate_does_not_cost_the_batch(
    collector: Collector, db: Path, redact: bool
) -> None:
    bad, shown = "caf\udce9.txt", "caf\ufffd.txt"  # os.fsdecode of a Latin-1 file name
    spyglass.autolog(db=db, otlp_endpoint=collector.url, integrations=(), redact=redact)
    with pytest.raises(ValueError), spyglass.trace(bad) as span:
        assert span is not None
        span.set_attribute("file", bad)
        span.otel_span.set_attribute("files", [bad, "ok"])
        span.otel_span.add_event(bad, {"path": bad})
        raise ValueError(bad)
    for i in range(20):
        with spyglass.trace(f"good {i}"):
            pass
    assert spyglass.flush() is True
    assert len(collector.wait_for(21)) == 21
    received = collector.by_name()[shown]
    assert received.attributes["file"] == shown
    assert received.attributes["files"] == [shown, "ok"]
    assert received.status_message == f"ValueError: {shown}"
    assert (shown, {"path": shown}) in received.events


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_collector_that_is_down_never_reaches_the_program(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short export timeout: the exporter's retries against a dead port end sooner.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2")
    endpoint = f"http://127.0.0.1:{_closed_port()}/v1/traces"
    spyglass.autolog(db=db, otlp_endpoint=endpoint, integrations=())

    @spyglass.trace
    def square(x: int) -> int:
        return x * x

    class Refused(Exception):
        pass

    results: list[int] = []
    for i in range(50):
        with spyglass.trace("step"):
            results.append(square(i))
    with pytest.raises(Refused), spyglass.trace("fails"):
        raise Refused
    spyglass.flush()  # True or False, but no exception
    assert results == [i * i for i in range(50)]
    spyglass.autolog(disable=True)  # shutting the OTLP exporter down does not raise either
    # The local file is not affected by the collector being down.
    assert spyglass.Store(db).span_count() == 101


UNREACHABLE = """
import json, logging, sys, time
import spyglass

logging.basicConfig(format="%(name)s %(levelname)s %(message)s")
spyglass.autolog(db=sys.argv[1], otlp_endpoint=sys.argv[2], integrations=())
for i in range(3000):
    with spyglass.trace("step"):
        pass
outcome = {}
if sys.argv[3] == "flush":
    start = time.monotonic()
    outcome["flushed"] = spyglass.flush(timeout=1.0)
    outcome["flush_took"] = time.monotonic() - start
print(json.dumps(outcome), flush=True)
"""  # and exits without shutting anything down: atexit does


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A local socket that accepts connections and never answers on them."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, name="silent-collector", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1/traces"
    stop.set()
    thread.join(timeout=10)
    for conn in held:
        conn.close()
    server.close()


def _run_unreachable(db: Path, endpoint: str, mode: str) -> tuple[dict[str, object], float, str]:
    """The script's outcome, how long it took to exit after its last line, and its stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(UNREACHABLE), str(db), endpoint, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the script's last line: from here on it only exits
        exiting = time.monotonic()
        _, stderr = proc.communicate(timeout=180)
        exit_took = time.monotonic() - exiting
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    return json.loads(line), exit_took, stderr


def _one_warning_for(endpoint: str, stderr: str) -> str:
    warnings = [line for line in stderr.splitlines() if line.startswith("spyglass ")]
    assert len(warnings) == 1, stderr
    assert endpoint in warnings[0]
    return warnings[0]


@pytest.mark.parametrize("reachable", ["closed port", "never answers"])
def test_exit_with_an_unreachable_collector_waits_seconds_and_warns_once(
    tmp_path: Path, silent_endpoint: str, reachable: str
) -> None:
    db = tmp_path / "exit.db"
    closed = f"http://127.0.0.1:{_closed_port()}/v1/traces"
    endpoint = closed if reachable == "closed port" else silent_endpoint
    _, exit_took, stderr = _run_unreachable(db, endpoint, "exit")
    assert exit_took < 15.0, exit_took  # before: ~30 s, every batch tried to its end
    assert "3000 spans" in _one_warning_for(endpoint, stderr)
    assert spyglass.Store(db).span_count() == 3000  # the local file is not held up


def test_flush_with_an_unreachable_collector_keeps_to_its_timeout(tmp_path: Path) -> None:
    db = tmp_path / "flush.db"
    endpoint = f"http://127.0.0.1:{_closed_port()}/v1/traces"
    outcome, exit_took, stderr = _run_unreachable(db, endpoint, "flush")
    assert outcome["flush_took"] < 5.0, outcome  # 1 s asked; before: a 10 s try per batch
    assert outcome["flushed"] is False
    assert exit_took < 15.0, exit_took
    _one_warning_for(endpoint, stderr)
    assert spyglass.Store(db).span_count() == 3000


def test_langchain_runs_reach_the_collector_as_the_same_tree(
    collector: Collector, db: Path
) -> None:
    """Framework runs are light spans (``tracer/_lite.py``); the OTLP exporter reads them too."""
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    spyglass.autolog(db=db, otlp_endpoint=collector.url, integrations=["langchain"])
    chain = (
        ChatPromptTemplate.from_messages([("human", "Say {word}")])
        | FakeListChatModel(responses=["hi"])
        | StrOutputParser()
    )
    with spyglass.trace("request", session_id="s-2"):
        assert chain.invoke({"word": "hi"}) == "hi"
    assert spyglass.flush() is True

    received = collector.wait_for(5)
    assert len(received) == 5
    spans = collector.by_name()
    root = spans["request"]
    sequence = spans["RunnableSequence"]
    assert sequence.parent_id == root.span_id
    for name in ("ChatPromptTemplate", "FakeListChatModel", "StrOutputParser"):
        assert spans[name].parent_id == sequence.span_id
        assert spans[name].trace_id == root.trace_id
        assert spans[name].attributes[A.GEN_AI_CONVERSATION_ID] == "s-2"
    assert spans["FakeListChatModel"].attributes[A.SPYGLASS_KIND] == "LLM"
    trace = spyglass.Store(db).trace(root.trace_id)
    assert {(s.name, s.span_id, s.parent_id) for s in trace.spans} == {
        (s.name, s.span_id, s.parent_id or None) for s in received
    }
