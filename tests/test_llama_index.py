"""LlamaIndex integration: install / uninstall, the span tree of a query, every calling style.

Real LlamaIndex (its MockLLM, and the deterministic HashEmbedding of ``llama_fakes``), real
SQLite files read back through ``Store``.
"""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_fakes import HashEmbedding, ScriptedLLM, rag_index
from llama_index.core import VectorStoreIndex
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.llms import MockLLM

import spyglass
from spyglass.integrations.llama_index import (
    SpyglassEventHandler,
    SpyglassSpanHandler,
)
from spyglass.tracer._records import SpanRecord, Trace
from spyglass.tracer._store import Store

QUESTION = "What kind of lens is the lighthouse lamp?"


def traces(db: Path) -> list[Trace]:
    spyglass.flush()
    with Store(db) as store:
        return [store.trace(summary.trace_id) for summary in store.traces(limit=100)]


def only_trace(db: Path) -> Trace:
    found = traces(db)
    assert len(found) == 1, [t.summary.name for t in found]
    return found[0]


def tree(trace: Trace, span: SpanRecord | None = None) -> list[Any]:
    """``[name, [children...]]``, children in start order."""
    span = span or trace.root
    assert span is not None
    return [span.name, [tree(trace, child) for child in trace.children(span)]]


def by_kind(trace: Trace, kind: str) -> list[SpanRecord]:
    return [span for span in trace.spans if span.kind == kind]


def attr_json(span: SpanRecord, key: str) -> Any:
    value = span.attributes[key]
    assert isinstance(value, str), key
    return json.loads(value)


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    """Built once, before any autolog (building an index is traced too)."""
    return rag_index()


@pytest.fixture
def traced_li(db: Path, index: VectorStoreIndex) -> Path:
    spyglass.autolog(db=db, integrations=["llama_index"])
    return db


# --- install / uninstall ----------------------------------------------------------------------


class _UserHandler(BaseEventHandler):
    def handle(self, event: Any, **kwargs: Any) -> None:
        return None


def test_uninstall_restores_the_dispatcher_and_keeps_user_handlers(db: Path) -> None:
    dispatcher = get_dispatcher()
    span_before = list(dispatcher.span_handlers)
    event_before = list(dispatcher.event_handlers)
    spyglass.autolog(db=db, integrations=["llama_index"])
    ours = [h for h in dispatcher.span_handlers if isinstance(h, SpyglassSpanHandler)]
    assert len(ours) == 1
    assert sum(isinstance(h, SpyglassEventHandler) for h in dispatcher.event_handlers) == 1
    user = _UserHandler()
    dispatcher.add_event_handler(user)
    try:
        spyglass.autolog(disable=True)
        assert dispatcher.span_handlers == span_before
        assert dispatcher.event_handlers == [*event_before, user]
    finally:
        dispatcher.event_handlers.remove(user)
    assert dispatcher.event_handlers == event_before


def test_objects_built_before_autolog_are_traced(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2)
    spyglass.autolog(db=db, integrations=["llama_index"])
    engine.query(QUESTION)
    assert only_trace(db).root.name == "RetrieverQueryEngine.query"  # type: ignore[union-attr]


def test_nothing_is_recorded_after_disable(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5))
    spyglass.autolog(db=db, integrations=["llama_index"])
    engine.query(QUESTION)
    spyglass.autolog(disable=True)
    engine.query(QUESTION)
    with Store(db) as store:
        assert len(store.traces()) == 1


# --- the span tree of a query -----------------------------------------------------------------

QUERY_TREE = [
    "RetrieverQueryEngine.query",
    [
        ["VectorIndexRetriever.retrieve", [["HashEmbedding.get_query_embedding", []]]],
        ["CompactAndRefine.synthesize", [["MockLLM.predict", []]]],
    ],
]


def test_query_span_tree_kinds_and_attributes(traced_li: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2)
    response = engine.query(QUESTION)
    trace = only_trace(traced_li)
    assert tree(trace) == QUERY_TREE
    assert [s.kind for s in trace.spans] == ["CHAIN", "RETRIEVER", "EMBEDDING", "CHAIN", "LLM"]
    assert all(s.status == "OK" for s in trace.spans)
    assert all(s.attributes["spyglass.integration"] == "llama_index" for s in trace.spans)

    root = trace.root
    assert root is not None
    assert attr_json(root, "spyglass.input") == QUESTION
    assert attr_json(root, "spyglass.output") == str(response)

    (retriever,) = by_kind(trace, "RETRIEVER")
    assert retriever.attributes["gen_ai.retrieval.query.text"] == QUESTION
    docs = attr_json(retriever, "gen_ai.retrieval.documents")
    assert [d["id"] for d in docs] == [n.node.node_id for n in response.source_nodes]
    assert [d["score"] for d in docs] == [n.score for n in response.source_nodes]
    assert docs[0]["score"] > docs[1]["score"]  # HashEmbedding: real, distinct scores
    assert "Fresnel" in docs[0]["content"] and docs[0]["metadata"] == {"n": 2}
    assert [d.score for d in retriever.documents] == [d["score"] for d in docs]

    (embedding,) = by_kind(trace, "EMBEDDING")
    assert embedding.attributes["gen_ai.operation.name"] == "embeddings"
    assert embedding.attributes["gen_ai.request.model"] == "hash-embedding"
    assert embedding.attributes["spyglass.embeddings.input_count"] == 1


def test_llm_span_messages_model_and_estimated_usage(
    traced_li: Path, index: VectorStoreIndex
) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2)
    engine.query(QUESTION)
    trace = only_trace(traced_li)
    (llm,) = by_kind(trace, "LLM")
    attrs = llm.attributes
    assert attrs["gen_ai.operation.name"] == "text_completion"
    assert attrs["gen_ai.provider.name"] == "mockllm"
    assert attrs["gen_ai.request.max_tokens"] == 5
    (message,) = attr_json(llm, "gen_ai.input.messages")
    assert message["role"] == "user"
    assert message["parts"][0]["type"] == "text" and QUESTION in message["parts"][0]["content"]
    assert attr_json(llm, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "text text text text text"}]}
    ]
    assert attrs["spyglass.usage.estimated"] is True
    assert llm.output_tokens == 5 and llm.input_tokens is not None and llm.input_tokens > 20
    assert trace.summary.input_tokens == llm.input_tokens
    assert trace.summary.output_tokens == 5


def test_reported_usage_is_not_estimated(traced_li: Path, index: VectorStoreIndex) -> None:
    llm = ScriptedLLM(usage={"prompt_tokens": 11, "completion_tokens": 7})
    index.as_query_engine(llm=llm).query(QUESTION)
    (span,) = by_kind(only_trace(traced_li), "LLM")
    assert (span.input_tokens, span.output_tokens) == (11, 7)
    assert "spyglass.usage.estimated" not in span.attributes
    assert span.model == "scripted-1" and span.provider == "scriptedllm"


# --- calling styles ---------------------------------------------------------------------------


async def test_aquery_counts_usage_once(traced_li: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2)
    engine.query(QUESTION)
    await engine.aquery(QUESTION)
    sync, async_ = sorted(traces(traced_li), key=lambda t: t.summary.start_ns)
    assert tree(async_) == [
        "RetrieverQueryEngine.aquery",
        [
            ["VectorIndexRetriever.aretrieve", [["HashEmbedding.aget_query_embedding", []]]],
            ["CompactAndRefine.asynthesize", [["MockLLM.apredict", []]]],
        ],
    ]
    # aquery emits CompletionStart twice (acomplete -> complete): still one call's tokens.
    assert async_.summary.input_tokens == sync.summary.input_tokens
    assert async_.summary.output_tokens == sync.summary.output_tokens == 5


async def test_concurrent_aqueries_are_separate_traces(
    traced_li: Path, index: VectorStoreIndex
) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2)
    questions = [f"question {i} about the lighthouse" for i in range(6)]
    await asyncio.gather(*(engine.aquery(q) for q in questions))
    found = traces(traced_li)
    assert len(found) == 6
    inputs = set()
    for trace in found:
        assert len(trace.spans) == 5 and len(trace.roots) == 1
        inputs.add(attr_json(trace.root, "spyglass.input"))  # type: ignore[arg-type]
        (retriever,) = by_kind(trace, "RETRIEVER")
        assert retriever.attributes["gen_ai.retrieval.query.text"] == attr_json(
            trace.root,  # type: ignore[arg-type]
            "spyglass.input",
        )
    assert inputs == set(questions)


def test_streaming_query_is_one_trace_ended_when_consumed(
    traced_li: Path, index: VectorStoreIndex
) -> None:
    llm = ScriptedLLM(answer="It is a Fresnel lens")
    engine = index.as_query_engine(llm=llm, streaming=True, similarity_top_k=2)
    response = engine.query(QUESTION)
    (partial,) = traces(traced_li)  # the retriever has ended; the query is still open
    assert {span.name for span in partial.spans} == {
        "VectorIndexRetriever.retrieve",
        "HashEmbedding.get_query_embedding",
    }
    assert "".join(response.response_gen) == "It is a Fresnel lens"
    trace = only_trace(traced_li)
    assert tree(trace) == [
        "RetrieverQueryEngine.query",
        [
            ["VectorIndexRetriever.retrieve", [["HashEmbedding.get_query_embedding", []]]],
            ["CompactAndRefine.synthesize", [["ScriptedLLM.stream", []]]],
        ],
    ]
    (llm_span,) = by_kind(trace, "LLM")
    assert attr_json(llm_span, "gen_ai.output.messages")[0]["parts"][0]["content"] == (
        "It is a Fresnel lens"
    )
    assert llm_span.attributes["gen_ai.request.stream"] is True
    assert llm_span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    root = trace.root
    assert root is not None and attr_json(root, "spyglass.output") == "It is a Fresnel lens"
    assert root.end_ns >= llm_span.end_ns and all(s.status == "OK" for s in trace.spans)


def test_streaming_query_closed_early_or_dropped_still_ends(
    traced_li: Path, index: VectorStoreIndex
) -> None:
    llm = ScriptedLLM(answer="one two three four")
    engine = index.as_query_engine(llm=llm, streaming=True)
    first = engine.query(QUESTION)
    gen = first.response_gen
    assert next(gen) == "one"
    gen.close()  # type: ignore[attr-defined]
    second = engine.query("never read")
    del second
    gc.collect()
    found = traces(traced_li)
    assert len(found) == 2
    for trace in found:
        assert all(span.end_ns >= span.start_ns for span in trace.spans)
    closed = next(t for t in found if by_kind(t, "LLM"))
    assert attr_json(closed.root, "spyglass.output") == "one"  # type: ignore[arg-type]


async def test_async_streaming_query(traced_li: Path, index: VectorStoreIndex) -> None:
    llm = ScriptedLLM(answer="async answer here")
    engine = index.as_query_engine(llm=llm, streaming=True)
    response = await engine.aquery(QUESTION)
    chunks = [chunk async for chunk in response.async_response_gen()]
    assert "".join(chunks) == "async answer here"
    trace = only_trace(traced_li)
    (llm_span,) = by_kind(trace, "LLM")
    synth = trace.span(llm_span.parent_id)  # type: ignore[arg-type]
    assert synth.name == "CompactAndRefine.asynthesize"
    assert trace.span(synth.parent_id).name == "RetrieverQueryEngine.aquery"  # type: ignore[arg-type]
    assert llm_span.input_tokens is not None and trace.summary.input_tokens == llm_span.input_tokens


def test_embedding_batch(traced_li: Path, index: VectorStoreIndex) -> None:
    HashEmbedding().get_text_embedding_batch(["a", "b", "c"])
    (span,) = only_trace(traced_li).spans
    assert span.name == "HashEmbedding.get_text_embedding_batch" and span.kind == "EMBEDDING"
    assert span.attributes["spyglass.embeddings.input_count"] == 3


# --- errors -----------------------------------------------------------------------------------


class LampError(RuntimeError):
    pass


def test_llm_error_marks_spans_and_reaches_the_caller_unchanged(
    traced_li: Path, index: VectorStoreIndex
) -> None:
    error = LampError("the lamp is out")
    engine = index.as_query_engine(llm=ScriptedLLM(fail_with=error))
    with pytest.raises(LampError) as caught:
        engine.query(QUESTION)
    assert caught.value is error
    trace = only_trace(traced_li)
    failed = [s for s in trace.spans if s.status == "ERROR"]
    assert {s.name for s in failed} == {
        "RetrieverQueryEngine.query",
        "CompactAndRefine.synthesize",
        "ScriptedLLM.predict",
    }
    for span in failed:
        assert span.attributes["error.type"] == f"{__name__}.LampError"
        assert span.status_message == "LampError: the lamp is out"
        assert any(event["name"] == "exception" for event in span.events)
    assert by_kind(trace, "RETRIEVER")[0].status == "OK"
