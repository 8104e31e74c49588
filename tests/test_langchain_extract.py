"""Unit tests of the LangChain extractors and converters: plain inputs in, attributes out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, Generation, LLMResult
from langchain_core.prompt_values import ChatPromptValue, StringPromptValue

from spyglass.integrations.langchain import _extract as X
from spyglass.integrations.langchain import _response as R
from spyglass.integrations.langchain._messages import (
    document_dict,
    fast_json,
    message_dict,
    plain,
)
from spyglass.tracer import attributes as A


def pairs(iterator: X.Pairs) -> dict[str, object]:
    return {key: value for key, value in iterator if value is not None}


def chat_result(message: AIMessage, **llm_output: object) -> LLMResult:
    return LLMResult(generations=[[ChatGeneration(message=message)]], llm_output=llm_output or None)


# --- messages -----------------------------------------------------------------------------------


def test_message_dict_maps_roles_text_and_tool_calls() -> None:
    ai = AIMessage(
        content="Let me check.",
        tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "call_1"}],
    )
    assert message_dict(ai, True) == {
        "role": "assistant",
        "parts": [
            {"type": "text", "content": "Let me check."},
            {
                "type": "tool_call",
                "id": "call_1",
                "name": "weather",
                "arguments": {"city": "Paris"},
            },
        ],
    }
    assert message_dict(SystemMessage("be brief"), True)["role"] == "system"
    assert message_dict(HumanMessage("hi"), True)["role"] == "user"
    assert message_dict(ChatMessage(role="critic", content="meh"), True)["role"] == "critic"
    assert message_dict(ToolMessage("sunny", tool_call_id="call_1"), True) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny"}],
    }


def test_message_dict_content_blocks_and_tuples() -> None:
    message = AIMessage(
        content=[
            {"type": "thinking", "thinking": "hmm"},
            {"type": "text", "text": "Answer"},
            {"type": "tool_use", "id": "t1", "name": "x", "input": {}},  # also in tool_calls
            "tail",
        ]
    )
    assert message_dict(message, True)["parts"] == [
        {"type": "reasoning", "content": "hmm"},
        {"type": "text", "content": "Answer"},
        {"type": "text", "content": "tail"},
    ]
    assert message_dict(("human", "hi"), True) == {
        "role": "user",
        "parts": [{"type": "text", "content": "hi"}],
    }
    assert message_dict({"role": "assistant", "content": "yo"}, True)["role"] == "assistant"


def test_message_dict_without_content_keeps_structure_only() -> None:
    ai = AIMessage(content="secret", tool_calls=[{"name": "f", "args": {"pw": "x"}, "id": "c"}])
    assert message_dict(ai, False) == {
        "role": "assistant",
        "parts": [{"type": "text"}, {"type": "tool_call", "id": "c", "name": "f"}],
    }
    assert message_dict(ToolMessage("secret", tool_call_id="c"), False) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c"}],
    }


# --- documents ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["score", "relevance_score", "similarity_score", "similarity", "_similarity_score"]
)
def test_document_score_from_metadata(key: str) -> None:
    doc = Document(id="d1", page_content="text", metadata={key: 0.75, "source": "s"})
    assert document_dict(doc, True) == {
        "id": "d1",
        "score": 0.75,
        "content": "text",
        "metadata": {key: 0.75, "source": "s"},
    }


def test_document_pair_id_from_metadata_and_no_content() -> None:
    doc = Document(page_content="secret", metadata={"doc_id": 7})
    assert document_dict((doc, 0.5), False) == {"id": "7", "score": 0.5}
    assert (
        document_dict(Document(page_content="x", metadata={"score": True}), True)["score"] is None
    )


def test_documents_attribute_is_a_json_list_in_rank_order() -> None:
    docs = [
        Document(id=f"d{i}", page_content=f"t{i}", metadata={"score": 1 - i / 10}) for i in range(3)
    ]
    value = pairs(X.documents_attributes(docs, True))[A.GEN_AI_RETRIEVAL_DOCUMENTS]
    assert [(d["id"], d["score"]) for d in json.loads(str(value))] == [
        ("d0", 1.0),
        ("d1", 0.9),
        ("d2", 0.8),
    ]


# --- model request ------------------------------------------------------------------------------


def test_model_attributes_prefer_langchain_standard_metadata() -> None:
    got = pairs(
        X.model_attributes(
            None, {"model": "raw-name"}, {"ls_provider": "openai", "ls_model_name": "gpt-x"}
        )
    )
    assert got == {A.GEN_AI_PROVIDER_NAME: "openai", A.GEN_AI_REQUEST_MODEL: "gpt-x"}
    assert pairs(X.model_attributes(None, {"model_name": "m2"}, None)) == {
        A.GEN_AI_REQUEST_MODEL: "m2"
    }


def test_parameter_attributes_map_genai_names_and_keep_all_as_json() -> None:
    params = {
        "_type": "openai-chat",
        "model": "gpt-x",
        "temperature": 0.3,
        "max_completion_tokens": 100,
        "top_p": 0.9,
        "seed": 7,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "n": 2,
        "stop": ["END"],
        "stream": True,
        "tools": [{"type": "function"}],
        "logprobs": None,
    }
    got = pairs(X.parameter_attributes(params, {"ls_temperature": 9.0}))
    assert got[A.GEN_AI_REQUEST_TEMPERATURE] == 0.3  # the request wins over ls_ metadata
    assert got[A.GEN_AI_REQUEST_MAX_TOKENS] == 100
    assert got[A.GEN_AI_REQUEST_TOP_P] == 0.9
    assert got[A.GEN_AI_REQUEST_SEED] == 7
    assert got[A.GEN_AI_REQUEST_FREQUENCY_PENALTY] == 0.1
    assert got[A.GEN_AI_REQUEST_PRESENCE_PENALTY] == 0.2
    assert got[A.GEN_AI_REQUEST_CHOICE_COUNT] == 2
    assert got[A.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)
    assert got[A.GEN_AI_REQUEST_STREAM] is True
    every = json.loads(str(got[A.GEN_AI_REQUEST_PARAMETERS]))
    assert "_type" not in every and "tools" not in every and "logprobs" not in every
    assert every["temperature"] == 0.3 and every["model"] == "gpt-x"


def test_parameter_attributes_fall_back_to_ls_metadata() -> None:
    got = pairs(
        X.parameter_attributes({}, {"ls_temperature": 0.5, "ls_max_tokens": 9, "ls_stop": ["\n"]})
    )
    assert got == {
        A.GEN_AI_REQUEST_TEMPERATURE: 0.5,
        A.GEN_AI_REQUEST_MAX_TOKENS: 9,
        A.GEN_AI_REQUEST_STOP_SEQUENCES: ("\n",),
    }


def test_tool_definitions() -> None:
    tools = [{"type": "function", "function": {"name": "weather"}}]
    got = pairs(X.tool_definitions({"tools": tools}))
    assert json.loads(str(got[A.GEN_AI_TOOL_DEFINITIONS])) == tools
    assert pairs(X.tool_definitions({})) == {}


def test_input_messages_and_prompts() -> None:
    got = pairs(X.input_messages([[SystemMessage("s"), HumanMessage("q")]], True))
    assert json.loads(str(got[A.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "system", "parts": [{"type": "text", "content": "s"}]},
        {"role": "user", "parts": [{"type": "text", "content": "q"}]},
    ]
    got = pairs(X.input_prompts(["complete me"], False))
    assert json.loads(str(got[A.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text"}]}
    ]


# --- model response -----------------------------------------------------------------------------


def test_response_attributes_messages_finish_reasons_model_and_id() -> None:
    message = AIMessage(
        content="Hi",
        id="chatcmpl-123",
        response_metadata={"model_name": "gpt-x-2026", "finish_reason": "stop"},
    )
    got = pairs(R.response_attributes(chat_result(message), True))
    assert json.loads(str(got[A.GEN_AI_OUTPUT_MESSAGES])) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi"}], "finish_reason": "stop"}
    ]
    assert got[A.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert got[A.GEN_AI_RESPONSE_MODEL] == "gpt-x-2026"
    assert got[A.GEN_AI_RESPONSE_ID] == "chatcmpl-123"


def test_response_attributes_infer_finish_reason_and_skip_langchain_ids() -> None:
    message = AIMessage(
        content="", id="lc_run--abc", tool_calls=[{"name": "f", "args": {}, "id": "c"}]
    )
    got = pairs(R.response_attributes(chat_result(message, model_name="m-from-output"), True))
    (out,) = json.loads(str(got[A.GEN_AI_OUTPUT_MESSAGES]))
    assert out["finish_reason"] == "tool_call"
    assert A.GEN_AI_RESPONSE_FINISH_REASONS not in got  # only reasons the model gave
    assert A.GEN_AI_RESPONSE_ID not in got
    assert got[A.GEN_AI_RESPONSE_MODEL] == "m-from-output"


def test_response_attributes_of_a_text_llm() -> None:
    result = LLMResult(
        generations=[[Generation(text="done", generation_info={"finish_reason": "length"})]]
    )
    got = pairs(R.response_attributes(result, True))
    assert json.loads(str(got[A.GEN_AI_OUTPUT_MESSAGES])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "done"}],
            "finish_reason": "length",
        }
    ]


def test_usage_from_usage_metadata_with_cache_and_reasoning() -> None:
    message = AIMessage(
        content="x",
        usage_metadata={
            "input_tokens": 100,
            "output_tokens": 20,
            "total_tokens": 120,
            "input_token_details": {"cache_read": 60, "cache_creation": 5},
            "output_token_details": {"reasoning": 8},
        },
    )
    assert pairs(R.usage_attributes(chat_result(message))) == {
        A.GEN_AI_USAGE_INPUT_TOKENS: 100,
        A.GEN_AI_USAGE_OUTPUT_TOKENS: 20,
        A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 60,
        A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 5,
        A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 8,
    }


def test_usage_from_llm_output_openai_shape() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 3},
        "completion_tokens_details": {"reasoning_tokens": 1},
    }
    got = pairs(R.usage_attributes(chat_result(AIMessage("x"), token_usage=usage)))
    assert got == {
        A.GEN_AI_USAGE_INPUT_TOKENS: 10,
        A.GEN_AI_USAGE_OUTPUT_TOKENS: 4,
        A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 3,
        A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 1,
    }


def test_usage_from_llm_output_anthropic_shape_adds_cache_to_input() -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 4,
        "cache_read_input_tokens": 30,
        "cache_creation_input_tokens": 2,
    }
    got = pairs(R.usage_attributes(chat_result(AIMessage("x"), usage=usage)))
    assert got[A.GEN_AI_USAGE_INPUT_TOKENS] == 42
    assert got[A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 30
    assert got[A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] == 2


def test_no_usage_yields_nothing() -> None:
    assert pairs(R.usage_attributes(chat_result(AIMessage("x")))) == {}


# --- tools, names, kinds, chain IO --------------------------------------------------------------


def test_tool_start_and_end_attributes() -> None:
    got = pairs(
        X.tool_start_attributes(
            {"name": "weather"}, "{'city': 'Paris'}", {"city": "Paris"}, "call_9", True
        )
    )
    assert got[A.GEN_AI_TOOL_NAME] == "weather" and got[A.GEN_AI_TOOL_CALL_ID] == "call_9"
    assert json.loads(str(got[A.GEN_AI_TOOL_CALL_ARGUMENTS])) == {"city": "Paris"}
    end = pairs(X.tool_end_attributes(ToolMessage("sunny", tool_call_id="call_9"), True, False))
    assert end == {A.GEN_AI_TOOL_CALL_ID: "call_9", A.GEN_AI_TOOL_CALL_RESULT: '"sunny"'}
    assert pairs(X.tool_end_attributes({"temp": 21}, False, True)) == {}


def test_run_name_order() -> None:
    assert X.run_name({"name": "S"}, "Given", "d") == "Given"
    assert X.run_name({"name": "S"}, None, "d") == "S"
    assert X.run_name({"id": ["langchain", "chat_models", "ChatX"]}, None, "d") == "ChatX"
    assert X.run_name(None, None, "d") == "d"


def test_chain_kind_marks_only_the_outermost_agent_run() -> None:
    marker = {"ls_integration": "langchain_create_agent"}
    assert X.in_agent_scope(marker) and not X.in_agent_scope({"ls_integration": "other"})
    assert X.chain_kind("LangGraph", True, False) == "AGENT"
    assert X.chain_kind("model", True, True) == "CHAIN"
    assert X.chain_kind("AgentExecutor", False, False) == "AGENT"
    assert X.chain_kind("RunnableSequence", False, False) == "CHAIN"


def test_agent_attributes() -> None:
    assert pairs(X.agent_attributes("LangGraph", {"lc_agent_name": "city_bot"})) == {
        A.GEN_AI_OPERATION_NAME: "invoke_agent",
        A.GEN_AI_AGENT_NAME: "city_bot",
    }
    assert pairs(X.agent_attributes("AgentExecutor", None))[A.GEN_AI_AGENT_NAME] == "AgentExecutor"


def test_plain_converts_langchain_objects_inside_containers() -> None:
    value = {
        "messages": [HumanMessage("hi")],
        "docs": (Document(id="a", page_content="t"),),
        "prompt": ChatPromptValue(messages=[SystemMessage("s")]),
        "text": StringPromptValue(text="raw"),
    }
    assert plain(value) == {
        "messages": [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}],
        "docs": [{"id": "a", "score": None, "content": "t", "metadata": {}}],
        "prompt": [{"role": "system", "parts": [{"type": "text", "content": "s"}]}],
        "text": "raw",
    }


class _Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_fast_json_falls_back_to_safe_serialization() -> None:
    assert fast_json({"a": [1, "b"]}) == '{"a":[1,"b"]}'
    cyclic: list[object] = []
    cyclic.append(cyclic)
    assert "cycle" in fast_json(cyclic)
    assert fast_json(float("nan")) == '"NaN"'
    assert "unrepresentable" in fast_json({"x": _Unrepresentable()})
    assert len(fast_json("x" * 200, max_chars=50)) < 120


def test_collect_loses_only_the_failing_extractor() -> None:
    def broken() -> Iterator[tuple[str, str]]:
        yield "a", "kept"
        raise ValueError("odd field")

    out: X.Attributes = {"before": 1}
    X.collect(out, broken)
    X.collect(out, lambda: iter([("b", "ok")]))
    assert out == {"before": 1, "a": "kept", "b": "ok"}


def test_io_json() -> None:
    assert X.io_json("q?") == '"q?"'
    assert json.loads(X.io_json(AIMessage("a"))) == {
        "role": "assistant",
        "parts": [{"type": "text", "content": "a"}],
    }


def test_fast_json_writes_strings_as_json_does() -> None:
    import json

    from spyglass.integrations.langchain._messages import fast_json

    for text in [
        "plain",
        'quo"te \\ back',
        "ctl \x00\x1f\x7f\n\t",
        "héllo ✓ 𝄞",
        "\u2028",
        "lone \ud800",
    ]:
        assert fast_json(text) == json.dumps(text, ensure_ascii=False)
