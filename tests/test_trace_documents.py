"""Documents from the user's own retriever: ``span.set_documents``, a RETRIEVER's output, the
decorator form, and the query; stored through the real pipeline and read as every view reads
them (the documents table, ``show --full``, search, the retrieval evaluators)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore, TextNode

import spyglass
from spyglass.evaluators import groundedness, hit_rate
from spyglass.tracer import attributes as A
from spyglass.tracer._records import SpanRecord


def retriever_span(db: Path) -> SpanRecord:
    assert spyglass.flush()
    store = spyglass.Store(db)
    (summary,) = store.traces()
    (span,) = [s for s in store.trace(summary.trace_id).spans if s.kind == "RETRIEVER"]
    return span


def test_quick_start_set_output_of_strings_stores_documents(traced: Path) -> None:
    """The README's Quick start: a RETRIEVER whose output is a list of strings."""
    with spyglass.trace("request"), spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_output(["Refunds are paid within 30 days.", "Shipping is free."])
    span_record = retriever_span(traced)
    assert [d.content for d in span_record.documents] == [
        "Refunds are paid within 30 days.",
        "Shipping is free.",
    ]
    assert [d.position for d in span_record.documents] == [0, 1]
    assert span_record.attributes[A.GEN_AI_OPERATION_NAME] == "retrieval"
    assert A.SPYGLASS_OUTPUT not in span_record.attributes  # not stored twice


def test_set_documents_accepts_every_shape(traced: Path) -> None:
    class Plain:  # neither framework: read by its attributes like a node
        node_id = "p1"
        text = "plain object text"
        metadata: ClassVar[dict[str, float]] = {"score": 0.1}

    docs: list[object] = [
        "a string",
        {"id": "d2", "content": "a dict", "score": 0.8, "metadata": {"source": "kb"}},
        {"page_content": "a LangChain-shaped dict", "metadata": {"doc_id": "d3"}},
        Document(page_content="a LangChain document", metadata={"relevance_score": 0.7}, id="d4"),
        (Document(page_content="a scored pair", id="d5"), 0.6),
        NodeWithScore(node=TextNode(text="a LlamaIndex node", id_="d6"), score=0.5),
        TextNode(text="a bare node", id_="d7", metadata={"k": 1}),
        Plain(),
    ]
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_documents(docs)
    stored = retriever_span(traced).documents
    assert [(d.id, d.score, d.content) for d in stored] == [
        (None, None, "a string"),
        ("d2", 0.8, "a dict"),
        ("d3", None, "a LangChain-shaped dict"),
        ("d4", 0.7, "a LangChain document"),
        ("d5", 0.6, "a scored pair"),
        ("d6", 0.5, "a LlamaIndex node"),
        ("d7", None, "a bare node"),
        ("p1", 0.1, "plain object text"),
    ]
    assert stored[1].metadata == {"source": "kb"}
    assert stored[6].metadata == {"k": 1}


def test_decorated_retriever_records_query_and_returned_documents(traced: Path) -> None:
    @spyglass.trace(kind="RETRIEVER")
    def search_kb(question: str, k: int = 2) -> list[tuple[Document, float]]:
        return [(Document(page_content=f"doc about {question}", id=f"d{i}"), 1 / (i + 1))
                for i in range(k)]  # fmt: skip

    result = search_kb("refunds")
    assert [doc.id for doc, _ in result] == ["d0", "d1"]  # the program's value, unchanged
    span = retriever_span(traced)
    assert span.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "refunds"
    assert [(d.id, d.score) for d in span.documents] == [("d0", 1.0), ("d1", 0.5)]


def test_set_query_and_string_input(traced: Path) -> None:
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_input("what is the refund policy?")
        span.set_output([])
    record = retriever_span(traced)
    assert record.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "what is the refund policy?"
    assert record.documents == []


def test_output_that_is_not_documents_stays_the_output(traced: Path) -> None:
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_output({"hits": 3})
    record = retriever_span(traced)
    assert record.documents == [] and A.GEN_AI_RETRIEVAL_DOCUMENTS not in record.attributes
    assert record.attributes[A.SPYGLASS_OUTPUT] == '{"hits":3}'


def test_a_chain_keeps_a_list_of_strings_as_its_output(traced: Path) -> None:
    with spyglass.trace("steps") as span:
        assert span is not None
        span.set_output(["a", "b"])
    assert spyglass.flush()
    store = spyglass.Store(traced)
    (only,) = store.trace(store.traces()[0].trace_id).spans
    assert only.documents == [] and only.attributes[A.SPYGLASS_OUTPUT] == '["a","b"]'


def test_without_content_capture_ids_and_scores_are_kept(db: Path) -> None:
    spyglass.autolog(db=db, integrations=(), capture_content=False)
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_input("secret question")
        span.set_documents([{"id": "d1", "content": "secret text", "score": 0.9}])
    record = retriever_span(db)
    assert [(d.id, d.score, d.content) for d in record.documents] == [("d1", 0.9, None)]
    assert A.GEN_AI_RETRIEVAL_QUERY_TEXT not in record.attributes


def test_documents_reach_search_and_the_retrieval_evaluators(db: Path) -> None:
    corpus = {"kb-1": "Refunds are paid within thirty days.", "kb-2": "Shipping is free."}

    def answer(question: str) -> str:
        with spyglass.trace("retrieve", kind="RETRIEVER") as span:
            assert span is not None
            span.set_documents([{"id": k, "content": v} for k, v in corpus.items()])
        return "Refunds are paid within thirty days."

    data = [{"question": "refunds?", "expected_doc_ids": ["kb-1"]}]
    result = spyglass.evaluate(answer, data, [hit_rate(), groundedness()], db=db, progress=False)
    scores = result.metrics["scores"]
    assert scores["hit_rate"]["mean"] == 1.0  # type: ignore[index]
    assert scores["groundedness"]["mean"] == 1.0  # type: ignore[index]
    hits = spyglass.Store(db).search("shipping free")
    assert [hit.span_name for hit in hits] == ["retrieve"]


def test_show_full_prints_the_documents(traced: Path) -> None:
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_output(["Refunds are paid within 30 days."])
    trace_id = retriever_span(traced).trace_id
    shown = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", "show", trace_id, "--full", "--db", str(traced)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "documents (1)" in shown and "Refunds are paid within 30 days." in shown


@pytest.mark.parametrize("bad", [object(), 42, None, [object()]])
def test_odd_values_never_raise(traced: Path, bad: object) -> None:
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        assert span is not None
        span.set_documents(bad)
        span.set_output(bad)
    assert retriever_span(traced).status == "OK"
