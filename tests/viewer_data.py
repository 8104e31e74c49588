"""Deterministic test files for the viewer, stats and cost tests.

Spans are built by hand as OTel ``ReadableSpan`` objects with fixed ids and fixed times and
written through the real ``SQLiteSpanExporter``, so the file is exactly what spyglass writes,
and every render of it is the same on every run. Prices come from a user price book (never
from the bundled data, which changes with genai-prices releases).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

from spyglass.tracer import attributes as A
from spyglass.tracer._cost import PriceBook, user_pricing
from spyglass.tracer._exporter import SQLiteSpanExporter

#: 2026-11-23 09:00:00 UTC, in nanoseconds.
T0 = 1_795_424_400_000_000_000
MS = 1_000_000

TRACE_RAG = 0xA1A1A1A1_00000000_00000000_00000001
TRACE_AGENT = 0xB2B2B2B2_00000000_00000000_00000002
TRACE_LOCAL = 0xC3C3C3C3_00000000_00000000_00000003
TRACE_EVIL = 0xD4D4D4D4_00000000_00000000_00000004

EVIL = "\x1b[31mred\x1b[0m [bold]x[/bold] bell\x07 \u202eevil"

PRICES = PriceBook(
    {
        ("openai", "gpt-4o-mini"): user_pricing(
            {"input": 0.15, "output": 0.6, "cache_read": 0.075}, "test"
        ),
        ("anthropic", "claude-sonnet-4-5"): user_pricing(
            {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}, "test"
        ),
    },
    bundled=False,
)


def hex_id(trace_id: int) -> str:
    return format(trace_id, "032x")


def messages(*pairs: tuple[str, str]) -> str:
    return json.dumps(
        [{"role": role, "parts": [{"type": "text", "content": text}]} for role, text in pairs]
    )


def make_span(
    trace_id: int,
    span_id: int,
    parent_id: int | None,
    name: str,
    start_ms: float,
    end_ms: float,
    attributes: Mapping[str, object],
    *,
    error: BaseException | None = None,
    traceback: str = "",
    project: str = "shop",
) -> ReadableSpan:
    """One finished span, ``start_ms`` / ``end_ms`` after ``T0``."""

    def context(sid: int) -> SpanContext:
        return SpanContext(trace_id, sid, is_remote=False, trace_flags=TraceFlags(1))

    events: Sequence[Event] = ()
    status = Status(StatusCode.UNSET)
    if error is not None:
        status = Status(StatusCode.ERROR, f"{type(error).__name__}: {error}")
        events = [
            Event(
                "exception",
                {
                    "exception.type": type(error).__name__,
                    "exception.message": str(error),
                    "exception.stacktrace": traceback,
                },
                timestamp=T0 + int(end_ms * MS),
            )
        ]
    return ReadableSpan(
        name=name,
        context=context(span_id),
        parent=None if parent_id is None else context(parent_id),
        resource=Resource({"service.name": project}),
        attributes=dict(attributes),  # type: ignore[arg-type]
        events=events,
        status=status,
        start_time=T0 + int(start_ms * MS),
        end_time=T0 + int(end_ms * MS),
    )


def _llm(provider: str, model: str, usage: Mapping[str, int], **extra: object) -> dict[str, object]:
    attrs: dict[str, object] = {
        A.SPYGLASS_KIND: "LLM",
        A.GEN_AI_OPERATION_NAME: "chat",
        A.GEN_AI_PROVIDER_NAME: provider,
        A.GEN_AI_REQUEST_MODEL: model,
    }
    attrs.update({f"gen_ai.usage.{key}": value for key, value in usage.items()})
    attrs.update(extra)
    return attrs


def rag_trace() -> list[ReadableSpan]:
    """A RAG request: retriever with scored documents, a prompt version, a cached LLM call."""
    t = TRACE_RAG
    docs = [
        {"id": "kb-12", "score": 0.91, "content": "Refunds are issued within 14 days."},
        {"id": "kb-7", "score": 0.77, "content": "Shipping is free above 50 euros."},
        {"id": "kb-3", "score": 0.42, "content": EVIL, "metadata": {"source": "faq"}},
    ]
    return [
        make_span(t, 1, None, "rag-query", 0, 1200, {
            A.SPYGLASS_KIND: "CHAIN",
            A.GEN_AI_CONVERSATION_ID: "chat-1",
            A.SPYGLASS_INPUT: json.dumps({"question": "How do refunds work?"}),
            A.SPYGLASS_OUTPUT: json.dumps("Refunds take up to 14 days."),
        }),
        make_span(t, 2, 1, "retrieve", 10, 210, {
            A.SPYGLASS_KIND: "RETRIEVER",
            A.GEN_AI_OPERATION_NAME: "retrieval",
            A.GEN_AI_RETRIEVAL_QUERY_TEXT: "How do refunds work?",
            A.GEN_AI_RETRIEVAL_DOCUMENTS: json.dumps(docs),
        }),
        make_span(t, 3, 1, "chat gpt-4o-mini", 220, 1150, _llm(
            "openai",
            "gpt-4o-mini",
            {"input_tokens": 1200, "output_tokens": 300, "cache_read.input_tokens": 200},
            **{
                A.GEN_AI_PROMPT_NAME: "qa",
                A.GEN_AI_PROMPT_VERSION: "2",
                A.GEN_AI_INPUT_MESSAGES: messages(
                    ("system", "Answer from the context."),
                    ("user", "How do refunds work?"),
                ),
                A.GEN_AI_OUTPUT_MESSAGES: messages(("assistant", "Refunds take up to 14 days.")),
            },
        )),
    ]  # fmt: skip


def agent_trace() -> list[ReadableSpan]:
    """An agent that failed: a reasoning LLM call with cache writes, then a failing tool."""
    t = TRACE_AGENT
    stack = (
        "Traceback (most recent call last):\n"
        '  File "tools.py", line 9, in search\n'
        "TimeoutError: search timed out"
    )
    return [
        make_span(t, 1, None, "support-agent", 0, 3000, {A.SPYGLASS_KIND: "AGENT"},
                  error=RuntimeError("agent gave up")),
        make_span(t, 2, 1, "chat claude-sonnet-4-5", 50, 2100, _llm(
            "anthropic",
            "claude-sonnet-4-5",
            {"input_tokens": 5000, "output_tokens": 800, "cache_write.input_tokens": 1000,
             "reasoning.output_tokens": 200},
        )),
        make_span(t, 3, 1, "search-web", 2150, 2950, {
            A.SPYGLASS_KIND: "TOOL",
            A.GEN_AI_TOOL_NAME: "search-web",
            A.GEN_AI_TOOL_CALL_ARGUMENTS: json.dumps({"query": "refund policy"}),
        }, error=TimeoutError("search timed out"), traceback=stack),
    ]  # fmt: skip


def local_trace() -> list[ReadableSpan]:
    """A local model spyglass has no price for, under a framework span counted elsewhere."""
    t = TRACE_LOCAL
    usage = {"input_tokens": 400, "output_tokens": 100}
    return [
        make_span(t, 1, None, "summarize", 0, 800, {A.SPYGLASS_KIND: "CHAIN"}),
        make_span(t, 2, 1, "ChatOllama", 5, 790, _llm(
            "ollama", "llama3", usage, **{A.SPYGLASS_USAGE_COUNTED_ELSEWHERE: True}
        )),
        make_span(t, 3, 2, "chat llama3", 10, 780, _llm("ollama", "llama3", usage)),
    ]  # fmt: skip


def evil_trace() -> list[ReadableSpan]:
    """Hostile text everywhere a model's words can reach."""
    t = TRACE_EVIL
    return [
        make_span(t, 1, None, f"evil {EVIL}", 0, 100, {
            A.SPYGLASS_KIND: "CHAIN",
            A.SPYGLASS_INPUT: json.dumps(EVIL),
            A.SPYGLASS_OUTPUT: json.dumps({"answer": EVIL}),
        }),
        make_span(t, 2, 1, "chat gpt-4o-mini", 5, 95, _llm(
            "openai", "gpt-4o-mini", {"input_tokens": 10, "output_tokens": 5},
            **{A.GEN_AI_OUTPUT_MESSAGES: messages(("assistant", EVIL))},
        )),
    ]  # fmt: skip


def shifted(spans: list[ReadableSpan], seconds: int) -> list[ReadableSpan]:
    """The same spans, ``seconds`` later (each trace of the file starts a minute apart)."""
    out = []
    for span in spans:
        assert span.start_time is not None and span.end_time is not None
        out.append(
            ReadableSpan(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=span.attributes,
                events=span.events,
                status=span.status,
                start_time=span.start_time + seconds * 10**9,
                end_time=span.end_time + seconds * 10**9,
            )
        )
    return out


def write(db: Path, spans: Sequence[ReadableSpan]) -> None:
    exporter = SQLiteSpanExporter(db)
    assert exporter.export(spans).name == "SUCCESS"
    exporter.shutdown()


def build(db: Path) -> Path:
    """The standard file: four traces a minute apart, oldest first."""
    for minute, spans in enumerate((rag_trace(), agent_trace(), local_trace(), evil_trace())):
        write(db, shifted(spans, 60 * minute))
    return db
