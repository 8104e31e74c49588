"""The receiver through real HTTP on 127.0.0.1: bodies, limits, auth, bad clients, backpressure.

Each test runs a receiver (``collect_helpers.InProcess``, the same coroutine ``spyglass collect``
runs, with small limits) on a free port and talks to it with ``http.client`` or a raw socket;
what is asserted is the HTTP answer and what ends up in the SQLite file.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from collect_helpers import InProcess
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode

import spyglass
from spyglass.collector import CollectorSettings
from spyglass.tracer import _db

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


@pytest.fixture
def settings(db: Path) -> CollectorSettings:
    return CollectorSettings(db=db, port=0, max_body_bytes=64 * 1024, max_queued_spans=1_000)


@pytest.fixture
def receiver(settings: CollectorSettings) -> Iterator[InProcess]:
    running = InProcess(settings)
    yield running
    running.stop()


def stored(db: Path) -> set[tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT name, span_id, parent_id FROM spans"))


def test_protobuf_bodies_plain_and_gzip_are_stored(receiver: InProcess, db: Path) -> None:
    status, headers, raw = post(receiver.url, body(make_spans(3, trace=1)))
    assert status == 200 and headers["Content-Type"] == PB
    assert not ExportTraceServiceResponse.FromString(raw).HasField("partial_success")
    zipped = gzip.compress(body(make_spans(2, trace=2)))
    assert post(receiver.url, zipped, headers={"Content-Encoding": "gzip"})[0] == 200
    report = receiver.stop()
    assert report.stored == 5 and report.lost == 0
    trace = spyglass.Store(db).trace(format(1, "032x"))
    root = trace.root
    assert root is not None and root.name == "root" and root.status == "ERROR"
    assert root.status_message == "it broke" and root.kind == "LLM"
    assert [e["name"] for e in root.events] == ["note"]
    assert {s.parent_id for s in trace.spans if s is not root} == {root.span_id}
    assert trace.summary.project == "svc" and trace.summary.input_tokens == 3


def _json_span(trace_id: str, span_id: str, **extra: object) -> dict[str, object]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "name": "json-span",
        "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000500000000",
        "attributes": [
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
            {"key": "nested", "value": {"kvlistValue": {"values": [
                {"key": "x", "value": {"doubleValue": 1.5}}]}}},
        ],
        "status": {"code": 2, "message": "bad"},
        **extra,
    }  # fmt: skip


def test_json_bodies_with_hex_ids_and_enum_names(receiver: InProcess, db: Path) -> None:
    trace_id = "5b8efff798038103d269b633813fc60c"
    request = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "ts-app"},
                        "spans": [
                            _json_span(trace_id, "eee19b7ec3c1b174"),
                            _json_span(
                                trace_id, "eee19b7ec3c1b175", parentSpanId="eee19b7ec3c1b174"
                            ),
                        ],
                    }
                ],
            }
        ]
    }
    status, headers, raw = post(receiver.url, json.dumps(request).encode(), "application/json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(raw) == {}
    receiver.stop()
    trace = spyglass.Store(db).trace(trace_id)
    assert [(s.span_id, s.parent_id) for s in trace.spans] == [
        ("eee19b7ec3c1b174", None),
        ("eee19b7ec3c1b175", "eee19b7ec3c1b174"),
    ]
    span = trace.spans[0]
    assert span.attributes["gen_ai.usage.input_tokens"] == 12
    assert span.attributes["tags"] == ["a"] and span.attributes["nested"] == {"x": 1.5}
    assert span.status == "ERROR" and span.duration_ms == 500
    assert trace.summary.project == "js"


def test_a_bad_span_is_rejected_alone_with_partial_success(receiver: InProcess, db: Path) -> None:
    good = _json_span("5b8efff798038103d269b633813fc60c", "00000000000000aa")
    request = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            good,
                            _json_span("not-hex", "00000000000000ab"),
                            _json_span("5b8efff798038103d269b633813fc60c", "00ab"),
                            {**good, "spanId": "00000000000000ac", "kind": {"oops": 1}},
                        ]
                    }
                ]
            }
        ]
    }
    status, _, raw = post(receiver.url, json.dumps(request).encode(), "application/json")
    assert status == 200
    partial = json.loads(raw)["partialSuccess"]
    assert partial["rejectedSpans"] == "3"
    assert "traceId is not hex" in partial["errorMessage"]
    assert "span id must be 8 bytes" in partial["errorMessage"]
    zero = make_spans(2, trace=0)  # trace id 0 is invalid in OTLP
    status, _, raw = post(receiver.url, body(zero + make_spans(1, trace=7)))
    reply = ExportTraceServiceResponse.FromString(raw)
    assert status == 200 and reply.partial_success.rejected_spans == 2
    assert "trace id must be 16 bytes, not all zero" in reply.partial_success.error_message
    receiver.stop()
    assert {row[1] for row in stored(db)} == {"00000000000000aa", format(7 << 16, "016x")}


@pytest.mark.parametrize(
    ("data", "content_type", "reason"),
    [
        (b"\xff\xff\xff garbage", PB, "not an OTLP protobuf trace request"),
        (b"{not json", "application/json", "not JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'{"resourceSpans": 5}', "application/json", "resourceSpans must be a list"),
    ],
)
def test_a_malformed_body_is_a_400_with_the_reason(
    receiver: InProcess, data: bytes, content_type: str, reason: str
) -> None:
    status, _, raw = post(receiver.url, data, content_type)
    assert status == 400
    if content_type == PB:
        from google.rpc.status_pb2 import Status as RpcStatus

        assert reason in RpcStatus.FromString(raw).message
    else:
        assert reason in json.loads(raw)["message"]
    assert post(receiver.url, body(make_spans(1)))[0] == 200  # and it still serves


def test_wrong_content_type_or_encoding_is_415(receiver: InProcess) -> None:
    status, _, raw = post(receiver.url, body(make_spans(1)), "text/plain")
    assert status == 415 and b"application/x-protobuf" in raw
    status, _, raw = post(receiver.url, b"x", headers={"Content-Encoding": "br"})
    assert status == 415 and b"gzip" in raw


def test_truncated_gzip_is_400_and_a_gzip_bomb_is_413(receiver: InProcess) -> None:
    zipped = gzip.compress(body(make_spans(20)))
    status, _, raw = post(
        receiver.url, zipped[: len(zipped) // 2], headers={"Content-Encoding": "gzip"}
    )
    assert status == 400
    from google.rpc.status_pb2 import Status as RpcStatus

    assert "truncated" in RpcStatus.FromString(raw).message
    status, _, _ = post(receiver.url, b"\x1f\x8b not gzip", headers={"Content-Encoding": "gzip"})
    assert status == 400
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))  # 10 KB that inflate to 10 MB
    assert len(bomb) < 64 * 1024
    assert post(receiver.url, bomb, headers={"Content-Encoding": "gzip"})[0] == 413


def test_bodies_over_the_limit_are_413_declared_or_chunked(receiver: InProcess) -> None:
    big = b"\0" * (65 * 1024)
    assert post(receiver.url, big)[0] == 413
    host, port = "127.0.0.1", receiver.port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("POST", "/v1/traces", iter([big[:40_000], big[40_000:]]), {"Content-Type": PB})
    assert conn.getresponse().status == 413  # no Content-Length: counted as it arrives
    conn.close()
    assert post(receiver.url, body(make_spans(1)))[0] == 200


def test_the_token_is_required_when_set(db: Path) -> None:
    running = InProcess(CollectorSettings(db=db, port=0, token="s3cret"))
    try:
        data = body(make_spans(1))
        status, headers, _ = post(running.url, data)
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert post(running.url, data, headers={"Authorization": "Bearer wrong"})[0] == 401
        assert post(running.url, data, headers={"Authorization": "Bearer s3cret"})[0] == 200
    finally:
        report = running.stop()
    assert report.stored == 1


def test_unknown_paths_and_methods_are_refused(receiver: InProcess) -> None:
    assert post(receiver.url, b"", path="/v1/other")[0] == 404
    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    conn.request("GET", "/v1/traces")
    assert conn.getresponse().status == 405
    conn.close()
    assert post(receiver.url, b"", path="/v1/metrics")[0] == 200  # accepted and dropped


def _raw(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_a_client_that_disconnects_mid_body_costs_nothing(receiver: InProcess, db: Path) -> None:
    data = body(make_spans(5, trace=3))
    for _ in range(5):
        sock = _raw(receiver.port)
        head = f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PB}\r\n"
        sock.sendall(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data[:40])
        sock.close()
    assert post(receiver.url, body(make_spans(2, trace=4)))[0] == 200
    report = receiver.stop()
    assert report.stored == 2 and {r[0] for r in stored(db)} == {"root", "child-1"}


def test_slow_bodies_and_slow_headers_are_cut_off(db: Path) -> None:
    running = InProcess(CollectorSettings(db=db, port=0, body_timeout=0.5, idle_timeout=1.0))
    try:
        slow_body = _raw(running.port)
        slow_body.sendall(
            f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PB}\r\n"
            "Content-Length: 100\r\n\r\nab".encode()
        )
        assert slow_body.recv(100).startswith(b"HTTP/1.1 408")
        slow_headers = _raw(running.port)
        slow_headers.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        # Trickle one header line at a time: the connection is closed anyway.
        closed = False
        while time.monotonic() - started < 10:
            try:
                slow_headers.sendall(b"X-Slow: 1\r\n")
                if slow_headers.recv(100, socket.MSG_DONTWAIT) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed = True
                break
            time.sleep(0.2)
        assert closed, "a client trickling headers kept its connection"
        assert post(running.url, body(make_spans(1)))[0] == 200
    finally:
        running.stop()


def test_concurrent_senders_lose_nothing(db: Path) -> None:
    running = InProcess(CollectorSettings(db=db, port=0, max_queued_spans=100_000))
    errors: list[object] = []

    def send(sender: int) -> None:
        for request in range(15):
            trace = sender * 1000 + request + 1
            status, _, _ = post(running.url, body(make_spans(20, trace=trace)))
            if status != 200:
                errors.append(status)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = running.stop()
    assert errors == []
    assert report.stored == 6 * 15 * 20 == len(stored(db))
    assert spyglass.Store(db).traces(limit=200).__len__() == 90


def test_a_locked_database_fills_the_queue_then_503_then_everything_is_stored(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_db, "BUSY_TIMEOUT_MS", 100)  # the writer's retry path, not its wait
    running = InProcess(CollectorSettings(db=db, port=0, max_queued_spans=300))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        accepted, answers = 0, []
        for trace in range(1, 12):
            status, headers, _ = post(running.url, body(make_spans(100, trace=trace)))
            answers.append(status)
            if status == 200:
                accepted += 100
            else:
                assert status == 503 and headers["Retry-After"] == "1"
        assert accepted == 300 and answers[:3] == [200, 200, 200] and set(answers[3:]) == {503}
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    deadline = time.monotonic() + 30
    while post(running.url, body(make_spans(100, trace=99)))[0] == 503:
        assert time.monotonic() < deadline, "the queue never drained"
        time.sleep(0.1)
    report = running.stop()
    assert report.lost == 0 and report.stored == 400 == len(stored(db))
    assert report.counts.refused >= 8


def test_a_file_that_is_not_a_database_is_one_error_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "not.db"
    bad.write_text("hello, I am a text file" * 100)
    from spyglass.errors import SpyglassError

    with pytest.raises(SpyglassError):
        InProcess(CollectorSettings(db=bad, port=0))


def test_deeply_nested_json_is_a_400(receiver: InProcess) -> None:
    deep = b'{"resourceSpans": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    status, _, raw = post(receiver.url, deep, "application/json")
    assert status == 400 and "not JSON" in json.loads(raw)["message"]


def _json_logs(span_id: str, name: str, body_value: dict[str, object]) -> bytes:
    record = {
        "timeUnixNano": "1700000000000000000",
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "eventName": name,
        "body": {"kvlistValue": {"values": [
            {"key": k, "value": {"stringValue": v}} for k, v in body_value.items()]}},
    }  # fmt: skip
    request = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    return json.dumps(request).encode()


def test_genai_log_events_join_their_span(receiver: InProcess, db: Path) -> None:
    trace_id = "5b8efff798038103d269b633813fc60c"
    logs = _json_logs("00000000000000c1", "gen_ai.user.message", {"content": "Hi there"})
    assert post(receiver.url, logs, "application/json", path="/v1/logs")[0] == 200
    choice = _json_logs("00000000000000c1", "gen_ai.choice", {"content": "Hello", "role": "x"})
    assert post(receiver.url, choice, "application/json", path="/v1/logs")[0] == 200
    span = _json_span(trace_id, "00000000000000c1")
    span["attributes"] = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]
    request = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    assert post(receiver.url, json.dumps(request).encode(), "application/json")[0] == 200
    time.sleep(0.5)  # stored by now; a later event cannot be added to it
    late = _json_logs("00000000000000c1", "gen_ai.user.message", {"content": "too late"})
    assert post(receiver.url, late, "application/json", path="/v1/logs")[0] == 200
    report = receiver.stop()
    assert report.late_events == 1
    (stored_span,) = spyglass.Store(db).trace(trace_id).spans
    assert stored_span.kind == "LLM"
    messages = json.loads(str(stored_span.attributes["gen_ai.input.messages"]))
    assert messages == [{"role": "user", "parts": [{"type": "text", "content": "Hi there"}]}]
    (output,) = json.loads(str(stored_span.attributes["gen_ai.output.messages"]))
    assert output["parts"][0]["content"] == "Hello"
    assert [event["name"] for event in stored_span.events] == [
        "gen_ai.user.message",
        "gen_ai.choice",
    ]
