"""Unit tests of the openai extractors and the shared helpers: pure functions, no HTTP.

Inputs are plain dicts (what callers pass) and SDK model objects (what the API returns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from spyglass.integrations import _sdk_extract as X
from spyglass.integrations.openai import _chat, _embeddings, _parts, _responses


def pairs(values: Iterator[tuple[str, object]]) -> dict[str, object]:
    return dict(values)


def decoded(values: Iterator[tuple[str, object]], key: str) -> object:
    value = pairs(values)[key]
    assert isinstance(value, str)
    return json.loads(value)


# -- shared helpers ------------------------------------------------------------------------------


def test_given_tells_sentinels_apart() -> None:
    from openai import NOT_GIVEN, omit

    assert not X.given(omit) and not X.given(NOT_GIVEN)
    assert X.given(None) and X.given(0) and X.given("")


def test_get_reads_dicts_and_objects() -> None:
    class Obj:
        a = 1

    assert X.get({"a": 1}, "a") == 1 and X.get(Obj(), "a") == 1
    assert X.get({}, "a") is None and X.get(None, "a") is None


def test_sequence_never_iterates_a_generator() -> None:
    generator = (n for n in range(3))
    assert X.sequence(generator) == ()
    assert list(generator) == [0, 1, 2]  # untouched: the SDK still gets to read it
    assert X.sequence([1]) == [1] and X.sequence("ab") == ()


def test_parts_with_and_without_content() -> None:
    assert X.text_part("hi", True) == {"type": "text", "content": "hi"}
    assert X.text_part("hi", False) == {"type": "text"}
    assert X.tool_call_part("c1", "f", '{"x": 1}', True)["arguments"] == {"x": 1}
    assert X.tool_call_part("c1", "f", "{not json", True)["arguments"] == "{not json"
    assert X.tool_call_part("c1", "f", "{}", False) == {
        "type": "tool_call",
        "id": "c1",
        "name": "f",
    }
    assert X.tool_response_part("c1", "ok", False) == {"type": "tool_call_response", "id": "c1"}


def test_parameter_attributes() -> None:
    from openai import omit

    names = {"temperature": "t", "stop": "gen_ai.request.stop_sequences", "n": "n", "x": "x"}
    kwargs = {"temperature": 0, "stop": "END", "n": omit, "x": True}
    assert pairs(X.parameter_attributes(kwargs, names)) == {
        "t": 0,
        "gen_ai.request.stop_sequences": ("END",),
    }


def test_all_parameters_leave_out_content_headers_and_sentinels() -> None:
    from openai import omit

    class Schema:
        pass

    kwargs = {
        "model": "m",
        "messages": [{"role": "user", "content": "secret"}],
        "response_format": Schema,
        "extra_headers": {"Authorization": "Bearer sk-x"},
        "extra_query": {"api-key": "sk-x"},
        "extra_body": {"top_k": 5},
        "timeout": 3.0,
        "seed": omit,
        "prediction": {"type": "content", "content": "draft"},
    }
    assert decoded(X.all_parameters(kwargs, True), "spyglass.request.parameters") == {
        "model": "m",
        "response_format": "Schema",  # a class is recorded by name
        "prediction": {"type": "content", "content": "draft"},
        "extra_body": {"top_k": 5},
    }
    without = decoded(X.all_parameters(kwargs, False), "spyglass.request.parameters")
    assert isinstance(without, dict) and "prediction" not in without


# -- content parts -------------------------------------------------------------------------------


def test_content_parts_of_every_block_kind() -> None:
    content = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
        {"type": "file", "file": {"file_id": "file-1"}},
        {"type": "input_image", "image_url": "https://x/dog.png"},
        {"type": "mystery"},
        "plain",
    ]
    assert _parts.content_parts(content, True) == [
        {"type": "text", "content": "look"},
        {"type": "uri", "modality": "image", "uri": "https://x/cat.png"},
        {"type": "blob", "modality": "image", "mime_type": "image/png"},
        {"type": "blob", "modality": "audio", "mime_type": "audio/wav"},
        {"type": "file", "file_id": "file-1"},
        {"type": "uri", "modality": "image", "uri": "https://x/dog.png"},
        {"type": "mystery"},
        {"type": "text", "content": "plain"},
    ]
    assert _parts.content_parts(content, False)[1] == {"type": "uri"}
    assert _parts.content_parts(None, True) == []


def test_text_of_tool_results() -> None:
    assert _parts.text_of([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    assert _parts.text_of("x") == "x"
    assert _parts.text_of([{"type": "image_url"}]) == [{"type": "image_url"}]


# -- chat completions ----------------------------------------------------------------------------


def test_chat_parameters() -> None:
    kwargs = {"max_completion_tokens": 5, "n": 2, "presence_penalty": 0.1, "stop": ["a", "b"]}
    assert pairs(_chat.chat_parameters(kwargs, True)) == {
        "gen_ai.request.max_tokens": 5,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.stop_sequences": ("a", "b"),
    }


def test_input_message_shapes() -> None:
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    assert _chat.input_message(assistant, True) == {
        "role": "assistant",
        "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}],
    }
    tool = {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "42"}]}
    assert _chat.input_message(tool, True) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}],
    }
    named = {"role": "user", "content": "hi", "name": "ada"}
    assert _chat.input_message(named, True)["name"] == "ada"
    assert "name" not in _chat.input_message(named, False)
    legacy = {"role": "assistant", "function_call": {"name": "g", "arguments": "{}"}}
    assert _chat.input_message(legacy, False)["parts"] == [
        {"type": "tool_call", "id": None, "name": "g"}
    ]


def test_input_messages_skip_what_is_not_a_list() -> None:
    assert pairs(_chat.input_messages({"messages": iter([])}, True)) == {}
    assert decoded(_chat.input_messages({"messages": []}, True), "gen_ai.input.messages") == []


def test_tool_definitions() -> None:
    tools = [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
        {"type": "custom", "custom": {"name": "grammar", "description": "d"}},
    ]
    assert decoded(_chat.tool_definitions({"tools": tools}, True), "gen_ai.tool.definitions") == [
        {"type": "function", "name": "f", "parameters": {"type": "object"}},
        {"type": "custom", "name": "grammar", "description": "d"},
    ]
    assert pairs(_chat.tool_definitions({}, True)) == {}


COMPLETION = ChatCompletion.model_validate(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-2024",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "A"},
                "finish_reason": "length",
            },
            {
                "index": 1,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            },
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 4,
            "total_tokens": 14,
            "prompt_tokens_details": {"cached_tokens": 6},
            "completion_tokens_details": {"reasoning_tokens": 1},
        },
    }
)


def test_response_extractors_on_a_completion() -> None:
    assert pairs(_chat.response_identity(COMPLETION, True)) == {
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.response.model": "gpt-4o-2024",
    }
    out = pairs(_chat.output_messages(COMPLETION, True))
    assert out["gen_ai.response.finish_reasons"] == ("length", "tool_call")
    messages = json.loads(str(out["gen_ai.output.messages"]))
    assert messages[0] == {
        "role": "assistant",
        "parts": [{"type": "text", "content": "A"}],
        "finish_reason": "length",
    }
    assert messages[1]["parts"][0]["type"] == "tool_call"
    assert pairs(_chat.usage(COMPLETION, True)) == {
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.usage.cache_read.input_tokens": 6,
        "gen_ai.usage.reasoning.output_tokens": 1,
    }
    assert pairs(_chat.usage({"usage": None}, True)) == {}


def test_finish_reason_mapping() -> None:
    assert _chat.finish_reason("tool_calls") == "tool_call"
    assert _chat.finish_reason("content_filter") == "content_filter"
    assert _chat.finish_reason(None) is None


def chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> object:
    choices = [{"index": 0, "delta": delta, "finish_reason": finish}]
    data = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m"}
    return ChatCompletionChunk.model_validate({**data, "choices": choices, **extra})


def test_chat_recorder_rebuilds_a_completion() -> None:
    recorder = _chat.ChatRecorder({}, {})
    call = {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a"'}}
    for item in (
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"tool_calls": [call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        chunk({}, "tool_calls"),
    ):
        assert recorder.observe(item) is True
    snapshot = recorder.snapshot()
    messages = json.loads(
        str(pairs(_chat.output_messages(snapshot, True))["gen_ai.output.messages"])
    )
    assert messages == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hello"},
                {"type": "tool_call", "id": "call_1", "name": "f", "arguments": {"a": 1}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert pairs(_chat.response_identity(snapshot, True))["gen_ai.response.id"] == "c1"


def test_chat_recorder_hides_only_the_usage_chunk_spyglass_asked_for() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    last = ChatCompletionChunk.model_validate(
        {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": []}
        | {"usage": usage}
    )
    caller: dict[str, object] = {"stream": True}
    sent = _chat.ask_stream_usage(dict(caller))
    assert sent["stream_options"] == {"include_usage": True}
    asked = _chat.ChatRecorder(caller, sent)
    assert asked.observe(chunk({"content": "x"})) is True
    assert asked.observe(last) is False
    assert pairs(_chat.usage(asked.snapshot(), True))["gen_ai.usage.input_tokens"] == 3
    own = {"stream": True, "stream_options": {"include_usage": True}}
    assert _chat.ask_stream_usage(dict(own)) == own
    assert _chat.ChatRecorder(own, _chat.ask_stream_usage(dict(own))).observe(last) is True
    assert "stream_options" not in _chat.ask_stream_usage({"stream": False})


# -- responses -----------------------------------------------------------------------------------


def test_responses_input_items() -> None:
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "42"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}]},
        {"type": "item_reference", "id": "x"},
    ]
    assert decoded(_responses.input_messages({"input": items}, True), "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "42"}]},
        {"role": "assistant", "parts": [{"type": "reasoning", "content": "think"}]},
        {"role": "assistant", "parts": [{"type": "item_reference"}]},
    ]


def test_responses_instructions_tools_and_parameters() -> None:
    kwargs = {
        "instructions": "Be brief",
        "max_output_tokens": 9,
        "tools": [{"type": "web_search"}, {"type": "function", "name": "f", "strict": True}],
    }
    assert decoded(_responses.system_instructions(kwargs, False), "gen_ai.system_instructions") == [
        {"type": "text"}
    ]
    assert pairs(_responses.responses_parameters(kwargs, True)) == {"gen_ai.request.max_tokens": 9}
    assert decoded(_responses.tool_definitions(kwargs, True), "gen_ai.tool.definitions") == [
        {"type": "web_search"},
        {"type": "function", "name": "f"},
    ]


def response(status: str, output: list[dict[str, object]], **extra: object) -> Response:
    data = {
        "id": "resp_1",
        "object": "response",
        "created_at": 0,
        "model": "gpt-5",
        "status": status,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    return Response.model_validate({**data, **extra})


def test_responses_output_finish_reason_and_usage() -> None:
    message = {
        "type": "message",
        "id": "m",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
    }
    search = {"type": "web_search_call", "id": "ws_1", "status": "completed"}
    search["action"] = {"type": "search", "query": "weather"}
    done = response(
        "completed",
        [message, search],
        usage={
            "input_tokens": 5,
            "output_tokens": 2,
            "total_tokens": 7,
            "input_tokens_details": {"cached_tokens": 1, "cache_write_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 1},
        },
    )
    out = pairs(_responses.output_messages(done, True))
    assert out["gen_ai.response.finish_reasons"] == ("stop",)
    assert json.loads(str(out["gen_ai.output.messages"]))[0]["parts"] == [
        {"type": "text", "content": "Hi"},
        {"type": "server_tool_call", "id": "ws_1", "name": "web_search_call"},
    ]
    assert pairs(_responses.usage(done, True)) == {
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 2,
        "gen_ai.usage.cache_read.input_tokens": 1,
        "gen_ai.usage.cache_write.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 1,
    }
    cut = response("incomplete", [], incomplete_details={"reason": "max_output_tokens"})
    assert _responses.finish_reason(cut) == "length"
    assert _responses.finish_reason(response("failed", [])) == "error"
    assert _responses.finish_reason(response("in_progress", [])) is None


def test_responses_recorder_keeps_the_final_response_or_rebuilds_one() -> None:
    started = {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5"}}
    added = {
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "message", "status": "in_progress", "content": []},
    }
    delta = {"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"}
    partial = _responses.ResponsesRecorder({}, {})
    for event in (started, added, delta):
        assert partial.observe(event)
    snapshot = partial.snapshot()
    messages = decoded(_responses.output_messages(snapshot, True), "gen_ai.output.messages")
    assert messages == [{"role": "assistant", "parts": [{"type": "text", "content": "Hel"}]}]
    final = response("completed", [])
    partial.observe({"type": "response.completed", "response": final})
    assert partial.snapshot() is final


# -- embeddings ----------------------------------------------------------------------------------


def test_embeddings_extractors() -> None:
    count = "spyglass.embeddings.input_count"
    assert pairs(_embeddings.input_count({"input": "one"}, True)) == {count: 1}
    assert pairs(_embeddings.input_count({"input": [1, 2, 3]}, True)) == {count: 1}
    assert pairs(_embeddings.input_count({"input": [[1], [2]]}, True)) == {count: 2}
    result = {"model": "e", "data": [{"embedding": [0.1, 0.2]}], "usage": {"prompt_tokens": 4}}
    assert pairs(_embeddings.embeddings_result(result, True)) == {
        "gen_ai.response.model": "e",
        "gen_ai.embeddings.dimension.count": 2,
    }
    assert pairs(_embeddings.embeddings_usage(result, True)) == {"gen_ai.usage.input_tokens": 4}
