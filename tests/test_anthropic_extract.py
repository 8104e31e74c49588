"""Unit tests of the anthropic extractors and stream recorder: pure functions, no HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from spyglass.integrations.anthropic import _messages as M


def pairs(values: Iterator[tuple[str, object]]) -> dict[str, object]:
    return dict(values)


def decoded(values: Iterator[tuple[str, object]], key: str) -> object:
    value = pairs(values)[key]
    assert isinstance(value, str)
    return json.loads(value)


def test_parameters() -> None:
    kwargs = {"max_tokens": 9, "temperature": 0.3, "top_k": 5, "stop_sequences": ["x"]}
    assert pairs(M.messages_parameters(kwargs, True)) == {
        "gen_ai.request.max_tokens": 9,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_k": 5,
        "gen_ai.request.stop_sequences": ("x",),
    }


def test_system_as_text_or_blocks() -> None:
    blocks = [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}]
    assert decoded(
        M.system_instructions({"system": blocks}, True), "gen_ai.system_instructions"
    ) == [{"type": "text", "content": "a"}]
    assert decoded(M.system_instructions({"system": "b"}, False), "gen_ai.system_instructions") == [
        {"type": "text"}
    ]
    assert pairs(M.system_instructions({}, True)) == {}


def test_block_parts() -> None:
    blocks = [
        {"type": "text", "text": "see"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
        {"type": "image", "source": {"type": "url", "url": "https://x/a.png"}},
        {"type": "document", "source": {"type": "file", "file_id": "f1"}},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
        {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "ok"}]},
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "xxx"},
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "q"}},
        {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []},
        {"type": "container_upload", "file_id": "f2"},
    ]
    assert [M.block_part(block, True) for block in blocks] == [
        {"type": "text", "content": "see"},
        {"type": "blob", "modality": "image", "mime_type": "image/png"},
        {"type": "uri", "modality": "image", "uri": "https://x/a.png"},
        {"type": "file", "modality": "document", "file_id": "f1"},
        {"type": "tool_call", "id": "t1", "name": "f", "arguments": {"a": 1}},
        {"type": "tool_call_response", "id": "t1", "response": "ok"},
        {"type": "reasoning", "content": "hmm"},
        {"type": "reasoning"},
        {"type": "server_tool_call", "id": "s1", "name": "web_search", "arguments": {"query": "q"}},
        {"type": "server_tool_call_response", "id": "s1"},
        {"type": "container_upload"},
    ]
    hidden = [M.block_part(block, False) for block in blocks]
    assert "see" not in json.dumps(hidden) and "hmm" not in json.dumps(hidden)
    assert hidden[4] == {"type": "tool_call", "id": "t1", "name": "f"}


def test_input_messages_and_tools() -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": []}]
    assert decoded(M.input_messages({"messages": messages}, True), "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
        {"role": "assistant", "parts": []},
    ]
    tools = [
        {"name": "f", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    ]
    assert decoded(M.tool_definitions({"tools": tools}, True), "gen_ai.tool.definitions") == [
        {"type": "function", "name": "f", "parameters": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search"},
    ]


MESSAGE = Message.model_validate(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "max_tokens",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 3,
            "output_tokens": 9,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 20,
            "output_tokens_details": {"thinking_tokens": 4},
        },
    }
)


def test_response_extractors() -> None:
    assert pairs(M.response_identity(MESSAGE, True)) == {
        "gen_ai.response.id": "msg_1",
        "gen_ai.response.model": "claude-x",
    }
    out = pairs(M.output_messages(MESSAGE, True))
    assert out["gen_ai.response.finish_reasons"] == ("length",)
    assert json.loads(str(out["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hi"}],
            "finish_reason": "length",
        }
    ]
    assert pairs(M.usage(MESSAGE, True)) == {
        "gen_ai.usage.input_tokens": 123,  # Anthropic's 3 leave out the 120 cached
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.cache_write.input_tokens": 20,
        "gen_ai.usage.reasoning.output_tokens": 4,
    }
    assert pairs(M.usage({"usage": None}, True)) == {}


def test_finish_reasons() -> None:
    assert [M.finish_reason(r) for r in ("end_turn", "tool_use", "refusal", "pause_turn")] == [
        "stop",
        "tool_call",
        "content_filter",
        "pause_turn",
    ]


EVENTS = TypeAdapter(list[RawMessageStreamEvent]).validate_python(
    [
        {
            "type": "message_start",
            "message": {
                "id": "msg_2",
                "type": "message",
                "role": "assistant",
                "model": "claude-x",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 5, "output_tokens": 1, "cache_read_input_tokens": 2},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "plan"},
        },
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "lo"}},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": '{"a":'},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": " 1}"},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 11},
        },
        {"type": "message_stop"},
    ]
)


def test_message_recorder_rebuilds_the_message() -> None:
    recorder = M.MessageRecorder({}, {})
    assert all(recorder.observe(event) for event in EVENTS)
    snapshot = recorder.snapshot()
    assert pairs(M.usage(snapshot, True)) == {
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 11,
        "gen_ai.usage.cache_read.input_tokens": 2,
    }
    assert decoded(M.output_messages(snapshot, True), "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "plan"},
                {"type": "text", "content": "Hello"},
                {"type": "tool_call", "id": "t", "name": "f", "arguments": {"a": 1}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert pairs(M.response_identity(snapshot, True))["gen_ai.response.id"] == "msg_2"


def test_message_recorder_cut_short() -> None:
    recorder = M.MessageRecorder({}, {})
    for event in EVENTS[:8]:  # stops inside the tool call's JSON
        recorder.observe(event)
    snapshot = recorder.snapshot()
    out = pairs(M.output_messages(snapshot, True))
    assert "gen_ai.response.finish_reasons" not in out
    parts = json.loads(str(out["gen_ai.output.messages"]))[0]["parts"]
    assert parts[2]["arguments"] == '{"a":'  # kept as the text it was
    assert pairs(M.usage(snapshot, True))["gen_ai.usage.output_tokens"] == 1
