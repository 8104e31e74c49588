"""What the receiver reads from a body: protobuf and OTLP/JSON, gzip, partial success, bad
bodies, and GenAI events sent as log records; through real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from collect_helpers import PB, InProcess, body, make_spans, post, stored
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

import spyglass
from spyglass.collector import CollectorSettings


@pytest.fixture
def settings(db: Path) -> CollectorSettings:
    return CollectorSettings(db=db, port=0, max_body_bytes=64 * 1024, max_queued_spans=1_000)


@pytest.fixture
def receiver(settings: CollectorSettings) -> Iterator[InProcess]:
    running = InProcess(settings)
    yield running
    running.stop()


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
    deadline = time.monotonic() + 30
    while not stored(db):  # once the span is in the file, a later event cannot be added to it
        assert time.monotonic() < deadline, "the span was never stored"
        time.sleep(0.05)
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


def test_secrets_in_received_spans_are_redacted(receiver: InProcess, db: Path) -> None:
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"
    span = _json_span("5b8efff798038103d269b633813fc60c", "00000000000000d1")
    span["name"] = f"call with {secret}"
    span["attributes"] = [
        {"key": "input.value", "value": {"stringValue": f"Authorization: Bearer {secret}"}},
        {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
    ]
    span["status"] = {"code": 2, "message": f"rejected key {secret}"}
    request = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    assert post(receiver.url, json.dumps(request).encode(), "application/json")[0] == 200
    receiver.stop()
    for file in db.parent.glob(db.name + "*"):  # the database, and its WAL if one is left
        assert secret.encode() not in file.read_bytes()
    (stored_span,) = spyglass.Store(db).trace("5b8efff798038103d269b633813fc60c").spans
    assert stored_span.name == "call with [REDACTED]"
    assert "[REDACTED]" in str(stored_span.attributes["input.value"])
    assert "[REDACTED]" in str(stored_span.attributes["spyglass.input"])
