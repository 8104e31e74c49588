"""Protobuf spans into SDK ``ReadableSpan``s, normalised, for the SQLite exporter.

The exporter (``spyglass.tracer.SQLiteSpanExporter``) stays the one writer of the file: it takes
``ReadableSpan``s, and everything that makes a stored span (redaction, the promoted columns, the
documents table, the search index, the trace roll-up) follows from ``span_to_row`` as it does
for spans recorded in-process. Building a ``ReadableSpan`` costs a few microseconds more than
building rows directly, and buys that nothing about storage is written twice.

Conventions are normalised here (``_normalise``): the canonical attributes spyglass reads are
added beside the span's own, which are all kept. Events that arrived as log records for the
span (``_logs``) are joined to it before that, since the older GenAI conventions sent messages
that way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from spyglass.collector._decode import Batch, key_values
from spyglass.collector._normalise import normalise

_KINDS = {
    Span.SPAN_KIND_SERVER: SpanKind.SERVER,
    Span.SPAN_KIND_CLIENT: SpanKind.CLIENT,
    Span.SPAN_KIND_PRODUCER: SpanKind.PRODUCER,
    Span.SPAN_KIND_CONSUMER: SpanKind.CONSUMER,
}
_STATUS = {1: StatusCode.OK, 2: StatusCode.ERROR}
_REMOTE_KNOWN = 0x100  # SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_REMOTE = 0x200  # SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK


def _attrs(values: Mapping[str, object]) -> Attributes:
    """Decoded OTLP values are what the SDK's ``AnyValue`` allows (``_decode.any_value``)."""
    return cast(Attributes, values)


def _trace_state(header: str) -> TraceState | None:
    if not header:
        return None
    try:
        return TraceState.from_header([header])
    except Exception:  # a malformed trace state loses the trace state, not the span
        return None


def _context(trace_id: bytes, span_id: bytes, flags: int, state: str) -> SpanContext:
    return SpanContext(
        trace_id=int.from_bytes(trace_id, "big"),
        span_id=int.from_bytes(span_id, "big"),
        is_remote=bool(flags & _REMOTE_KNOWN and flags & _REMOTE),
        trace_flags=TraceFlags(flags & 0xFF),
        trace_state=_trace_state(state),
    )


def _status(span: Span) -> Status:
    code = _STATUS.get(span.status.code, StatusCode.UNSET)
    # The SDK keeps a description only on ERROR (and warns otherwise).
    return Status(code, span.status.message or None if code is StatusCode.ERROR else None)


def _events(span: Span) -> list[Event]:
    return [
        Event(event.name, _attrs(key_values(event.attributes)), event.time_unix_nano, limit=None)
        for event in span.events
    ]


def _links(span: Span) -> list[Link]:
    links = []
    for link in span.links:
        if len(link.trace_id) == 16 and len(link.span_id) == 8:
            context = _context(link.trace_id, link.span_id, link.flags, link.trace_state)
            links.append(Link(context, _attrs(key_values(link.attributes))))
    return links


def to_readable(
    span: Span,
    resource: Resource,
    scope: InstrumentationScope,
    joined_events: Sequence[Event] = (),
) -> ReadableSpan:
    """One protobuf span (already checked by ``_decode.span_problem``) as a ``ReadableSpan``."""
    parent = None
    if span.parent_span_id:
        parent = _context(span.trace_id, span.parent_span_id, span.flags, "")
    events = _events(span)
    events.extend(joined_events)
    start = span.start_time_unix_nano
    return ReadableSpan(
        name=span.name,
        context=_context(span.trace_id, span.span_id, span.flags, span.trace_state),
        parent=parent,
        resource=resource,
        attributes=_attrs(normalise(key_values(span.attributes), events, scope.name)),
        events=events,
        links=_links(span),
        kind=_KINDS.get(span.kind, SpanKind.INTERNAL),
        status=_status(span),
        start_time=start,
        end_time=max(span.end_time_unix_nano, start),
        instrumentation_scope=scope,
    )


def sdk_resource(attributes: Mapping[str, object]) -> Resource:
    """The batch's resource; ``service.name`` names the trace's project."""
    return Resource(dict(_attrs(attributes) or {}))


def batch_scope(batch: Batch) -> InstrumentationScope:
    return InstrumentationScope(batch.scope_name, batch.scope_version)
