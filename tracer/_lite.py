"""Light spans for the framework integrations: an OTel span without the SDK's per-span machinery.

A LangChain chain call makes nine runs and a LlamaIndex query five; with one OTel SDK span each,
``start_span`` and ``end`` alone cost more than the budget allows a traced call (DESIGN.md:
traced / untraced <= 1.15). The SDK pays for things spyglass does not need on this path: a
sampler (ours is always on), a per-span lock, attribute validation and bounding, span processor
fan-out on start, ``Status`` objects and a context detour to find the parent.

``LiteSpan`` is both an ``opentelemetry.trace.Span`` (so it can be current, be a parent, and take
attributes, events and a status like any other span) and a ``ReadableSpan`` (so the SQLite and
OTLP exporters read it exactly as they read an SDK span). ``LiteTracer`` starts one in a few
microseconds, doing itself what spyglass's processors do on start: the inherited attributes of
``spyglass.trace`` blocks and the mark of a parent spyglass did not record. A framework run's
children are started from the parent ``LiteSpan`` directly (``start_child``), so no OTel context
is built or read for them. At ``end()`` the span goes to the pipeline's processors' ``on_end``,
as an SDK span would.

Attribute values are checked cheaply: the primitive types pass as they are, homogeneous
sequences of them become tuples, anything else (``None`` included) is dropped, as the SDK drops
it, but without a warning per value. A string (or a sequence of strings) longer than
``MAX_ATTRIBUTE_CHARS`` is cut, visibly, at once: a 50 MB value must not be held and copied
until export.

**Deferred attributes.** Turning a run's inputs and outputs into JSON (messages, documents,
chain values) is most of an integration's work. ``defer(extractor, *args)`` keeps the arguments
and runs the extractor when the span's attributes are first read, which for a finished span is
on the exporter's thread, not in the traced call. The integration hands over objects the run is
done with (results, the messages of a finished call), and a shallow copy (``snapshot``) of
mutable containers, so that appending to a list or adding a key after the run does not change
what is recorded. An extractor that fails loses its own attributes only (logged once per
extractor).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import AttributeValue

from spyglass.tracer import attributes as A
from spyglass.tracer._context import _INHERITED
from spyglass.tracer._limits import MAX_ATTRIBUTE_CHARS, bounded_strings, capped
from spyglass.tracer._warn import reason, warn

logger = logging.getLogger("spyglass")

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_UNSET = Status(StatusCode.UNSET)
_OK = Status(StatusCode.OK)
_PRIMITIVE = (str, bool, int, float)
_getrandbits = random.getrandbits
_time_ns = time.time_ns

Attributes = dict[str, Any]
"""Attributes as the integrations build them: a fresh dict that the span takes over."""

Extractor = Callable[..., Iterable[tuple[str, Any]]]
"""Yields ``(key, value)`` pairs; a None value is skipped."""

#: Deferred attributes are resolved once, whichever thread reads first (SQLite's worker, the
#: OTLP worker, a test): one lock for all spans, held only while extractors run.
_RESOLVE_LOCK = threading.RLock()
_failed_extractors: set[str] = set()


def collect(out: dict[str, Any], extractor: Extractor, *args: object) -> None:
    """Add what ``extractor(*args)`` yields to ``out`` (a None value adds nothing).

    The one guard every integration's extractors run under: a failure keeps what the extractor
    yielded before it and loses only the rest, never the span. The first failure of each
    extractor is a warning with its traceback on the "spyglass" logger, later ones are debug
    lines: a systematic failure shows once and never floods the host program's logs.
    """
    try:
        for key, value in extractor(*args):
            if value is not None:  # None means "nothing to add"
                out[key] = value
    except Exception:
        name = getattr(extractor, "__qualname__", None) or repr(extractor)
        first = name not in _failed_extractors
        _failed_extractors.add(name)
        warn(
            "spyglass: extracting %s failed (%s); the span keeps its other attributes",
            name,
            reason(),
            traceback=True,
            debug=not first,
        )


def snapshot(value: object) -> object:
    """A shallow copy of a dict or list (and of the dicts and lists directly in it), to defer.

    Enough for what programs do to a value after handing it on (append a message to a history,
    add a key); objects inside are shared, not copied.
    """
    kind = type(value)
    if kind is dict:
        return {
            key: item.copy() if type(item) is list or type(item) is dict else item
            for key, item in value.items()  # type: ignore[attr-defined]
        }
    if kind is list:
        return [
            item.copy() if type(item) is list or type(item) is dict else item
            for item in value  # type: ignore[attr-defined]
        ]
    return value


def _clean(value: object) -> AttributeValue | None:
    """An OTel attribute value, or None when ``value`` is not one (slow path only)."""
    if isinstance(value, str):
        return capped(value, MAX_ATTRIBUTE_CHARS)
    if isinstance(value, _PRIMITIVE):
        return value
    if isinstance(value, (list, tuple)):
        if not value:
            return ()
        first = type(value[0])
        if first in _PRIMITIVE and all(type(item) is first for item in value):
            return bounded_strings(value, MAX_ATTRIBUTE_CHARS) if first is str else tuple(value)
    return None


def _cleaned(attributes: Attributes) -> Attributes:
    """``attributes`` itself when every value is a primitive and no string is too long (the
    usual case), else a copy with sequences turned into tuples, long strings cut and invalid
    values dropped."""
    for value in attributes.values():
        kind = type(value)
        if kind is str:
            if len(value) > MAX_ATTRIBUTE_CHARS:
                break
        elif kind not in _PRIMITIVE:
            break
    else:
        return attributes
    out: Attributes = {}
    for key, value in attributes.items():
        clean = _clean(value)
        if clean is not None:
            out[key] = clean
    return out


def _stamped(attributes: Attributes) -> Attributes:
    """A new span's attributes, cleaned, with those of enclosing ``spyglass.trace`` blocks."""
    attributes = _cleaned(attributes)
    inherited = _INHERITED.get()
    if inherited:
        attributes.update(inherited)
    return attributes


class LiteSpan(otel_trace.Span, ReadableSpan):
    """A recording span started by ``LiteTracer`` and handed to the processors when it ends."""

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: Attributes,
        tracer: LiteTracer,
    ) -> None:
        # ReadableSpan's properties read these fields; its __init__ would rebuild them slowly.
        # ``_ids`` and ``_attrs`` are the same objects as ``_context`` and ``_attributes``,
        # typed as this class uses them (never None, a mutable dict).
        self._name = name
        self._ids = self._context = context
        self._parent = parent
        self._attrs = self._attributes = attributes
        self._events: list[Event] = []
        self._links = ()
        self._kind = SpanKind.INTERNAL
        self._status = _UNSET
        self._start_time: int | None = _time_ns()
        self._end_time: int | None = None
        self._resource = tracer.resource
        self._instrumentation_scope = tracer.scope
        self._instrumentation_info = None
        self._tracer = tracer
        self._pending: list[tuple[Extractor, tuple[object, ...]]] | None = None

    # -- opentelemetry.trace.Span ----------------------------------------------------------------

    def get_span_context(self) -> SpanContext:
        return self._ids

    def is_recording(self) -> bool:
        return self._end_time is None

    def set_attribute(self, key: str, value: Any) -> None:
        if self._end_time is not None:
            return
        kind = type(value)
        if kind is str:
            if len(value) > MAX_ATTRIBUTE_CHARS:
                value = capped(value, MAX_ATTRIBUTE_CHARS)
        elif kind not in _PRIMITIVE:
            value = _clean(value)
            if value is None:
                return
        self._attrs[key] = value

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        if self._end_time is None:
            self._attrs.update(_cleaned(dict(attributes)))

    def defer(self, extractor: Extractor, *args: object) -> None:
        """Add the pairs ``extractor(*args)`` yields when the attributes are first read."""
        if self._end_time is not None:
            return
        if self._pending is None:
            self._pending = []
        self._pending.append((extractor, args))

    def _resolve(self) -> None:
        with _RESOLVE_LOCK:
            pending, self._pending = self._pending, None
            for extractor, args in pending or ():
                pairs: Attributes = {}
                collect(pairs, extractor, *args)
                self._attrs.update(_cleaned(pairs))  # what it yielded before failing stays

    def add_event(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        timestamp: int | None = None,
    ) -> None:
        if self._end_time is not None:
            return
        clean = _cleaned(dict(attributes)) if attributes else {}
        self._events.append(Event(name, clean, timestamp or _time_ns()))

    def add_link(self, context: SpanContext, attributes: Mapping[str, Any] | None = None) -> None:
        return  # spyglass stores no links; the SDK spans it makes carry none either

    def update_name(self, name: str) -> None:
        if self._end_time is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        if self._end_time is not None or self._status.status_code is StatusCode.OK:
            return  # as in the SDK: OK is final
        if isinstance(status, StatusCode):
            status = _OK if status is StatusCode.OK else Status(status, description)
        if status.status_code is StatusCode.UNSET:
            return
        self._status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: Mapping[str, Any] | None = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        kind = type(exception)
        module = kind.__module__
        qualname = kind.__qualname__
        event: Attributes = {
            A.EXCEPTION_TYPE: f"{module}.{qualname}" if module != "builtins" else qualname,
            A.EXCEPTION_MESSAGE: str(exception),
            A.EXCEPTION_STACKTRACE: "".join(traceback.format_exception(exception)),
            A.EXCEPTION_ESCAPED: str(escaped),
        }
        if attributes:
            event.update(attributes)
        self.add_event("exception", event, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is not None:
            return
        self._end_time = end_time or _time_ns()
        self._tracer.on_end(self)

    def end_ok(self) -> None:
        """``set_status(OK)`` and ``end()`` in one call: how most runs finish."""
        if self._end_time is not None:
            return
        self._status = _OK
        self._end_time = _time_ns()
        self._tracer.on_end(self)

    # -- ReadableSpan: the fields are set directly, so only what differs is overridden ----------

    @property
    def attributes(self) -> Mapping[str, AttributeValue]:
        if self._pending is not None:
            self._resolve()
        return self._attrs

    @property
    def events(self) -> Sequence[Event]:
        return tuple(self._events)

    @property
    def dropped_attributes(self) -> int:
        return 0

    @property
    def dropped_events(self) -> int:
        return 0

    @property
    def dropped_links(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"LiteSpan({self._name!r}, span_id={self._ids.span_id:016x})"


class LiteTracer:
    """Starts ``LiteSpan``s for one pipeline; ``on_end`` is the pipeline's processors' fan-out."""

    def __init__(
        self,
        resource: Resource,
        scope: InstrumentationScope,
        on_end: Callable[[ReadableSpan], None],
    ) -> None:
        self.resource = resource
        self.scope = scope
        self.on_end = on_end

    def start_span(self, name: str, context: Context | None, attributes: Attributes) -> LiteSpan:
        """A root run's span: parented to the current span of ``context`` (or of the current
        context), in its trace; a new trace when there is none."""
        parent_span = otel_trace.get_current_span(context)
        found: SpanContext | None = parent_span.get_span_context()
        attributes = _stamped(attributes)
        if found is not None and found.is_valid:
            trace_id = found.trace_id
            if not self._ours(parent_span):
                attributes[A.SPYGLASS_EXTERNAL_PARENT] = format(found.span_id, "016x")
        else:
            found = None
            trace_id = _getrandbits(128) or 1
        ids = SpanContext(trace_id, _getrandbits(64) or 1, False, _SAMPLED)
        return LiteSpan(name, ids, found, attributes, self)

    def start_child(self, name: str, parent: LiteSpan, attributes: Attributes) -> LiteSpan:
        """A span under another of this tracer's spans, without building an OTel context."""
        attributes = _stamped(attributes)
        up = parent._ids
        ids = SpanContext(up.trace_id, _getrandbits(64) or 1, False, _SAMPLED)
        return LiteSpan(name, ids, up, attributes, self)

    def _ours(self, span: otel_trace.Span) -> bool:
        """Whether ``span`` was recorded by this pipeline (so it is stored with its children)."""
        return isinstance(span, ReadableSpan) and span.resource is self.resource
