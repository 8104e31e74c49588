"""LlamaIndex integration: content is turned into attributes after the call, as the call saw it.

The JSON of messages, documents and outputs and the token estimates are deferred to when the
exporter first reads a span (``LiteSpan.defer``). These tests end spans into a list without
reading them, change what the program still holds (the node list, the nodes themselves, the
chat history), and only then read the attributes: what was recorded must be what the call saw.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_fakes import ScriptedLLM, rag_index
from llama_index.core import VectorStoreIndex
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NoOpTracer, StatusCode

from spyglass.integrations.llama_index import install
from spyglass.tracer import attributes as A
from spyglass.tracer._integration import IntegrationContext
from spyglass.tracer._lite import LiteTracer

QUESTION = "What kind of lens is the lighthouse lamp?"


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    return rag_index()


@pytest.fixture
def ended() -> Iterator[list[ReadableSpan]]:
    """The integration on a tracer whose spans, once ended, are only kept: nobody reads their
    attributes until the test does."""
    spans: list[ReadableSpan] = []
    lite = LiteTracer(Resource.create({}), InstrumentationScope("test"), spans.append)
    uninstall = install(IntegrationContext(NoOpTracer(), True, lite))
    yield spans
    uninstall()


def named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    (found,) = [span for span in spans if span.name == name]
    return found


def json_attr(span: ReadableSpan, key: str) -> Any:
    value = (span.attributes or {})[key]
    assert isinstance(value, str), key
    return json.loads(value)


class Boost(BaseNodePostprocessor):
    """Rescores and tags nodes in place, as ``SentenceTransformerRerank`` does."""

    @classmethod
    def class_name(cls) -> str:
        return "Boost"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        for node in nodes:
            node.score = (node.score or 0.0) + 100.0
            node.node.metadata["boosted"] = True
        return nodes


def test_nodes_changed_in_place_later_in_the_query_keep_their_retrieved_values(
    ended: list[ReadableSpan], index: VectorStoreIndex
) -> None:
    engine = index.as_query_engine(
        llm=ScriptedLLM(), similarity_top_k=2, node_postprocessors=[Boost()]
    )
    response = engine.query(QUESTION)
    first_stage = [node.score - 100.0 for node in response.source_nodes if node.score]
    retrieved = json_attr(
        named(ended, "VectorIndexRetriever.retrieve"), A.GEN_AI_RETRIEVAL_DOCUMENTS
    )
    assert [doc["score"] for doc in retrieved] == pytest.approx(first_stage)
    assert all("boosted" not in doc["metadata"] for doc in retrieved)
    assert all(node.node.metadata["boosted"] for node in response.source_nodes)


def test_nodes_changed_after_the_query_do_not_change_what_was_recorded(
    ended: list[ReadableSpan], index: VectorStoreIndex
) -> None:
    engine = index.as_query_engine(llm=ScriptedLLM(), similarity_top_k=2)
    response = engine.query(QUESTION)
    nodes = list(response.source_nodes)
    seen = [(node.node.node_id, node.score, node.node.get_content()) for node in nodes]
    for node in nodes:  # what a program may do with the answer's sources
        node.score = -1.0
        node.node.set_content("rewritten")
        node.node.metadata["n"] = -1
    response.source_nodes.clear()

    retrieved = json_attr(
        named(ended, "VectorIndexRetriever.retrieve"), A.GEN_AI_RETRIEVAL_DOCUMENTS
    )
    assert [(doc["id"], doc["score"], doc["content"]) for doc in retrieved] == seen
    assert all(doc["metadata"]["n"] >= 0 for doc in retrieved)


def test_a_chat_history_appended_to_after_the_call_is_recorded_as_sent(
    ended: list[ReadableSpan],
) -> None:
    history = [ChatMessage(role="user", content="Where is the lamp?")]
    ScriptedLLM().chat(history)
    history.append(ChatMessage(role="assistant", content="At the top."))
    history.insert(0, ChatMessage(role="system", content="Be brief."))

    llm = named(ended, "ScriptedLLM.chat")
    sent = json_attr(llm, A.GEN_AI_INPUT_MESSAGES)
    assert sent == [{"role": "user", "parts": [{"type": "text", "content": "Where is the lamp?"}]}]
    assert (llm.attributes or {})[A.SPYGLASS_USAGE_ESTIMATED] is True


class _UnreadableCall:
    """A provider's tool-call object that fails when read (the call itself went fine)."""

    @property
    def function(self) -> object:
        raise RuntimeError("unreadable tool call")


class OddToolCallLLM(CustomLLM):
    """Answers with a message whose legacy ``tool_calls`` cannot be read."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="odd-1", is_chat_model=True)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        extra = {"tool_calls": [_UnreadableCall()]}
        return ChatResponse(
            message=ChatMessage(role="assistant", content="Fine.", additional_kwargs=extra)
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="Fine.")

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        raise NotImplementedError


def test_a_failing_deferred_extractor_loses_only_its_own_attributes(
    ended: list[ReadableSpan], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="spyglass")
    answer = OddToolCallLLM().chat([ChatMessage(role="user", content="Is it fine?")])
    assert answer.message.content == "Fine."

    llm = named(ended, "OddToolCallLLM.chat")
    attributes = dict(llm.attributes or {})
    assert A.GEN_AI_OUTPUT_MESSAGES not in attributes
    assert json_attr(llm, A.GEN_AI_INPUT_MESSAGES)[0]["parts"][0]["content"] == "Is it fine?"
    assert attributes[A.GEN_AI_REQUEST_MODEL] == "odd-1"
    assert attributes[A.SPYGLASS_USAGE_ESTIMATED] is True
    assert attributes[A.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert llm.status.status_code is StatusCode.OK
    assert any("output_messages" in record.getMessage() for record in caplog.records)
