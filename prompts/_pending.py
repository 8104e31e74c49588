"""Pending prompts: how LLM spans started after ``format()`` learn the prompt (see ``_link``).

``format()`` stores ``(trace id, weak reference to the current span, attributes)`` in a
``ContextVar``. ``PromptLinkProcessor.on_start`` runs in the thread and context that start a
span, so it sees that value exactly when the new span starts in code that follows the
``format()`` call; it copies the attributes onto an LLM span of the same trace while the
anchoring span is still recording. A weak reference, so a finished span is not kept alive by a
stale pending value; ``is_recording()`` turns false when the span ends, which retires it.

The processor is added to the active pipeline's provider by the first link, once per provider
(a weak set remembers which), and goes away with the provider when autolog is disabled.
Imports the OTel SDK: only ``_link`` imports this module, once a spyglass span exists.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.util.types import Attributes

from spyglass.tracer import attributes as A

#: ``gen_ai.operation.name`` values of model calls (LLM spans without spyglass's kind).
LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})


@dataclass(frozen=True)
class Pending:
    trace_id: int
    anchor: weakref.ReferenceType[Span]
    attributes: Mapping[str, str]

    def applies_to(self, span: Span) -> bool:
        anchor = self.anchor()
        if anchor is None or not anchor.is_recording():
            return False
        return span.get_span_context().trace_id == self.trace_id and is_llm(span.attributes)


PENDING: ContextVar[Pending | None] = ContextVar("spyglass_pending_prompt", default=None)

_attached: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
_attach_lock = threading.Lock()


def is_llm(attributes: Attributes) -> bool:
    attrs = attributes or {}
    return (
        attrs.get(A.SPYGLASS_KIND) == "LLM" or attrs.get(A.GEN_AI_OPERATION_NAME) in LLM_OPERATIONS
    )


class PromptLinkProcessor(SpanProcessor):
    """Copies the pending prompt onto LLM spans as they start (see the module docstring)."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pending = PENDING.get()
        if pending is None or not pending.applies_to(span):
            return
        if (span.attributes or {}).get(A.GEN_AI_PROMPT_NAME) is None:
            span.set_attributes(pending.attributes)

    def on_end(self, span: ReadableSpan) -> None:
        return

    def shutdown(self) -> None:
        return

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _is_spyglass(span: Span) -> bool:
    resource = span.resource
    return resource is not None and A.SPYGLASS_PROJECT in resource.attributes


def _attach_processor(span: Span) -> None:
    """Add the processor to the provider that made ``span``, if it is the active pipeline's."""
    from spyglass.tracer._runtime import active

    pipeline = active()
    if pipeline is None or pipeline.resource is not span.resource:
        return
    with _attach_lock:
        if pipeline.provider not in _attached:
            pipeline.provider.add_span_processor(PromptLinkProcessor())
            _attached.add(pipeline.provider)


def link_current_span(attributes: Mapping[str, str]) -> bool:
    """Set ``attributes`` on the current span if it is spyglass's, and make them pending for
    the LLM spans its block starts next; False when no spyglass span is current."""
    span = otel_trace.get_current_span()
    if not isinstance(span, Span) or not span.is_recording() or not _is_spyglass(span):
        return False
    span.set_attributes(attributes)
    _attach_processor(span)
    PENDING.set(Pending(span.get_span_context().trace_id, weakref.ref(span), dict(attributes)))
    return True
