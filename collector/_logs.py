"""GenAI events sent as OTLP log records, joined to the spans they belong to.

Instrumentations that follow the older GenAI conventions (``opentelemetry-instrumentation-
openai-v2`` among them) send a call's messages as log records (``gen_ai.user.message``,
``gen_ai.choice``, ``gen_ai.client.inference.operation.details``) carrying the span's ids, and
the span itself separately. ``POST /v1/logs`` keeps those records, as span events, until their
span is converted (``EventJoin.take``); the SDK's log batch runs every second and its span batch
every five, so the records are normally here first. A record whose span was already stored
cannot be added to it (the store is append-only) and is counted as late; other log records are
not traces and are dropped. The wait is bounded in spans and in time, so logs for spans that
never come cannot grow it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import cast

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.sdk.trace import Event
from opentelemetry.util.types import Attributes

from spyglass.collector._decode import BadRequest, any_value, hex_to_base64, key_values
from spyglass.collector._genai import EVENT_NAMES

#: Spans whose events may wait at once, and how long (seconds) they may wait for their span.
MAX_WAITING_SPANS = 10_000
MAX_WAIT_S = 300.0


def decode_logs(body: bytes, as_json: bool) -> list[tuple[bytes, Event]]:
    """The GenAI events in an ``ExportLogsServiceRequest``, with their span ids."""
    request = ExportLogsServiceRequest()
    try:
        if as_json:
            raw = json.loads(body)
            _ids_to_base64(raw)
            json_format.ParseDict(raw, request, ignore_unknown_fields=True)
        else:
            request.ParseFromString(body)
    except (
        DecodeError,
        ValueError,
        UnicodeDecodeError,
        RecursionError,
        json_format.ParseError,
    ) as exc:
        raise BadRequest(f"the body is not an OTLP log request: {exc}") from None
    found = []
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                attributes = key_values(record.attributes)
                name = record.event_name or attributes.get("event.name")
                if name not in EVENT_NAMES or len(record.span_id) != 8:
                    continue
                body_value = any_value(record.body)
                if body_value is not None:
                    attributes["body"] = body_value
                stamp = record.time_unix_nano or record.observed_time_unix_nano
                event = Event(str(name), cast(Attributes, attributes), stamp, limit=None)
                found.append((record.span_id, event))
    return found


def _ids_to_base64(request: object) -> None:
    """OTLP/JSON's hex ids as protobuf JSON's base64, in place."""
    if not isinstance(request, dict):
        raise ValueError("the body must be a JSON object")
    for resource_logs in request.get("resourceLogs") or []:
        for scope_logs in (resource_logs or {}).get("scopeLogs") or []:
            for record in (scope_logs or {}).get("logRecords") or []:
                for key in ("traceId", "spanId"):
                    if isinstance(record, dict) and key in record:
                        record[key] = hex_to_base64(record[key], key)


def logs_response(as_json: bool) -> bytes:
    reply = ExportLogsServiceResponse()
    return b"{}" if as_json else reply.SerializeToString()


class EventJoin:
    """Events waiting for their span, by span id; thread-safe, bounded."""

    def __init__(self, max_spans: int = MAX_WAITING_SPANS, max_wait: float = MAX_WAIT_S) -> None:
        self._waiting: OrderedDict[bytes, tuple[float, list[Event]]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_spans = max_spans
        self._max_wait = max_wait
        self._stored: OrderedDict[bytes, None] = OrderedDict()
        self.late = 0

    def add(self, found: list[tuple[bytes, Event]]) -> None:
        now = time.monotonic()
        with self._lock:
            for span_id, event in found:
                if span_id in self._stored:
                    self.late += 1
                    continue
                entry = self._waiting.get(span_id)
                if entry is None:
                    entry = self._waiting[span_id] = (now, [])
                entry[1].append(event)
            self._expire(now)

    def _expire(self, now: float) -> None:
        while self._waiting:
            span_id, (since, _) = next(iter(self._waiting.items()))
            if len(self._waiting) <= self._max_spans and now - since <= self._max_wait:
                break
            del self._waiting[span_id]

    def take(self, span_id: bytes) -> list[Event]:
        """The events waiting for this span (now being stored); later ones count as late."""
        with self._lock:
            self._stored[span_id] = None
            if len(self._stored) > self._max_spans:
                self._stored.popitem(last=False)
            if not self._waiting:
                return []
            entry = self._waiting.pop(span_id, None)
        return entry[1] if entry else []
