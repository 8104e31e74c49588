"""OpenAI Responses: ``responses.create`` (sync, async, streamed) and ``parse``.

``responses.stream`` calls ``create(stream=True)``, so it is traced through it. ``input`` is a
string or a list of items: messages, ``function_call`` and ``function_call_output`` items
(which become tool-call and tool-response parts), ``reasoning`` items, and references.
``instructions`` is the system prompt, kept apart as ``gen_ai.system_instructions``.

A response has no per-choice finish reason; it is derived from ``status``: ``completed`` is
``stop`` (``tool_call`` when the output calls a function), ``incomplete`` is its
``incomplete_details.reason`` (``max_output_tokens`` becomes ``length``), ``failed`` is
``error``. Streams always end with the whole response (``response.completed``), usage
included; ``ResponsesRecorder`` builds a partial one from the deltas if the stream stops early.
"""

from __future__ import annotations

from collections.abc import Mapping

from spyglass.integrations._sdk_extract import (
    Pairs,
    get,
    given,
    parameter_attributes,
    reasoning_part,
    sequence,
    text_part,
    token_counts,
    tool_call_part,
    tool_response_part,
)
from spyglass.integrations.openai._parts import content_parts
from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import to_json

_PARAMETERS = {
    "temperature": A.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": A.GEN_AI_REQUEST_TOP_P,
    "max_output_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
}

_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def responses_parameters(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    yield from parameter_attributes(kwargs, _PARAMETERS)


def _item_message(item: object, capture: bool) -> dict[str, object]:
    """One input or output item as a GenAI message."""
    role, parts = _item_parts(item, capture)
    return {"role": role, "parts": parts}


def _item_parts(item: object, capture: bool) -> tuple[str, list[dict[str, object]]]:
    kind = get(item, "type")
    role = get(item, "role")
    if kind in (None, "message") and role is not None:
        return str(role), content_parts(get(item, "content"), capture)
    if kind in ("function_call", "custom_tool_call"):
        arguments = get(item, "arguments") if kind == "function_call" else get(item, "input")
        return "assistant", [
            tool_call_part(get(item, "call_id"), get(item, "name"), arguments, capture)
        ]
    if kind in ("function_call_output", "custom_tool_call_output"):
        return "tool", [tool_response_part(get(item, "call_id"), get(item, "output"), capture)]
    if kind == "reasoning":
        texts = [get(summary, "text") for summary in sequence(get(item, "summary"))]
        return "assistant", [reasoning_part("\n".join(map(str, texts)), capture)]
    return str(role or "assistant"), [{"type": str(kind)}]


def input_messages(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    given_input = kwargs.get("input")
    messages: list[dict[str, object]]
    if isinstance(given_input, str):
        messages = [{"role": "user", "parts": [text_part(given_input, capture)]}]
    elif isinstance(given_input, (list, tuple)):
        messages = [_item_message(item, capture) for item in given_input]
    else:
        return
    yield A.GEN_AI_INPUT_MESSAGES, to_json(messages)


def system_instructions(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    instructions = kwargs.get("instructions")
    if isinstance(instructions, str):
        yield A.GEN_AI_SYSTEM_INSTRUCTIONS, to_json([text_part(instructions, capture)])


def tool_definitions(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    """Function tools keep name, description and parameters; built-in tools their type."""
    tools = sequence(kwargs.get("tools"))
    if not tools:
        return
    definitions = []
    for tool in tools:
        definition = {"type": get(tool, "type") or "function"}
        for key in ("name", "description", "parameters"):
            value = get(tool, key)
            if value is not None and given(value):
                definition[key] = value
        definitions.append(definition)
    yield A.GEN_AI_TOOL_DEFINITIONS, to_json(definitions)


def finish_reason(response: object) -> str | None:
    status = get(response, "status")
    if status == "completed":
        calls = any(get(item, "type") == "function_call" for item in _output(response))
        return "tool_call" if calls else "stop"
    if status == "incomplete":
        reason = get(get(response, "incomplete_details"), "reason")
        return _INCOMPLETE.get(reason, reason) if isinstance(reason, str) else "incomplete"
    if status == "failed":
        return "error"
    return None


def _output(response: object) -> list[object] | tuple[object, ...]:
    return sequence(get(response, "output"))


def output_messages(response: object, capture: bool) -> Pairs:
    """The output items as one assistant message (a response is one turn)."""
    parts: list[dict[str, object]] = []
    for item in _output(response):
        kind = get(item, "type")
        if kind in ("message", "function_call", "custom_tool_call", "reasoning"):
            parts.extend(_item_parts(item, capture)[1])
        else:  # a built-in tool the server ran (web search, file search, ...)
            parts.append({"type": "server_tool_call", "id": get(item, "id"), "name": str(kind)})
    message: dict[str, object] = {"role": "assistant", "parts": parts}
    reason = finish_reason(response)
    if reason is not None:
        message["finish_reason"] = reason
        yield A.GEN_AI_RESPONSE_FINISH_REASONS, (reason,)
    yield A.GEN_AI_OUTPUT_MESSAGES, to_json([message])


def usage(response: object, capture: bool) -> Pairs:
    counts = get(response, "usage")
    if counts is None:
        return
    inputs, outputs = get(counts, "input_tokens_details"), get(counts, "output_tokens_details")
    yield from token_counts(
        (
            (counts, "input_tokens", A.GEN_AI_USAGE_INPUT_TOKENS),
            (counts, "output_tokens", A.GEN_AI_USAGE_OUTPUT_TOKENS),
            (inputs, "cached_tokens", A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
            (inputs, "cache_write_tokens", A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS),
            (outputs, "reasoning_tokens", A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
        )
    )


class ResponsesRecorder:
    """Keeps the final response of a stream, or rebuilds what arrived of it."""

    _FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

    def __init__(self, caller: Mapping[str, object], sent: Mapping[str, object]) -> None:
        self.base: object = None
        self.final: object = None
        self.items: dict[int, object] = {}
        self.deltas: dict[int, list[str]] = {}

    def observe(self, event: object) -> bool:
        kind = get(event, "type")
        index = get(event, "output_index")
        if kind in self._FINAL:
            self.final = get(event, "response")
        elif kind in ("response.created", "response.in_progress"):
            self.base = get(event, "response")
        elif not isinstance(index, int):
            pass
        elif kind in ("response.output_item.added", "response.output_item.done"):
            self.items[index] = get(event, "item")
        elif kind in ("response.output_text.delta", "response.function_call_arguments.delta"):
            self.deltas.setdefault(index, []).append(str(get(event, "delta") or ""))
        return True

    def snapshot(self) -> object:
        if self.final is not None:
            return self.final
        output = [self._partial(index, item) for index, item in sorted(self.items.items())]
        base = self.base
        return {"id": get(base, "id"), "model": get(base, "model"), "output": output}

    def _partial(self, index: int, item: object) -> object:
        if get(item, "status") == "completed" or index not in self.deltas:
            return item
        text = "".join(self.deltas[index])
        if get(item, "type") == "message":
            content = [{"type": "output_text", "text": text}]
            return {"type": "message", "role": "assistant", "content": content}
        if get(item, "type") == "function_call":
            names = {"call_id": get(item, "call_id"), "name": get(item, "name")}
            return {"type": "function_call", **names, "arguments": text}
        return item
