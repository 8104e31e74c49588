"""Small LLM apps instrumented by other projects' instrumentations, for ``spyglass collect`` tests.

Run as ``python collect_apps.py STACK RECORD.json``. Each app sets up the standard OTel SDK with
the standard OTLP/HTTP exporters (which read ``OTEL_EXPORTER_OTLP_ENDPOINT``, as a user's app
would), instruments with the real instrumentor, talks to the tests' fake OpenAI server
(``FAKE_OPENAI_BASE_URL``), and also writes every finished span's attributes and events to
RECORD.json: what the instrumentor made, for the convention modules' unit tests.

Each stack runs in a process of its own because instrumentors patch libraries process-wide.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

QUESTION = "What is the refund policy?"
DOCS = [
    ("Refunds are accepted within 30 days.", {"score": 0.91, "source": "policy.md"}, "doc-1"),
    ("Shipping is free over 50 euros.", {"score": 0.42, "source": "shipping.md"}, "doc-2"),
]


def _client():
    import openai

    return openai.OpenAI(base_url=os.environ["FAKE_OPENAI_BASE_URL"], api_key="sk-test-key")


def _chat() -> None:
    reply = _client().chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": QUESTION},
        ],
        temperature=0.1,
    )
    print(reply.choices[0].message.content)


def _chain() -> None:
    """A LangChain RAG chain: retriever (scores in metadata), prompt, ChatOpenAI, parser; and
    a tool call on its own."""
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import RunnablePassthrough
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    class PolicyRetriever(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager: object = None) -> list:
            return [Document(page_content=c, metadata=dict(m), id=i) for c, m, i in DOCS]

    @tool
    def order_status(order: str) -> str:
        """Look up an order."""
        return f"order {order} shipped"

    llm = ChatOpenAI(
        model="gpt-4o-mini", base_url=os.environ["FAKE_OPENAI_BASE_URL"], api_key="sk-test-key"
    )
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from: {context}"), ("human", "{question}")]
    )
    chain = (
        {"context": PolicyRetriever(), "question": RunnablePassthrough()}
        | prompt
        | llm
        | StrOutputParser()
    )
    print(chain.invoke(QUESTION, config={"metadata": {"session_id": "chat-7"}}))
    print(order_status.invoke({"order": "42"}))


def _openinference_openai(provider: TracerProvider) -> Callable[[], None]:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return _chat


def _openinference_langchain(provider: TracerProvider) -> Callable[[], None]:
    from openinference.instrumentation.langchain import LangChainInstrumentor

    LangChainInstrumentor().instrument(tracer_provider=provider)
    return _chain


def _traceloop_openai(provider: TracerProvider) -> Callable[[], None]:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return _chat


def _traceloop_langchain(provider: TracerProvider) -> Callable[[], None]:
    from opentelemetry.instrumentation.langchain import LangchainInstrumentor

    LangchainInstrumentor().instrument(tracer_provider=provider)
    return _chain


def _openai_v2(provider: TracerProvider) -> Callable[[], None]:
    """The official OTel instrumentation; content as span attributes (latest conventions)."""
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=provider)
    return _chat


_LOGS: list[tuple[object, object]] = []


def _openai_v2_events(provider: TracerProvider) -> Callable[[], None]:
    """The official OTel instrumentation with content as log-record events, sent to /v1/logs."""
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "EVENT_ONLY"
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        BatchLogRecordProcessor,
        InMemoryLogRecordExporter,
        SimpleLogRecordProcessor,
    )

    logger_provider = LoggerProvider(resource=provider.resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    memory = InMemoryLogRecordExporter()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    _LOGS.append((logger_provider, memory))
    OpenAIInstrumentor().instrument(tracer_provider=provider, logger_provider=logger_provider)
    return _chat


STACKS: dict[str, Callable[[TracerProvider], Callable[[], None]]] = {
    "openinference-openai": _openinference_openai,
    "openinference-langchain": _openinference_langchain,
    "traceloop-openai": _traceloop_openai,
    "traceloop-langchain": _traceloop_langchain,
    "openai-v2": _openai_v2,
    "openai-v2-events": _openai_v2_events,
}


def main(stack: str, record: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    provider = TracerProvider(resource=Resource.create({"service.name": stack}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    STACKS[stack](provider)()
    logs = []
    for logger_provider, logs_memory in _LOGS:  # events go first, as their batch runs more often
        logger_provider.shutdown()
        logs = [_log(item) for item in logs_memory.get_finished_logs()]
    provider.shutdown()
    spans = [
        {
            "name": span.name,
            "span_id": format(span.context.span_id, "016x"),
            "attributes": dict(span.attributes or {}),
            "events": [
                {"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events
            ],
        }
        for span in memory.get_finished_spans()
    ]
    with open(record, "w") as out:
        json.dump({"spans": spans, "logs": logs}, out, default=_plain)


def _plain(value: object) -> object:
    return dict(value) if hasattr(value, "items") else list(value)


def _log(item: object) -> dict[str, object]:
    record = item.log_record
    return {
        "event_name": record.event_name,
        "span_id": format(record.span_id, "016x"),
        "attributes": dict(record.attributes or {}),
        "body": record.body,
    }


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
