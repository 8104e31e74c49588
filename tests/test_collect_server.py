"""The receiver through real HTTP on 127.0.0.1: limits, auth, bad clients, backpressure.

Each test runs a receiver (``collect_helpers.InProcess``, the same coroutine ``spyglass collect``
runs, with small limits) on a free port and talks to it with ``http.client`` or a raw socket;
what is asserted is the HTTP answer and what ends up in the SQLite file.
"""

from __future__ import annotations

import gzip
import http.client
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from collect_helpers import PB, InProcess, body, make_spans, post, stored

import spyglass
from spyglass.collector import CollectorSettings
from spyglass.tracer import _db, _exporter


@pytest.fixture
def settings(db: Path) -> CollectorSettings:
    return CollectorSettings(db=db, port=0, max_body_bytes=64 * 1024, max_queued_spans=1_000)


@pytest.fixture
def receiver(settings: CollectorSettings) -> Iterator[InProcess]:
    running = InProcess(settings)
    yield running
    running.stop()


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


def test_the_token_is_required_when_set(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    running = InProcess(CollectorSettings(db=db, port=0, token="s3cret"))
    try:
        data = body(make_spans(1))
        status, headers, _ = post(running.url, data)
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert post(running.url, data, headers={"Authorization": "Bearer wrong"})[0] == 401
        assert post(running.url, data, headers={"Authorization": "Bearer s3cret"})[0] == 200
        # What the README tells a sender to set, read by the standard exporter.
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20s3cret")
        exporter = OTLPSpanExporter(endpoint=running.traces_url)
        assert exporter.export(make_spans(2, trace=5)) == SpanExportResult.SUCCESS
        exporter.shutdown()
    finally:
        report = running.stop()
    assert report.stored == 3


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
    # The exporter alone would hold 250 refused spans, then drop the oldest: the receiver must
    # stop taking spans from its queue instead (and refuse requests), so that none are dropped.
    monkeypatch.setattr(_exporter, "MAX_PENDING_SPANS", 250)
    running = InProcess(CollectorSettings(db=db, port=0, max_queued_spans=300))
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        accepted, answers, trace = 0, [], 0
        locked_until = time.monotonic() + 1.5  # several of the writer's attempts fail
        while time.monotonic() < locked_until:
            trace += 1
            status, headers, _ = post(running.url, body(make_spans(100, trace=trace)))
            answers.append(status)
            if status == 200:
                accepted += 100
            else:
                assert status == 503 and headers["Retry-After"] == "1"
            time.sleep(0.05)
        # The queue grew to its bound and stayed there: everything after was refused.
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
    assert report.counts.refused >= len(answers) - 3


def test_a_file_that_is_not_a_database_is_one_error_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "not.db"
    bad.write_text("hello, I am a text file" * 100)
    from spyglass.errors import SpyglassError

    with pytest.raises(SpyglassError):
        InProcess(CollectorSettings(db=bad, port=0))
