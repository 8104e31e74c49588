"""Which framework LLM span is running in this context, for the provider-SDK integrations.

A LangChain chat model or a LlamaIndex LLM that calls the openai / anthropic SDK produces two
LLM spans for one call. The framework integration calls ``enter_framework_llm(span)`` when its
LLM span starts (on the caller's thread or task, never reset: a stale value is harmless because
readers check that the span still records). The SDK integration parents its span to
``framework_llm_span()`` when there is one, and, when the SDK call reports usage, calls
``usage_counted_below(parent)`` so the trace totals count the call once, from the SDK's numbers.
"""

from __future__ import annotations

from contextvars import ContextVar

from opentelemetry.trace import Span

from spyglass.tracer import attributes as A

_FRAMEWORK_LLM: ContextVar[Span | None] = ContextVar("spyglass_framework_llm_span", default=None)


def enter_framework_llm(span: Span) -> None:
    """Mark ``span`` as the framework LLM span that SDK calls in this context belong to."""
    _FRAMEWORK_LLM.set(span)


def framework_llm_span() -> Span | None:
    """The framework LLM span still open in this context, if any."""
    span = _FRAMEWORK_LLM.get()
    return span if span is not None and span.is_recording() else None


def usage_counted_below(span: Span) -> None:
    """The framework span's tokens are also on an SDK span under it: count only those."""
    span.set_attribute(A.SPYGLASS_USAGE_COUNTED_ELSEWHERE, True)
