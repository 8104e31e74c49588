"""What each LangChain run becomes: spans, nesting and attributes, read back from SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_fakes import (
    USAGE,
    FailingModel,
    LegacyUsageModel,
    ModelDown,
    ReplyModel,
    attr_json,
    only_trace,
    span_named,
    tree,
)
from opentelemetry.sdk.trace import TracerProvider

import spyglass
from spyglass.demo import build_chain
from spyglass.tracer import attributes as A


@pytest.fixture
def lc(db: Path) -> Path:
    spyglass.autolog(db=db, integrations=["langchain"])
    return db


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def broken_tool(city: str) -> str:
    """Always fails."""
    raise ConnectionError(f"no network for {city}")


def test_rag_chain_shape_and_kinds(lc: Path) -> None:
    assert build_chain().invoke("Where are the spans stored?").startswith("All spans")
    trace = only_trace(lc)
    shape = tree(trace)
    assert shape[0] == (0, "CHAIN", "rag-chain")
    assert sorted(shape[1:]) == sorted(
        [
            (1, "CHAIN", "RunnableParallel<context,question>"),
            (2, "CHAIN", "RunnableSequence"),
            (3, "RETRIEVER", "ScoredRetriever"),
            (3, "CHAIN", "format_docs"),
            (2, "CHAIN", "RunnablePassthrough"),
            (1, "CHAIN", "ChatPromptTemplate"),
            (1, "LLM", "DemoChatModel"),
            (1, "CHAIN", "StrOutputParser"),
        ]
    )
    for span in trace.spans:
        assert span.status == "OK"
        assert span.attributes[A.SPYGLASS_INTEGRATION] == "langchain"
        assert span.attributes[A.SPYGLASS_KIND] == span.kind


def test_retriever_records_query_and_scored_documents(lc: Path) -> None:
    build_chain(k=3).invoke("What does the terminal viewer show?")
    retriever = span_named(only_trace(lc), "ScoredRetriever")
    assert retriever.attributes[A.GEN_AI_OPERATION_NAME] == "retrieval"
    assert (
        retriever.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "What does the terminal viewer show?"
    )
    docs = retriever.documents
    assert [d.position for d in docs] == [0, 1, 2]
    assert docs[0].id == "doc-tui" and docs[0].content is not None
    assert "terminal viewer" in docs[0].content
    scores = [d.score for d in docs]
    assert all(isinstance(s, float) for s in scores) and scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    assert docs[0].metadata == {"source": "demo-corpus", "score": scores[0]}


def test_chain_prompt_and_parser_io(lc: Path) -> None:
    build_chain().invoke("Where are the spans stored?")
    trace = only_trace(lc)
    assert attr_json(trace.root, A.SPYGLASS_INPUT) == "Where are the spans stored?"  # type: ignore[arg-type]
    assert attr_json(trace.root, A.SPYGLASS_OUTPUT).startswith("All spans")  # type: ignore[arg-type]
    prompt = span_named(trace, "ChatPromptTemplate")
    assert set(attr_json(prompt, A.SPYGLASS_INPUT)) == {"context", "question"}
    rendered = attr_json(prompt, A.SPYGLASS_OUTPUT)
    assert [m["role"] for m in rendered] == ["system", "user"]
    assert rendered[1]["parts"] == [{"type": "text", "content": "Where are the spans stored?"}]
    parser = span_named(trace, "StrOutputParser")
    assert attr_json(parser, A.SPYGLASS_INPUT)["role"] == "assistant"


def test_llm_span_attributes(lc: Path) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{q}")])
    (prompt | ReplyModel()).invoke({"q": "Capital of France?"})
    trace = only_trace(lc)
    llm = span_named(trace, "ReplyModel")
    attrs = llm.attributes
    assert llm.kind == "LLM" and attrs[A.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[A.GEN_AI_PROVIDER_NAME] == "replymodel"  # LangChain's ls_provider
    assert attrs[A.GEN_AI_REQUEST_MODEL] == "reply-model-1"
    assert attrs[A.GEN_AI_RESPONSE_MODEL] == "reply-model-1-2026"
    assert llm.model == "reply-model-1-2026"
    assert attrs[A.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attrs[A.GEN_AI_REQUEST_MAX_TOKENS] == 64
    assert attrs[A.GEN_AI_REQUEST_TOP_P] == 0.9
    assert json.loads(str(attrs[A.GEN_AI_REQUEST_PARAMETERS]))["top_p"] == 0.9
    assert attrs[A.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert attr_json(llm, A.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]},
    ]
    assert attr_json(llm, A.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Paris is the capital of France."}],
            "finish_reason": "stop",
        }
    ]
    assert (llm.input_tokens, llm.output_tokens) == (30, 12)
    assert attrs[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 8
    assert attrs[A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5
    assert A.SPYGLASS_INPUT not in attrs  # messages instead
    # usage only on the LLM span, so the trace total counts the call once
    assert (trace.summary.input_tokens, trace.summary.output_tokens) == (30, 12)
    assert all(A.GEN_AI_USAGE_INPUT_TOKENS not in s.attributes for s in trace.spans if s is not llm)


def test_usage_from_llm_output_when_the_message_has_none(lc: Path) -> None:
    LegacyUsageModel().invoke("hi")
    llm = only_trace(lc).root
    assert llm is not None
    assert (llm.input_tokens, llm.output_tokens) == (21, 7)
    assert llm.attributes[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 4
    assert llm.attributes[A.GEN_AI_RESPONSE_MODEL] == "legacy-model-7"


def test_stream_records_time_to_first_chunk_and_final_chunk_usage(lc: Path) -> None:
    chunks = list(ReplyModel().stream("Capital?"))
    assert len(chunks) > 2
    llm = only_trace(lc).root
    assert llm is not None
    ttfc = llm.attributes[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert isinstance(ttfc, float) and 0 <= ttfc < (llm.end_ns - llm.start_ns) / 1e9
    assert llm.attributes[A.GEN_AI_REQUEST_STREAM] is True
    assert (llm.input_tokens, llm.output_tokens) == (USAGE["input_tokens"], USAGE["output_tokens"])
    assert llm.attributes[A.GEN_AI_RESPONSE_FINISH_REASONS] == ["length"]
    (out,) = attr_json(llm, A.GEN_AI_OUTPUT_MESSAGES)
    assert out["parts"][0]["content"].strip() == "Paris is the capital of France."


def test_tool_calls_inside_messages(lc: Path) -> None:
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
    model = FakeMessagesListChatModel(responses=[AIMessage(content="", tool_calls=[call])])
    model.invoke(
        [
            HumanMessage("weather?"),
            AIMessage("", tool_calls=[call]),
            ToolMessage("sunny", tool_call_id="call_1"),
        ]
    )
    llm = only_trace(lc).root
    assert llm is not None
    inputs = attr_json(llm, A.GEN_AI_INPUT_MESSAGES)
    assert inputs[1]["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert inputs[2] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny"}],
    }
    (out,) = attr_json(llm, A.GEN_AI_OUTPUT_MESSAGES)
    assert out["finish_reason"] == "tool_call"
    assert out["parts"][0]["type"] == "tool_call" and out["parts"][0]["id"] == "call_1"


def test_tool_span_from_a_tool_call(lc: Path) -> None:
    message = get_weather.invoke(
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_7", "type": "tool_call"}
    )
    assert message.content == "sunny in Oslo"
    span = only_trace(lc).root
    assert span is not None and span.kind == "TOOL" and span.name == "get_weather"
    assert span.attributes[A.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert span.attributes[A.GEN_AI_TOOL_NAME] == "get_weather"
    assert span.attributes[A.GEN_AI_TOOL_CALL_ID] == "call_7"
    assert attr_json(span, A.GEN_AI_TOOL_CALL_ARGUMENTS) == {"city": "Oslo"}
    assert attr_json(span, A.GEN_AI_TOOL_CALL_RESULT) == "sunny in Oslo"


def test_tool_span_from_plain_arguments(lc: Path) -> None:
    assert get_weather.invoke({"city": "Rome"}) == "sunny in Rome"
    span = only_trace(lc).root
    assert span is not None and A.GEN_AI_TOOL_CALL_ID not in span.attributes
    assert attr_json(span, A.GEN_AI_TOOL_CALL_RESULT) == "sunny in Rome"


def test_text_completion_llm(lc: Path) -> None:
    assert FakeListLLM(responses=["four"]).invoke("2+2=") == "four"
    span = only_trace(lc).root
    assert span is not None and span.kind == "LLM" and span.name == "FakeListLLM"
    assert span.attributes[A.GEN_AI_OPERATION_NAME] == "text_completion"
    assert attr_json(span, A.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "2+2="}]}
    ]
    (out,) = attr_json(span, A.GEN_AI_OUTPUT_MESSAGES)
    assert out["parts"] == [{"type": "text", "content": "four"}]


# --- errors --------------------------------------------------------------------------------------


def test_chain_error_is_recorded_and_reaches_the_caller_unchanged(lc: Path) -> None:
    error = ValueError("bad input")

    def explode(_: object) -> None:
        raise error

    chain = RunnableLambda(lambda x: x, name="first") | RunnableLambda(explode, name="explode")
    with pytest.raises(ValueError) as caught:
        chain.invoke("x")
    assert caught.value is error
    trace = only_trace(lc)
    failed = span_named(trace, "explode")
    assert failed.status == "ERROR" and failed.attributes[A.ERROR_TYPE] == "ValueError"
    (event,) = [e for e in failed.events if e["name"] == "exception"]
    assert event["attributes"]["exception.message"] == "bad input"  # type: ignore[index]
    assert trace.root is not None and trace.root.status == "ERROR"
    assert span_named(trace, "first").status == "OK"
    assert trace.summary.status == "ERROR"


def test_model_tool_and_retriever_errors(lc: Path) -> None:
    with pytest.raises(ModelDown):
        FailingModel().invoke("hi")
    with pytest.raises(ConnectionError):
        broken_tool.invoke({"city": "Paris"})
    spyglass.flush()
    store = spyglass.Store(lc)
    spans = [store.trace(t.trace_id).root for t in store.traces()]
    by_kind = {s.kind: s for s in spans if s is not None}
    assert by_kind["LLM"].status == "ERROR"
    assert by_kind["LLM"].attributes[A.ERROR_TYPE] == "langchain_fakes.ModelDown"
    assert by_kind["TOOL"].status == "ERROR"
    assert by_kind["TOOL"].attributes[A.ERROR_TYPE] == "ConnectionError"


# --- context -------------------------------------------------------------------------------------


def test_root_run_nests_under_a_spyglass_trace_block(lc: Path) -> None:
    with spyglass.trace("request", session_id="s-1", user_id="u-1"):
        ReplyModel().invoke("hi")
    trace = only_trace(lc)
    root, llm = trace.spans
    assert root.name == "request" and llm.parent_id == root.span_id
    assert llm.attributes[A.GEN_AI_CONVERSATION_ID] == "s-1"
    assert trace.summary.session_id == "s-1"


def test_root_run_nests_under_the_users_own_otel_span(lc: Path) -> None:
    theirs = TracerProvider().get_tracer("app")
    with theirs.start_as_current_span("http request") as outer:
        ReplyModel().invoke("hi")
    llm = only_trace(lc).root
    assert llm is not None and llm.parent_id is None  # the parent is not a spyglass span ...
    assert llm.trace_id == format(outer.get_span_context().trace_id, "032x")  # ... same trace
    assert llm.attributes[A.SPYGLASS_EXTERNAL_PARENT] == format(
        outer.get_span_context().span_id, "016x"
    )


# --- capture_content=False -----------------------------------------------------------------------


def test_without_content_structure_tokens_and_scores_stay(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"], capture_content=False)
    build_chain(model=ReplyModel()).invoke("What does the terminal viewer show?")
    get_weather.invoke(
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1", "type": "tool_call"}
    )
    spyglass.flush()
    store = spyglass.Store(db)
    spans = [s for t in store.traces() for s in store.trace(t.trace_id).spans]
    content_keys = A.CONTENT_ATTRIBUTES - {A.GEN_AI_INPUT_MESSAGES, A.GEN_AI_OUTPUT_MESSAGES}
    for span in spans:
        assert not content_keys & set(span.attributes), span.name
    llm = next(s for s in spans if s.kind == "LLM")
    assert (llm.input_tokens, llm.output_tokens) == (30, 12)
    assert attr_json(llm, A.GEN_AI_INPUT_MESSAGES) == [
        {"role": "system", "parts": [{"type": "text"}]},
        {"role": "user", "parts": [{"type": "text"}]},
    ]
    assert "Paris" not in json.dumps([s.attributes for s in spans])
    retriever = next(s for s in spans if s.kind == "RETRIEVER")
    assert retriever.documents[0].id == "doc-tui"
    assert retriever.documents[0].score is not None
    assert retriever.documents[0].content is None and retriever.documents[0].metadata is None
    tool_span = next(s for s in spans if s.kind == "TOOL")
    assert tool_span.attributes[A.GEN_AI_TOOL_CALL_ID] == "c1"
    assert tool_span.attributes[A.GEN_AI_TOOL_NAME] == "get_weather"


# --- registered prompts -----------------------------------------------------------------------


def test_registered_prompt_links_the_prompt_span_and_the_model_call(lc: Path) -> None:
    from spyglass.prompts import PromptRegistry

    version = PromptRegistry(lc).register("qa", [("system", "Be brief."), ("user", "{q}")])
    template = version.to_langchain()
    (template | ReplyModel()).invoke({"q": "Capital of France?"})
    ReplyModel().invoke("unrelated call")  # not rendered from the prompt: not linked
    assert spyglass.flush()
    store = spyglass.Store(lc)
    spans = [s for t in store.traces() for s in store.trace(t.trace_id).spans]
    linked = sorted((s.kind, s.name) for s in spans if s.prompt_name == "qa")
    assert linked == [("CHAIN", "ChatPromptTemplate"), ("LLM", "ReplyModel")]
    assert {s.prompt_version for s in spans if s.prompt_name} == {str(version.version)}
    assert sum(1 for s in spans if s.kind == "LLM" and s.prompt_name is None) == 1


def test_inputs_and_outputs_changed_after_the_run_are_recorded_as_the_run_saw_them(
    lc: Path,
) -> None:
    """Content is serialized on the exporter's thread, after the run: what the program does to
    the same list or dict afterwards (append to a history, add a key) must not show."""
    history: list[str] = ["first question"]
    result: dict[str, object] = {}

    def answer(inputs: dict[str, object]) -> dict[str, object]:
        result["answer"] = f"seen {len(history)}"
        return result

    chain = RunnableLambda(answer).with_config(run_name="answerer")
    assert chain.invoke({"history": history, "question": "q"}) == {"answer": "seen 1"}
    history.append("second question")
    result["added later"] = True
    assert spyglass.flush() is True
    span = span_named(only_trace(lc), "answerer")
    assert attr_json(span, A.SPYGLASS_INPUT) == {"history": ["first question"], "question": "q"}
    assert attr_json(span, A.SPYGLASS_OUTPUT) == {"answer": "seen 1"}
