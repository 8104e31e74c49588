"""LangChain's ChatOpenAI over the real openai client: it calls the SDK through
``with_raw_response``, and with the LangChain integration on, the SDK span nests under the
LangChain LLM span and the trace counts the call's tokens once. Needs ``langchain-openai``."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer

import spyglass
from spyglass.tracer._records import SpanRecord

langchain_openai = pytest.importorskip("langchain_openai")


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def server(llm_server: FakeLLMServer) -> FakeLLMServer:
    llm_server.reset()
    return llm_server


def stored(db: Path) -> tuple[spyglass.Store, list[SpanRecord]]:
    spyglass.flush()
    store = spyglass.Store(db)
    spans = [s for t in store.traces(limit=50) for s in store.trace(t.trace_id).spans]
    return store, sorted(spans, key=lambda span: span.start_ns)


def chat_model(server: FakeLLMServer, **kwargs: object) -> object:
    return langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        base_url=server.openai_base_url,
        api_key="test",
        max_retries=0,
        **kwargs,
    )


def test_chat_openai_calls_are_traced_through_with_raw_response(
    db: Path, server: FakeLLMServer
) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    model = chat_model(server)  # its client, and its with_raw_response, are made after autolog
    answer = model.invoke("Hi")  # type: ignore[attr-defined]
    assert answer.content == "Hello from the fake server."
    _, (span,) = stored(db)
    assert span.name == "chat gpt-4o-mini" and (span.input_tokens, span.output_tokens) == (12, 7)
    assert "Hello from the fake server." in str(span.attributes["gen_ai.output.messages"])


def _langchain_marks_its_llm_spans() -> bool:
    """Whether the LangChain integration implements its half of ``_nesting``'s contract."""
    try:
        handler = importlib.import_module("spyglass.integrations.langchain._handler")
    except ImportError:
        return False
    return hasattr(handler, "enter_framework_llm")


@pytest.mark.skipif(
    not _langchain_marks_its_llm_spans(),
    reason="the LangChain integration does not call enter_framework_llm yet",
)
def test_chat_openai_with_the_langchain_integration_nests_and_counts_once(
    db: Path, server: FakeLLMServer
) -> None:
    spyglass.autolog(db=db, integrations=["langchain", "openai"])
    model = chat_model(server, stream_usage=True)
    model.invoke("Hi")  # type: ignore[attr-defined]
    chunks = list(model.stream("Hi"))  # type: ignore[attr-defined]
    assert "".join(str(chunk.content) for chunk in chunks) == "Hello from the fake server."
    store, spans = stored(db)
    sdk = [span for span in spans if span.attributes.get("spyglass.integration") == "openai"]
    by_id = {span.span_id: span for span in spans}
    assert len(sdk) == 2
    for span in sdk:
        parent = by_id[span.parent_id]  # type: ignore[index]
        assert parent.kind == "LLM" and parent.attributes["spyglass.integration"] == "langchain"
        assert parent.attributes.get("spyglass.usage.counted_elsewhere") is True
    with store:
        totals = [(t.input_tokens, t.output_tokens) for t in store.traces()]
    assert totals == [(12, 7), (12, 7)]
