"""Attributes inherited by every span created inside a block, whoever creates it.

``spyglass.trace(session_id=..., user_id=..., tags=..., metadata=...)`` pushes values onto a
``ContextVar``; ``ContextAttributesProcessor.on_start`` copies them onto each new span of
spyglass's provider, so spans made by LangChain callbacks or SDK wrappers inside the block carry
them too. asyncio tasks copy the context, so they inherit; plain threads do not, as OTel's own
context does not.

The same processor marks a span whose parent is not a spyglass span (a user's own OTel span, or
a remote parent) so the store can treat it as the root of what spyglass recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.util.types import AttributeValue

from spyglass.tracer import attributes as A

_INHERITED: ContextVar[Mapping[str, AttributeValue]] = ContextVar(
    "spyglass_inherited_attributes", default=MappingProxyType({})
)


_FRAMEWORK_RUN: ContextVar[otel_trace.Span | None] = ContextVar(
    "spyglass_framework_run", default=None
)


def enter_framework_run(span: otel_trace.Span) -> None:
    """Name the span of a framework run whose code is about to execute in this context.

    LangChain's callbacks must not attach the OTel context (it breaks under async), so a
    ``spyglass.trace`` block inside a runnable would otherwise nest under the chain's caller.
    The handler sets this (never resets it: a stale value is ignored once its span has ended).
    """
    _FRAMEWORK_RUN.set(span)


def parent_context() -> Context:
    """Where a span that user code starts now belongs: the current OTel context, unless a
    framework run that started after the current span is still open in this context."""
    ctx = otel_context.get_current()
    run = _FRAMEWORK_RUN.get()
    if run is None or not run.is_recording():
        return ctx
    current = otel_trace.get_current_span(ctx)
    if current.is_recording():
        current_start = getattr(current, "start_time", None)
        run_start = getattr(run, "start_time", None)
        if current_start is not None and run_start is not None and current_start > run_start:
            return ctx  # a span opened inside the run (say, an outer spyglass.trace block)
    return otel_trace.set_span_in_context(run, ctx)


@contextmanager
def inherit(
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Iterable[str] = (),
    metadata: Mapping[str, object] | None = None,
) -> Iterator[Mapping[str, AttributeValue]]:
    """Add to the inherited attributes for the block: tags accumulate, metadata merges, an
    inner session or user id wins."""
    current = dict(_INHERITED.get())
    if session_id is not None:
        current[A.GEN_AI_CONVERSATION_ID] = str(session_id)
    if user_id is not None:
        current[A.SPYGLASS_USER_ID] = str(user_id)
    new_tags = [str(tag) for tag in tags]
    if new_tags:
        old = current.get(A.SPYGLASS_TAGS, ())
        merged = list(old) if isinstance(old, (list, tuple)) else []
        merged.extend(tag for tag in new_tags if tag not in merged)
        current[A.SPYGLASS_TAGS] = tuple(str(tag) for tag in merged)
    if metadata:
        old_meta = current.get(A.SPYGLASS_METADATA)
        merged_meta = json.loads(old_meta) if isinstance(old_meta, str) else {}
        merged_meta.update({str(k): v for k, v in metadata.items()})
        current[A.SPYGLASS_METADATA] = json.dumps(merged_meta, ensure_ascii=False, default=repr)
    token = _INHERITED.set(current)
    try:
        yield current
    finally:
        _INHERITED.reset(token)


class ContextAttributesProcessor(SpanProcessor):
    """Stamps inherited attributes on each span at start and marks external parents."""

    def __init__(self, resource: Resource) -> None:
        self._resource = resource

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        inherited = _INHERITED.get()
        if inherited:
            span.set_attributes(inherited)
        parent = span.parent
        if parent is None:
            return
        parent_span = otel_trace.get_current_span(parent_context)
        ours = isinstance(parent_span, ReadableSpan) and parent_span.resource is self._resource
        if not ours:
            span.set_attribute(A.SPYGLASS_EXTERNAL_PARENT, format(parent.span_id, "016x"))

    def on_end(self, span: ReadableSpan) -> None:
        return

    def shutdown(self) -> None:
        return

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True
