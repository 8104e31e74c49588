"""OTLP/HTTP trace bodies, protobuf or JSON, into batches of protobuf spans checked one by one.

Both encodings end as the same ``opentelemetry.proto`` ``Span`` messages, so a single converter
(``_spans``) turns them into SDK ``ReadableSpan``s for the exporter. A protobuf body is parsed
whole by the generated C parser; a body that does not parse is refused (400 with the reason).
A JSON body is parsed as JSON whole, then each span on its own: OTLP/JSON writes trace and span
ids as hex (protobuf's JSON mapping would want base64), which is all that keeps
``json_format.ParseDict`` from reading a span directly, so the ids are re-encoded first.

A span that is malformed (ids of the wrong length or all zero, a parent id that is neither empty
nor 8 bytes, a field of the wrong type in JSON) is rejected alone and counted, as the OTLP
specification's partial success asks; the rest of the request is kept.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from spyglass.errors import SpyglassError

_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
#: Reasons kept for the response's error message; the count covers the rest.
_MAX_REASONS = 3


class BadRequest(SpyglassError):
    """A body that cannot be read as an OTLP request at all (the reply is a 400)."""


@dataclass
class Batch:
    """Spans that share a resource and an instrumentation scope."""

    resource: Mapping[str, object]
    scope_name: str
    scope_version: str | None
    spans: list[Span]


@dataclass
class Decoded:
    """What one request holds: the accepted spans by resource and scope, and what was refused."""

    batches: list[Batch] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if len(self.reasons) < _MAX_REASONS:
            self.reasons.append(reason)

    @property
    def message(self) -> str:
        if not self.rejected:
            return ""
        more = self.rejected - len(self.reasons)
        return "; ".join(self.reasons) + (f"; and {more} more" if more > 0 else "")


_SCALARS = frozenset({"string_value", "int_value", "double_value", "bool_value"})


def any_value(value: AnyValue) -> object:
    """An OTLP ``AnyValue`` as Python: arrays as tuples (as the SDK keeps them), key-value lists
    as dicts, bytes as base64 text (JSON has no bytes)."""
    kind = value.WhichOneof("value")
    if kind in _SCALARS:
        return getattr(value, kind)
    if kind == "array_value":
        return tuple([any_value(item) for item in value.array_value.values])
    if kind == "kvlist_value":
        return key_values(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def key_values(pairs: Iterable[KeyValue]) -> dict[str, object]:
    """Attributes as a dict; a key without a value is left out (the SDK refuses ``None``).

    Scalars, most attributes, are read inline: this runs for every attribute received."""
    out: dict[str, object] = {}
    for pair in pairs:
        value = pair.value
        kind = value.WhichOneof("value")
        if kind in _SCALARS:
            out[pair.key] = getattr(value, kind)
        elif kind is not None:
            converted = any_value(value)
            if converted is not None:
                out[pair.key] = converted
    return out


def span_problem(span: Span) -> str | None:
    """Why a span cannot be stored, or None."""
    if len(span.trace_id) != 16 or span.trace_id == _ZERO_TRACE:
        return f"span {span.name!r}: trace id must be 16 bytes, not all zero"
    if len(span.span_id) != 8 or span.span_id == _ZERO_SPAN:
        return f"span {span.name!r}: span id must be 8 bytes, not all zero"
    if len(span.parent_span_id) not in (0, 8):
        return f"span {span.name!r}: parent span id must be empty or 8 bytes"
    return None


def _keep(decoded: Decoded, batch: Batch, span: Span) -> None:
    problem = span_problem(span)
    if problem is not None:
        decoded.reject(problem)
        return
    batch.spans.append(span)
    decoded.accepted += 1


def decode_protobuf(body: bytes) -> Decoded:
    """An ``ExportTraceServiceRequest`` in protobuf."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise BadRequest(f"the body is not an OTLP protobuf trace request: {exc}") from None
    decoded = Decoded()
    for resource_spans in request.resource_spans:
        resource = key_values(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            batch = Batch(resource, scope.name, scope.version or None, [])
            for span in scope_spans.spans:
                _keep(decoded, batch, span)
            if batch.spans:
                decoded.batches.append(batch)
    return decoded


def hex_to_base64(value: object, key: str) -> object:
    if not isinstance(value, str):
        return value  # ParseDict names the wrong type
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{key} is not hex: {value[:40]!r}") from None
    return base64.b64encode(raw).decode("ascii")


def _with_base64_ids(item: Mapping[str, object]) -> dict[str, object]:
    out = dict(item)
    for key in _ID_KEYS:
        if key in out:
            out[key] = hex_to_base64(out[key], key)
    links = out.get("links")
    if isinstance(links, list):
        out["links"] = [
            _with_base64_ids(link) if isinstance(link, dict) else link for link in links
        ]
    return out


def _list(parent: Mapping[str, object], *keys: str) -> list[object]:
    for key in keys:
        value = parent.get(key)
        if value is not None:
            if not isinstance(value, list):
                raise BadRequest(f"{key} must be a list")
            return value
    return []


def _parse(item: object, message: Resource | InstrumentationScope | Span, what: str) -> None:
    if not isinstance(item, dict):
        raise ValueError(f"{what} must be an object")
    try:
        json_format.ParseDict(item, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError) as exc:
        raise ValueError(f"{what}: {exc}") from None


def decode_json(body: bytes) -> Decoded:
    """An ``ExportTraceServiceRequest`` in OTLP/JSON (ids in hex, enums as numbers or names)."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise BadRequest("the body must be a JSON object with resourceSpans")
    decoded = Decoded()
    for resource_spans in _list(request, "resourceSpans", "resource_spans"):
        if not isinstance(resource_spans, dict):
            decoded.reject("a resourceSpans entry is not an object")
            continue
        _decode_resource_spans(decoded, resource_spans)
    return decoded


def _decode_resource_spans(decoded: Decoded, resource_spans: dict[str, object]) -> None:
    resource = Resource()
    scopes = _list(resource_spans, "scopeSpans", "scope_spans")
    try:
        _parse(resource_spans.get("resource") or {}, resource, "resource")
    except ValueError as exc:
        for scope_spans in scopes:
            if isinstance(scope_spans, dict):
                for _ in _list(scope_spans, "spans"):
                    decoded.reject(str(exc))
        return
    attributes = key_values(resource.attributes)
    for scope_spans in scopes:
        if not isinstance(scope_spans, dict):
            decoded.reject("a scopeSpans entry is not an object")
            continue
        scope = InstrumentationScope()
        try:
            _parse(scope_spans.get("scope") or {}, scope, "scope")
        except ValueError:
            scope = InstrumentationScope()  # a bad scope loses its name, not its spans
        batch = Batch(attributes, scope.name, scope.version or None, [])
        for item in _list(scope_spans, "spans"):
            span = Span()
            try:
                _parse(_with_base64_ids(item) if isinstance(item, dict) else item, span, "span")
            except ValueError as exc:
                decoded.reject(str(exc))
                continue
            _keep(decoded, batch, span)
        if batch.spans:
            decoded.batches.append(batch)


def response(decoded: Decoded, as_json: bool) -> bytes:
    """The ``ExportTraceServiceResponse``, with ``partial_success`` when spans were refused."""
    reply = ExportTraceServiceResponse()
    if decoded.rejected:
        reply.partial_success.CopyFrom(
            ExportTracePartialSuccess(
                rejected_spans=decoded.rejected, error_message=decoded.message
            )
        )
    if as_json:
        return json.dumps(json_format.MessageToDict(reply)).encode()
    return reply.SerializeToString()
