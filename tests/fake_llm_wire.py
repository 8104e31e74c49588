"""The wire formats the fake LLM server speaks: what each API answers, built from a ``Reply``.

One function per payload: ``chat_completion`` / ``chat_chunks`` (OpenAI Chat Completions, with
the usage-only last chunk when asked), ``response`` / ``response_events`` (OpenAI Responses,
named SSE events), ``message`` / ``message_events`` (Anthropic Messages), ``embeddings``, and
``error`` bodies in each provider's shape. ``Reply.input_tokens`` counts all input tokens, as
OpenAI and OpenTelemetry do; Anthropic's ``input_tokens`` leave the cached ones out, so
``message`` splits them the way the real API does.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Reply:
    """How the server answers one request."""

    text: str = "Hello from the fake server."
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 12
    """All input tokens, cached ones included (the wire formats split them as each API does)."""
    output_tokens: int = 7
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    finish_reason: str | None = None
    """The provider's own value; by default derived from whether there are tool calls."""
    model: str | None = None
    """The model the response names; by default the requested one."""
    status: int = 200
    """Anything but 200 answers with an error body in the provider's format."""
    error_message: str = "the fake server was told to fail"
    delay: float = 0.0
    """Seconds to wait before answering."""
    chunk_delay: float = 0.0
    """Seconds to wait between streamed events."""
    chunks: int = 3
    """How many pieces the text is streamed in."""
    fail_after: int | None = None
    """Streams: send an error event after this many events."""


def _pieces(text: str, count: int) -> list[str]:
    if not text:
        return []
    size = max(1, -(-len(text) // max(1, count)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def error(reply: Reply, anthropic: bool) -> Json:
    if anthropic:
        kinds = {400: "invalid_request_error", 429: "rate_limit_error", 529: "overloaded_error"}
        kind = kinds.get(reply.status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": reply.error_message}}
    kinds = {400: "invalid_request_error", 429: "rate_limit_exceeded"}
    kind = kinds.get(reply.status, "server_error")
    return {"error": {"message": reply.error_message, "type": kind, "param": None, "code": kind}}


def _chat_usage(reply: Reply) -> Json:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {
            "cached_tokens": reply.cache_read_tokens,
            "cache_write_tokens": reply.cache_write_tokens,
        },
        "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
    }


def chat_completion(reply: Reply, model: str, number: int) -> Json:
    message: Json = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in reply.tool_calls
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _chat_usage(reply),
        "system_fingerprint": "fp_fake",
    }


def chat_chunks(reply: Reply, model: str, number: int, usage: bool) -> Iterator[Json]:
    def chunk(delta: Json, finish: str | None = None) -> Json:
        out: Json = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if usage:
            out["usage"] = None
        return out

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(reply.text, reply.chunks):
        yield chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        opening = {"index": index, "id": call.id, "type": "function"}
        opening["function"] = {"name": call.name, "arguments": ""}
        yield chunk({"tool_calls": [opening]})
        for piece in _pieces(json.dumps(call.arguments), 2):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop"))
    if usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = _chat_usage(reply)
        yield last


def _response_output(reply: Reply) -> list[Json]:
    output: list[Json] = []
    if reply.text:
        content = [{"type": "output_text", "text": reply.text, "annotations": []}]
        output.append(
            {
                "type": "message",
                "id": "msg_fake",
                "status": "completed",
                "role": "assistant",
                "content": content,
            }
        )
    for call in reply.tool_calls:
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{call.id}",
                "call_id": call.id,
                "name": call.name,
                "arguments": json.dumps(call.arguments),
                "status": "completed",
            }
        )
    return output


def response(reply: Reply, model: str, number: int, status: str) -> Json:
    done = status == "completed"
    return {
        "id": f"resp_{number}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": _response_output(reply) if done else [],
        "usage": {
            "input_tokens": reply.input_tokens,
            "input_tokens_details": {
                "cached_tokens": reply.cache_read_tokens,
                "cache_write_tokens": reply.cache_write_tokens,
            },
            "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }
        if done
        else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": {"type": "text"}},
    }


def response_events(reply: Reply, model: str, number: int) -> Iterator[tuple[str, Json]]:
    sequence = iter(range(1_000_000))

    def event(kind: str, **data: Any) -> tuple[str, Json]:
        return kind, {"type": kind, "sequence_number": next(sequence), **data}

    yield event("response.created", response=response(reply, model, number, "in_progress"))
    for index, item in enumerate(_response_output(reply)):
        if item["type"] == "message":
            opened = {**item, "status": "in_progress", "content": []}
            yield event("response.output_item.added", output_index=index, item=opened)
            part = {"type": "output_text", "text": "", "annotations": []}
            ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
            yield event("response.content_part.added", **ids, part=part)
            for piece in _pieces(reply.text, reply.chunks):
                yield event("response.output_text.delta", **ids, delta=piece, logprobs=[])
            yield event("response.output_text.done", **ids, text=reply.text, logprobs=[])
            yield event("response.content_part.done", **ids, part=item["content"][0])
        else:
            opened = {**item, "status": "in_progress", "arguments": ""}
            yield event("response.output_item.added", output_index=index, item=opened)
            ids = {"item_id": item["id"], "output_index": index}
            yield event("response.function_call_arguments.delta", **ids, delta=item["arguments"])
            yield event(
                "response.function_call_arguments.done",
                **ids,
                arguments=item["arguments"],
                name=item["name"],
            )
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=response(reply, model, number, "completed"))


def _anthropic_usage(reply: Reply, output_tokens: int) -> Json:
    uncached = reply.input_tokens - reply.cache_read_tokens - reply.cache_write_tokens
    usage: Json = {
        "input_tokens": max(0, uncached),
        "output_tokens": output_tokens,
        "cache_read_input_tokens": reply.cache_read_tokens,
        "cache_creation_input_tokens": reply.cache_write_tokens,
    }
    if reply.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": reply.reasoning_tokens}
    return usage


def message(reply: Reply, model: str, number: int) -> Json:
    content: list[Json] = [{"type": "text", "text": reply.text}] if reply.text else []
    content.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in reply.tool_calls
    )
    return {
        "id": f"msg_{number}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn"),
        "stop_sequence": None,
        "usage": _anthropic_usage(reply, reply.output_tokens),
    }


def message_events(reply: Reply, model: str, number: int) -> Iterator[tuple[str, Json]]:
    start = {**message(reply, model, number), "content": [], "stop_reason": None}
    start["usage"] = _anthropic_usage(reply, 1)
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    index = 0
    if reply.text:
        block = {"type": "text", "text": ""}
        start = {"type": "content_block_start", "index": 0, "content_block": block}
        yield "content_block_start", start
        for piece in _pieces(reply.text, reply.chunks):
            delta = {"type": "text_delta", "text": piece}
            yield "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": 0}
        index = 1
    for offset, call in enumerate(reply.tool_calls, start=index):
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": offset,
                "content_block": block,
            },
        )
        for piece in _pieces(json.dumps(call.arguments), 2):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": offset,
                    "delta": delta,
                },
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": offset}
    stop = reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")
    final = _anthropic_usage(reply, reply.output_tokens)
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": final,
        },
    )
    yield "message_stop", {"type": "message_stop"}


def embeddings(reply: Reply, body: Json, model: str) -> Json:
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw or [])
    size = int(body.get("dimensions") or 8)
    data = []
    for index, text in enumerate(texts):
        seed = sum(ord(ch) for ch in str(text))
        vector = [math.sin(seed + i) for i in range(size)]
        value: Any = vector
        if body.get("encoding_format") == "base64":
            value = base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    usage = {"prompt_tokens": reply.input_tokens, "total_tokens": reply.input_tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}
