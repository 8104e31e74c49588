"""The LlamaIndex integration's pure parts, one by one: classification, extractors, messages."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import PromptTemplate
from llama_index.core.base.llms.types import (
    ChatResponse,
    CompletionResponse,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import ChatMessage, MockLLM
from llama_index.core.postprocessor import LLMRerank, SimilarityPostprocessor
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import CompactAndRefine
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools import FunctionTool, ToolOutput

from spyglass.integrations.llama_index import _classify as C
from spyglass.integrations.llama_index import _extract as X
from spyglass.integrations.llama_index import _messages as M
from spyglass.integrations.llama_index import _usage as U
from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import TRUNCATION_MARKER

UUID = "0b7c5e1e-7f5c-4a43-9a57-3c3cb1d0a9f1"


def pairs(iterator: X.Pairs) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in iterator:
        if value is not None:
            out[key] = value
    return out


# --- classification ---------------------------------------------------------------------------


def test_span_name_drops_the_uuid_only() -> None:
    assert C.span_name(f"RetrieverQueryEngine.query-{UUID}") == "RetrieverQueryEngine.query"
    assert C.span_name(f"my-workflow.run-{UUID}") == "my-workflow.run"
    assert C.span_name("odd") == "odd"


@pytest.mark.parametrize(
    ("cls", "method", "role"),
    [
        (MockLLM, "predict", C.LLM),
        (MockLLM, "astream_chat", C.LLM),
        (MockLLM, "_prepare_chat_with_tools", C.CHAIN),
        (MockEmbedding, "get_query_embedding", C.EMBEDDING),
        (RetrieverQueryEngine, "query", C.ENGINE),
        (CompactAndRefine, "synthesize", C.SYNTHESIZER),
        (LLMRerank, "_postprocess_nodes", C.RERANKER),
        (SimilarityPostprocessor, "_postprocess_nodes", C.POSTPROCESSOR),
        (FunctionTool, "call", C.TOOL),
        (FunctionTool, "_helper", C.CHAIN),
        (dict, "get", C.CHAIN),
    ],
)
def test_roles_come_from_the_llama_index_base_classes(cls: type, method: str, role: str) -> None:
    assert C.role_of(cls, method) == role


def test_provider_names() -> None:
    assert C.provider_of(MockLLM) == "mockllm"
    openai_cls = type("OpenAI", (), {"__module__": "llama_index.llms.openai.base"})
    azure_cls = type("AzureOpenAI", (), {"__module__": "llama_index.llms.azure_openai.base"})
    claude_cls = type("Anthropic", (), {"__module__": "llama_index.llms.anthropic.base"})
    custom_cls = type("OpenAIProxy", (), {"__module__": "my_app.llms"})
    assert C.provider_of(openai_cls) == "openai"
    assert C.provider_of(azure_cls) == "azure.ai.openai"
    assert C.provider_of(claude_cls) == "anthropic"
    assert C.provider_of(custom_cls) == "openai"


def test_profiles_are_cached_and_kinds_are_stored_names() -> None:
    llm = MockLLM()
    first = C.profile(llm, f"MockLLM.predict-{UUID}")
    assert first is C.profile(llm, "MockLLM.predict-11111111-2222-3333-4444-555555555555")
    assert (first.name, first.kind, first.role, first.provider) == (
        "MockLLM.predict",
        "LLM",
        C.LLM,
        "mockllm",
    )
    assert C.profile(None, f"helper-{UUID}").kind == "CHAIN"
    assert C.profile(RetrieverQueryEngine.__new__(RetrieverQueryEngine), f"X.q-{UUID}").kind == (
        "CHAIN"
    )


def test_plumbing_rules() -> None:
    llm, engine, other = MockLLM(), object(), object()
    # The same component calling itself.
    assert C.is_plumbing(C.LLM, llm, "predict", C.LLM, llm, "complete")
    assert C.is_plumbing(C.ENGINE, engine, "query", C.CHAIN, engine, "_query")
    # Other objects: only the same or the private / sync twin of the method.
    assert C.is_plumbing(C.CHAIN, other, "run", C.CHAIN, other, "_run")
    assert C.is_plumbing(C.AGENT, other, "aquery", C.CHAIN, other, "query")
    assert not C.is_plumbing(C.AGENT, other, "run", C.CHAIN, other, "init_run")
    # A synthesizer's helpers are folded; the components it calls are not.
    assert C.is_plumbing(C.SYNTHESIZER, engine, "synthesize", C.CHAIN, other, "split_text")
    assert not C.is_plumbing(C.SYNTHESIZER, engine, "synthesize", C.LLM, llm, "predict")
    assert not C.is_plumbing(C.ENGINE, engine, "query", C.RETRIEVER, other, "retrieve")


# --- text in and out ----------------------------------------------------------------------------


def test_query_and_input_text() -> None:
    assert X.query_text("q") == "q"
    assert X.query_text(QueryBundle(query_str="bundle")) == "bundle"
    assert X.query_text(ChatMessage(role="user", content="hello")) == "hello"
    assert X.query_text(SimpleNamespace(user_msg="agent input")) == "agent input"
    assert X.query_text(42) is None
    assert X.input_text({"str_or_query_bundle": QueryBundle(query_str="x")}) == "x"
    assert X.input_text({"ctx": object(), "kwargs": {"user_msg": "hi"}}) == "hi"
    assert X.input_text({"nodes": []}) is None


def test_output_text_reads_llama_index_results() -> None:
    assert X.output_text("plain") == "plain"
    assert X.output_text(SimpleNamespace(response="answer")) == "answer"
    chat = ChatResponse(message=ChatMessage(role="assistant", content="hi"))
    assert X.output_text(chat) == "hi"
    assert X.output_text(CompletionResponse(text="done")) == "done"
    assert X.output_text(ToolOutput(content="5", tool_name="add", raw_input={}, raw_output=5)) == (
        "5"
    )
    stop = SimpleNamespace(result=SimpleNamespace(response=ChatMessage(content="final")))
    assert X.output_text(stop) == "final"
    assert X.output_text(object()) is None


def test_content_json_falls_back_for_odd_values() -> None:
    assert X.content_json([{"a": "é"}]) == '[{"a":"é"}]'
    assert json.loads(X.content_json({"n": float("nan")})) == {"n": "NaN"}
    assert json.loads(X.content_json({"s": {1, 2}})) == {"s": [1, 2]}
    long = X.content_json(["x" * 100], max_chars=20)
    assert TRUNCATION_MARKER in json.loads(long)


def test_cap_marks_the_cut() -> None:
    assert M.cap("short") == "short"
    capped = M.cap("y" * (M.MAX_STRING + 5))
    assert capped.endswith(f"{TRUNCATION_MARKER} 5 chars]")


# --- the model and usage ------------------------------------------------------------------------


def test_model_attributes_skip_credentials_and_unknown_models() -> None:
    got = pairs(
        X.model_attributes(
            {
                "model": "gpt-5-mini",
                "temperature": 0.2,
                "max_tokens": 100,
                "api_key": "sk-secret",
                "auth_token": "t",
                "callback_manager": object(),
                "class_name": "OpenAI",
            }
        )
    )
    assert got[A.GEN_AI_REQUEST_MODEL] == "gpt-5-mini"
    assert got[A.GEN_AI_REQUEST_TEMPERATURE] == 0.2 and got[A.GEN_AI_REQUEST_MAX_TOKENS] == 100
    params = json.loads(str(got[A.GEN_AI_REQUEST_PARAMETERS]))
    assert params == {"model": "gpt-5-mini", "temperature": 0.2, "max_tokens": 100}
    assert A.GEN_AI_REQUEST_MODEL not in pairs(X.model_attributes({"model_name": "unknown"}))
    assert pairs(X.model_attributes({"num_output": -1})).get(A.GEN_AI_REQUEST_MAX_TOKENS) is None


@pytest.mark.parametrize(
    ("raw", "extra", "expected"),
    [
        ({"usage": {"prompt_tokens": 10, "completion_tokens": 3}}, {}, (10, 3, None)),
        (
            SimpleNamespace(
                usage=SimpleNamespace(
                    prompt_tokens=12,
                    completion_tokens=4,
                    prompt_tokens_details=SimpleNamespace(cached_tokens=8),
                )
            ),
            {},
            (12, 4, 8),
        ),
        (
            {"usage": {"input_tokens": 5, "output_tokens": 2, "cache_read_input_tokens": 20}},
            {},
            (25, 2, 20),
        ),
        (
            {"usage_metadata": {"prompt_token_count": 7, "candidates_token_count": 1}},
            {},
            (7, 1, None),
        ),
        (None, {"prompt_tokens": 3, "completion_tokens": 2}, (3, 2, None)),
    ],
)
def test_usage_shapes(raw: Any, extra: dict[str, Any], expected: tuple[Any, ...]) -> None:
    response = CompletionResponse(text="x", raw=raw, additional_kwargs=extra)
    got = pairs(U.usage_attributes(response))
    assert (
        got.get(A.GEN_AI_USAGE_INPUT_TOKENS),
        got.get(A.GEN_AI_USAGE_OUTPUT_TOKENS),
        got.get(A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ) == expected


def test_no_usage_reported() -> None:
    assert pairs(U.usage_attributes(CompletionResponse(text="x"))) == {}
    bogus = CompletionResponse(text="x", raw={"usage": {"prompt_tokens": True}})
    assert pairs(U.usage_attributes(bogus)) == {}


def test_response_attributes_from_raw() -> None:
    raw = {"id": "r-1", "model": "gpt-x-2026", "choices": [{"finish_reason": "stop"}]}
    got = pairs(U.response_attributes(CompletionResponse(text="x", raw=raw)))
    assert got == {
        A.GEN_AI_RESPONSE_ID: "r-1",
        A.GEN_AI_RESPONSE_MODEL: "gpt-x-2026",
        A.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
    }
    anthropic = pairs(
        U.response_attributes(CompletionResponse(text="", raw={"stop_reason": "end"}))
    )
    assert anthropic[A.GEN_AI_RESPONSE_FINISH_REASONS] == ("end",)


def test_estimated_usage_uses_the_llama_index_tokenizer() -> None:
    got = pairs(U.estimated_usage("hello world", ""))
    assert got == {
        A.GEN_AI_USAGE_INPUT_TOKENS: 2,
        A.GEN_AI_USAGE_OUTPUT_TOKENS: 0,
        A.SPYGLASS_USAGE_ESTIMATED: True,
    }


# --- prompts and tools --------------------------------------------------------------------------


def test_prompt_ref_reads_template_metadata() -> None:
    tagged = PromptTemplate(
        "{x}", metadata={"spyglass.prompt.name": "qa", "spyglass.prompt.version": 2}
    )
    assert X.prompt_ref(tagged) == ("qa", "2")
    assert X.prompt_ref(tagged.partial_format(x="1")) == ("qa", "2")  # LlamaIndex deep-copies
    text_version = PromptTemplate(
        "{x}", metadata={"spyglass.prompt.name": "qa", "spyglass.prompt.version": " 7"}
    )
    assert X.prompt_ref(text_version) == ("qa", "7")
    for bad in ({"spyglass.prompt.name": "qa"}, {"spyglass.prompt.version": 1}):
        assert X.prompt_ref(PromptTemplate("{x}", metadata=bad)) is None
    bad_version = {"spyglass.prompt.name": "qa", "spyglass.prompt.version": True}
    assert X.prompt_ref(PromptTemplate("{x}", metadata=bad_version)) is None
    assert X.prompt_ref("not a template") is None


def test_tool_attributes() -> None:
    tool = FunctionTool.from_defaults(lambda a, b: a + b, name="adder")
    start = pairs(X.tool_start_attributes(tool, {"args": (1,), "kwargs": {"b": 2}}, True))
    assert start[A.GEN_AI_TOOL_NAME] == "adder"
    assert json.loads(str(start[A.GEN_AI_TOOL_CALL_ARGUMENTS])) == {"args": [1], "b": 2}
    assert A.GEN_AI_TOOL_CALL_ARGUMENTS not in pairs(X.tool_start_attributes(tool, {}, False))
    output = ToolOutput(content="3", tool_name="adder", raw_input={}, raw_output=3)
    assert pairs(X.tool_end_attributes(output, True)) == {A.GEN_AI_TOOL_CALL_RESULT: '"3"'}
    assert X.tool_error(output) is None
    boom = ValueError("boom")
    failed = ToolOutput(
        content="Error: boom", tool_name="t", raw_input={}, raw_output=None, is_error=True
    )
    assert isinstance(X.tool_error(failed), RuntimeError)
    raised = ToolOutput(
        content="Error: boom",
        tool_name="t",
        raw_input={},
        raw_output=None,
        is_error=True,
        exception=boom,
    )
    assert X.tool_error(raised) is boom


# --- messages and nodes -------------------------------------------------------------------------


def test_message_parts_for_every_block_kind() -> None:
    message = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="hmm"),
            TextBlock(text="Let me add."),
            ToolCallBlock(tool_call_id="c1", tool_name="add", tool_kwargs={"a": 1}),
            ImageBlock(url="https://example.com/cat.png"),
        ],
    )
    assert M.message_dict(message, True) == {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "hmm"},
            {"type": "text", "content": "Let me add."},
            {"type": "tool_call", "id": "c1", "name": "add", "arguments": {"a": 1}},
            {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
        ],
    }
    assert M.message_dict(message, False)["parts"] == [
        {"type": "reasoning"},
        {"type": "text"},
        {"type": "tool_call", "id": "c1", "name": "add"},
        {"type": "blob", "modality": "image"},
    ]


def test_roles_tool_results_and_legacy_tool_calls() -> None:
    assert M.message_dict(ChatMessage(role="chatbot", content="x"), True)["role"] == "assistant"
    assert M.message_dict(ChatMessage(role="developer", content="x"), True)["role"] == "system"
    result = ChatMessage(role="tool", content="5", additional_kwargs={"tool_call_id": "c1"})
    assert M.message_dict(result, True) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c1", "response": "5"}],
    }
    legacy = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [{"id": "c2", "function": {"name": "f", "arguments": '{"x": 1}'}}]
        },
    )
    assert M.message_dict(legacy, True)["parts"][-1] == {
        "type": "tool_call",
        "id": "c2",
        "name": "f",
        "arguments": '{"x": 1}',
    }


def test_prompt_and_response_messages() -> None:
    assert M.prompt_messages("Q?", True) == [
        {"role": "user", "parts": [{"type": "text", "content": "Q?"}]}
    ]
    assert M.response_message(CompletionResponse(text="A."), False) == {
        "role": "assistant",
        "parts": [{"type": "text"}],
    }
    assert M.response_message(object(), True) is None


def test_node_dict() -> None:
    node = NodeWithScore(node=TextNode(id_="n1", text="body", metadata={"page": 3}), score=0.25)
    assert M.node_dict(node, True) == {
        "id": "n1",
        "score": 0.25,
        "content": "body",
        "metadata": {"page": 3},
    }
    assert M.node_dict(node, False) == {"id": "n1", "score": 0.25}
    assert M.node_dict(TextNode(id_="bare", text="t"), False) == {"id": "bare", "score": None}


def test_estimate_counts_lines_and_remembers_them() -> None:
    text = "Context:\n\nThe lamp is a Fresnel lens.\nQuery: what lens?"
    lines = ["Context:", "The lamp is a Fresnel lens.", "Query: what lens?"]
    expected = sum(U.estimate_tokens(line) for line in lines) + 2  # two runs of newlines
    assert U.estimate_tokens(text) == expected
    assert "The lamp is a Fresnel lens." in U._LINE_COUNTS
    assert U.estimate_tokens("") == 0


def test_attr_remembers_what_a_pydantic_class_lacks() -> None:
    response = CompletionResponse(text="x")
    assert M.attr(response, "message") is None
    assert (CompletionResponse, "message") in M._ABSENT
    assert M.attr(response, "text") == "x"
    loose = SimpleNamespace(a=1)
    assert M.attr(loose, "b") is None and (SimpleNamespace, "b") not in M._ABSENT
