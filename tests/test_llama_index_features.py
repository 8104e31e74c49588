"""LlamaIndex integration: chat engines, registered prompts, rerankers, tools and agents,
content capture off, and nesting with the user's spans and provider-SDK spans."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_fakes import ScriptedLLM, rag_index
from llama_index.core import PromptTemplate, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import TextBlock, ToolCallBlock
from llama_index.core.chat_engine import SimpleChatEngine
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.llms import ChatMessage, MockLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llama_index.core.postprocessor import LLMRerank
from llama_index.core.tools import FunctionTool
from opentelemetry import trace as otel_trace
from test_llama_index import QUESTION, attr_json, by_kind, only_trace, traces, tree

import spyglass
from spyglass.integrations._nesting import framework_llm_span


@pytest.fixture(scope="module")
def index() -> VectorStoreIndex:
    return rag_index()


def _autolog(db: Path, **kwargs: Any) -> None:
    spyglass.autolog(db=db, integrations=["llama_index"], **kwargs)


# --- chat engines -----------------------------------------------------------------------------


def test_simple_chat_engine_records_chat_messages(db: Path) -> None:
    engine = SimpleChatEngine.from_defaults(llm=ScriptedLLM(answer="Hello, keeper."))
    _autolog(db)
    engine.chat("Hi there")
    trace = only_trace(db)
    assert tree(trace) == ["SimpleChatEngine.chat", [["ScriptedLLM.chat", []]]]
    (llm,) = by_kind(trace, "LLM")
    assert llm.attributes["gen_ai.operation.name"] == "chat"
    assert attr_json(llm, "gen_ai.input.messages")[-1] == {
        "role": "user",
        "parts": [{"type": "text", "content": "Hi there"}],
    }
    assert attr_json(llm, "gen_ai.output.messages")[0]["role"] == "assistant"
    assert attr_json(trace.root, "spyglass.output") == "Hello, keeper."  # type: ignore[arg-type]


def test_context_chat_engine_turns_are_traces(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_chat_engine(chat_mode="condense_plus_context", llm=MockLLM(max_tokens=4))
    _autolog(db)
    engine.chat("Tell me about the lighthouse")
    engine.chat("And the lamp?")
    found = traces(db)
    assert [t.root.name for t in found] == ["CondensePlusContextChatEngine.chat"] * 2  # type: ignore[union-attr]
    for trace in found:
        assert {s.kind for s in trace.spans} >= {"CHAIN", "RETRIEVER", "LLM"}


def test_streaming_chat_nests_the_model_call(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_chat_engine(chat_mode="context", llm=ScriptedLLM(answer="a b c"))
    _autolog(db)
    response = engine.stream_chat("hi")
    assert "".join(response.response_gen) == "a b c"
    trace = only_trace(db)
    (llm,) = by_kind(trace, "LLM")
    assert trace.root.name == "ContextChatEngine.stream_chat"  # type: ignore[union-attr]
    assert llm.attributes["gen_ai.request.stream"] is True
    assert attr_json(llm, "gen_ai.output.messages")[0]["parts"][0]["content"] == "a b c"


async def test_async_streaming_chat_is_one_model_call(db: Path) -> None:
    engine = SimpleChatEngine.from_defaults(llm=ScriptedLLM(answer="p q"))
    _autolog(db)
    response = await engine.astream_chat("yo")
    assert [token async for token in response.async_response_gen()] == ["p", " q"]
    trace = only_trace(db)
    # CustomLLM.astream_chat calls stream_chat lazily, inside its generator, while another
    # span (the history writer) consumes it: still one model call, counted once.
    (llm,) = by_kind(trace, "LLM")
    assert llm.name == "ScriptedLLM.astream_chat" and llm.output_tokens == 2
    assert trace.summary.output_tokens == 2


def test_an_abandoned_raw_stream_still_ends(db: Path) -> None:
    llm = ScriptedLLM(answer="never finished")
    _autolog(db)
    stream = llm.stream_complete("go")
    next(stream)
    del stream
    (span,) = only_trace(db).spans
    assert (span.name, span.status) == ("ScriptedLLM.stream_complete", "OK")


# --- registered prompts -----------------------------------------------------------------------

QA = PromptTemplate(
    "Context:\n{context_str}\nAnswer briefly: {query_str}\n",
    metadata={"spyglass.prompt.name": "lighthouse-qa", "spyglass.prompt.version": 3},
)


def test_registered_prompt_links_the_renderers_and_the_llm(
    db: Path, index: VectorStoreIndex
) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=3), text_qa_template=QA)
    _autolog(db)
    engine.query(QUESTION)
    trace = only_trace(db)
    linked = {s.name for s in trace.spans if s.prompt_name == "lighthouse-qa"}
    assert linked == {"CompactAndRefine.synthesize", "MockLLM.predict"}
    assert {s.prompt_version for s in trace.spans if s.prompt_name} == {"3"}
    (llm,) = by_kind(trace, "LLM")
    assert "Answer briefly" in attr_json(llm, "gen_ai.input.messages")[0]["parts"][0]["content"]


def test_templates_without_spyglass_metadata_link_nothing(
    db: Path, index: VectorStoreIndex
) -> None:
    plain = PromptTemplate("Q: {query_str}\n{context_str}", metadata={"other": 1})
    engine = index.as_query_engine(llm=MockLLM(max_tokens=3), text_qa_template=plain)
    _autolog(db)
    engine.query(QUESTION)
    assert all(s.prompt_name is None for s in only_trace(db).spans)


# --- rerankers --------------------------------------------------------------------------------


def test_reranker_records_input_and_output_nodes_with_scores(
    db: Path, index: VectorStoreIndex
) -> None:
    judge = ScriptedLLM(answer="Doc: 2, Relevance: 9\nDoc: 1, Relevance: 4")
    reranker = LLMRerank(llm=judge, top_n=2, choice_batch_size=10)
    engine = index.as_query_engine(
        llm=MockLLM(max_tokens=3), similarity_top_k=3, node_postprocessors=[reranker]
    )
    _autolog(db)
    engine.query(QUESTION)
    trace = only_trace(db)
    (rerank,) = by_kind(trace, "RERANKER")
    assert rerank.name == "LLMRerank._postprocess_nodes"
    given = attr_json(rerank, "spyglass.reranker.input_documents")
    kept = attr_json(rerank, "gen_ai.retrieval.documents")
    assert len(given) == 3 and len(kept) == 2
    assert [d["score"] for d in kept] == [9.0, 4.0]
    assert [d["id"] for d in kept] == [given[1]["id"], given[0]["id"]]
    assert rerank.attributes["gen_ai.request.top_k"] == 2
    assert rerank.attributes["gen_ai.retrieval.query.text"] == QUESTION
    assert [s.name for s in trace.children(rerank)] == ["ScriptedLLM.predict"]


# --- tools and agents -------------------------------------------------------------------------


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_tool_call(db: Path) -> None:
    tool = FunctionTool.from_defaults(add)
    _autolog(db)
    tool.call(a=2, b=3)
    (span,) = only_trace(db).spans
    assert (span.name, span.kind, span.status) == ("FunctionTool.call", "TOOL", "OK")
    assert span.attributes["gen_ai.tool.name"] == "add"
    assert attr_json(span, "gen_ai.tool.call.arguments") == {"a": 2, "b": 3}
    assert attr_json(span, "gen_ai.tool.call.result") == "5"


def _agent() -> FunctionAgent:
    def respond(messages: list[ChatMessage], **kwargs: Any) -> ChatMessage:
        if any(m.role == "tool" for m in messages):
            return ChatMessage(role="assistant", content="The sum is 3.")
        call = ToolCallBlock(tool_call_id="call-1", tool_name="add", tool_kwargs={"a": 1, "b": 2})
        return ChatMessage(role="assistant", blocks=[TextBlock(text="adding"), call])

    llm = MockFunctionCallingLLM(response_generator=respond, is_chat_model=True)
    return FunctionAgent(tools=[FunctionTool.from_defaults(add)], llm=llm, name="adder")


#: LlamaIndex workflows inspect agents with inspect.getmembers, which trips pydantic's
#: deprecation warnings (not spyglass's doing).
workflow_warnings = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@workflow_warnings
async def test_agent_run_is_an_agent_trace_with_tool_and_llm_spans(db: Path) -> None:
    agent = _agent()
    _autolog(db)
    assert str(await agent.run("add 1 and 2")) == "The sum is 3."
    trace = only_trace(db)
    root = trace.root
    assert root is not None and (root.name, root.kind) == ("FunctionAgent.run", "AGENT")
    assert root.attributes["gen_ai.agent.name"] == "adder"
    assert attr_json(root, "spyglass.input") == "add 1 and 2"
    assert attr_json(root, "spyglass.output") == "The sum is 3."
    (tool,) = by_kind(trace, "TOOL")
    assert trace.span(tool.parent_id).name == "BaseWorkflowAgent.call_tool"  # type: ignore[arg-type]
    llms = by_kind(trace, "LLM")
    assert len(llms) == 2 and all(s.status == "OK" for s in llms)
    first_output = attr_json(llms[0], "gen_ai.output.messages")[0]
    assert {"type": "tool_call", "id": "call-1", "name": "add", "arguments": {"a": 1, "b": 2}} in (
        first_output["parts"]
    )


@workflow_warnings
async def test_consecutive_agent_runs_are_separate_traces(db: Path) -> None:
    agent = _agent()
    _autolog(db)
    await agent.run("add 1 and 2")
    await agent.run("add 1 and 2 again")
    await asyncio.gather(agent.run("a"), agent.run("b"))
    assert len(traces(db)) == 4


# --- capture off, nesting ---------------------------------------------------------------------


def test_capture_content_off_keeps_structure_only(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2)
    _autolog(db, capture_content=False)
    engine.query(QUESTION)
    trace = only_trace(db)
    stored = json.dumps([s.attributes for s in trace.spans])
    assert "lighthouse" not in stored and "text text" not in stored
    (retriever,) = by_kind(trace, "RETRIEVER")
    docs = attr_json(retriever, "gen_ai.retrieval.documents")
    assert [set(d) for d in docs] == [{"id", "score"}] * 2
    (llm,) = by_kind(trace, "LLM")
    assert attr_json(llm, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text"}]}
    ]
    assert llm.output_tokens == 5  # tokens are structure, not content


def test_query_nests_under_the_users_span(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=2))
    _autolog(db)
    with spyglass.trace("ask", kind="CHAIN"):
        engine.query(QUESTION)
    trace = only_trace(db)
    assert tree(trace)[0] == "ask"
    assert [child[0] for child in tree(trace)[1]] == ["RetrieverQueryEngine.query"]


def test_provider_sdk_calls_inside_the_llm_see_its_span(db: Path) -> None:
    seen: list[tuple[object, object]] = []

    def script(prompt: str) -> str:
        seen.append((framework_llm_span(), otel_trace.get_current_span()))
        return "ok"

    llm = ScriptedLLM(script=script)
    _autolog(db)
    llm.complete("hello")
    (span,) = only_trace(db).spans
    framework, current = seen[0]
    assert framework is current
    assert format(current.get_span_context().span_id, "016x") == span.span_id  # type: ignore[attr-defined]


# --- contexts: threads, futures, uninstall mid-stream -------------------------------------------


def test_queries_in_threads_are_separate_traces(db: Path, index: VectorStoreIndex) -> None:
    engine = index.as_query_engine(llm=MockLLM(max_tokens=2), similarity_top_k=1)
    _autolog(db)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(engine.query, [f"lamp question {i}" for i in range(8)]))
    found = traces(db)
    assert len(found) == 8
    assert all(len(t.spans) == 5 and len(t.roots) == 1 for t in found)


_dispatcher = get_dispatcher("spyglass.tests.futures")


@_dispatcher.span
def start_job() -> asyncio.Future[int]:
    async def job() -> int:
        await asyncio.sleep(0)
        return 1

    return asyncio.ensure_future(job())


@_dispatcher.span
def plain_step() -> int:
    return 2


async def test_a_span_exiting_in_a_future_callback_does_not_swallow_later_traces(
    db: Path,
) -> None:
    _autolog(db)
    assert await start_job() == 1  # exits in the Future's callback, in another context
    plain_step()
    plain_step()
    names = sorted(t.root.name for t in traces(db))  # type: ignore[union-attr]
    assert names == ["plain_step", "plain_step", "start_job"]


def test_disable_mid_stream_ends_the_spans_once(
    db: Path, index: VectorStoreIndex, caplog: pytest.LogCaptureFixture
) -> None:
    engine = index.as_query_engine(llm=ScriptedLLM(answer="one two three"), streaming=True)
    _autolog(db)
    response = engine.query(QUESTION)
    gen = response.response_gen
    assert next(gen) == "one"
    spyglass.autolog(disable=True)
    assert list(gen) == [" two", " three"]  # the app's stream is unaffected
    with spyglass.Store(db) as store:
        (summary,) = store.traces()
        assert {s.name for s in store.trace(summary.trace_id).spans} >= {
            "RetrieverQueryEngine.query",
            "ScriptedLLM.stream",
        }
    assert "ended span" not in caplog.text.lower()
