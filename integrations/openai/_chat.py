"""OpenAI Chat Completions: ``chat.completions.create`` (sync, async, streamed) and ``parse``.

``chat.completions.stream`` calls ``create(stream=True)``, so it is traced through it. Request
extractors read the keyword arguments; response extractors read a ``ChatCompletion`` or the
dict ``ChatRecorder.snapshot()`` builds from a stream's chunks, which has the same shape.

Finish reasons are normalised to the OTel values (``tool_calls`` becomes ``tool_call``), the
same vocabulary the anthropic integration uses, so the viewer can compare providers.

Stream usage: OpenAI sends a stream's token counts only when asked
(``stream_options={"include_usage": True}``), in an extra final chunk with no choices.
``ask_stream_usage`` adds that option when the caller gave none (opt-in, see the package
docstring); the recorder then hides the extra chunk, so the caller's code sees the chunks it
would have seen without spyglass.
"""

from __future__ import annotations

from collections.abc import Mapping

from spyglass.integrations._sdk_extract import (
    Pairs,
    all_parameters,
    get,
    given,
    parameter_attributes,
    sequence,
    text_part,
    token_counts,
    tool_call_part,
    tool_response_part,
)
from spyglass.integrations.openai._parts import content_parts, text_of
from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import to_json

_PARAMETERS = {
    "temperature": A.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": A.GEN_AI_REQUEST_TOP_P,
    "max_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
    "stop": A.GEN_AI_REQUEST_STOP_SEQUENCES,
    "seed": A.GEN_AI_REQUEST_SEED,
    "frequency_penalty": A.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": A.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "n": A.GEN_AI_REQUEST_CHOICE_COUNT,
}

_FINISH = {"tool_calls": "tool_call", "function_call": "tool_call"}


def finish_reason(reason: object) -> str | None:
    """The OTel finish reason for OpenAI's."""
    return _FINISH.get(reason, reason) if isinstance(reason, str) else None


# -- request -------------------------------------------------------------------------------------


def chat_parameters(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    yield from parameter_attributes(kwargs, _PARAMETERS)


def request_parameters(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    yield from all_parameters(kwargs, capture)


def input_message(message: object, capture: bool) -> dict[str, object]:
    """One request message in the GenAI shape."""
    role = str(get(message, "role") or "user")
    content = get(message, "content")
    if role in ("tool", "function"):
        call_id = get(message, "tool_call_id") or get(message, "name")
        parts = [tool_response_part(call_id, text_of(content), capture)]
    else:
        parts = content_parts(content, capture)
    parts.extend(_tool_calls(message, capture))
    result: dict[str, object] = {"role": role, "parts": parts}
    name = get(message, "name")
    if capture and isinstance(name, str) and role != "function":
        result["name"] = name
    return result


def _tool_calls(message: object, capture: bool) -> list[dict[str, object]]:
    parts = []
    for call in sequence(get(message, "tool_calls")):
        function = get(call, "function")
        name, arguments = get(function, "name"), get(function, "arguments")
        if function is None:  # a custom tool
            custom = get(call, "custom")
            name, arguments = get(custom, "name"), get(custom, "input")
        parts.append(tool_call_part(get(call, "id"), name, arguments, capture))
    legacy = get(message, "function_call")
    if legacy is not None:
        parts.append(tool_call_part(None, get(legacy, "name"), get(legacy, "arguments"), capture))
    return parts


def input_messages(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    messages = kwargs.get("messages")
    if isinstance(messages, (list, tuple)):
        converted = [input_message(message, capture) for message in messages]
        yield A.GEN_AI_INPUT_MESSAGES, to_json(converted)


def tool_definitions(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    """``tools=[{"type": "function", "function": {...}}]`` as ``[{"type", "name", ...}]``."""
    tools = sequence(kwargs.get("tools"))
    if not tools:
        return
    definitions = []
    for tool in tools:
        kind = get(tool, "type") or "function"
        spec = get(tool, kind if isinstance(kind, str) else "function") or tool
        definition = {"type": kind, "name": get(spec, "name")}
        for key in ("description", "parameters"):
            value = get(spec, key)
            if value is not None and given(value):
                definition[key] = value
        definitions.append(definition)
    yield A.GEN_AI_TOOL_DEFINITIONS, to_json(definitions)


# -- response ------------------------------------------------------------------------------------


def response_identity(result: object, capture: bool) -> Pairs:
    for key, attribute in (("id", A.GEN_AI_RESPONSE_ID), ("model", A.GEN_AI_RESPONSE_MODEL)):
        value = get(result, key)
        if isinstance(value, str) and value:
            yield attribute, value


def output_messages(result: object, capture: bool) -> Pairs:
    """One output message per choice, and the finish reasons."""
    messages: list[dict[str, object]] = []
    reasons: list[str] = []
    for choice in sequence(get(result, "choices")):
        message = get(choice, "message")
        parts = []
        for key in ("content", "refusal"):
            text = get(message, key)
            if isinstance(text, str) and text:
                parts.append(text_part(text, capture))
        parts.extend(_tool_calls(message, capture))
        output: dict[str, object] = {"role": str(get(message, "role") or "assistant")}
        output["parts"] = parts
        reason = finish_reason(get(choice, "finish_reason"))
        if reason is not None:
            output["finish_reason"] = reason
            reasons.append(reason)
        messages.append(output)
    if reasons:
        yield A.GEN_AI_RESPONSE_FINISH_REASONS, tuple(reasons)
    if messages:
        yield A.GEN_AI_OUTPUT_MESSAGES, to_json(messages)


def usage(result: object, capture: bool) -> Pairs:
    """``CompletionUsage``: prompt tokens include cached ones, as OTel's input tokens do."""
    counts = get(result, "usage")
    if counts is None:
        return
    prompt, details = get(counts, "prompt_tokens_details"), get(counts, "completion_tokens_details")
    yield from token_counts(
        (
            (counts, "prompt_tokens", A.GEN_AI_USAGE_INPUT_TOKENS),
            (counts, "completion_tokens", A.GEN_AI_USAGE_OUTPUT_TOKENS),
            (prompt, "cached_tokens", A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
            (prompt, "cache_write_tokens", A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS),
            (details, "reasoning_tokens", A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
        )
    )


REQUEST = (chat_parameters, request_parameters, input_messages, tool_definitions)
RESPONSE = (response_identity, output_messages, usage)


# -- streams -------------------------------------------------------------------------------------


def ask_stream_usage(kwargs: dict[str, object]) -> dict[str, object]:
    """Ask a stream for its usage unless the caller set ``stream_options`` themselves."""
    options = kwargs.get("stream_options")
    if kwargs.get("stream") is True and (options is None or not given(options)):
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


class _Call:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id: object = None
        self.name: object = None
        self.arguments: list[str] = []


class _Choice:
    __slots__ = ("calls", "finish", "refusal", "role", "text")

    def __init__(self) -> None:
        self.role = "assistant"
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.calls: dict[int, _Call] = {}
        self.finish: object = None

    def add(self, delta: object, finish: object) -> None:
        role = get(delta, "role")
        if isinstance(role, str):
            self.role = role
        for key, into in (("content", self.text), ("refusal", self.refusal)):
            piece = get(delta, key)
            if isinstance(piece, str):
                into.append(piece)
        for call in sequence(get(delta, "tool_calls")):
            index = get(call, "index")
            entry = self.calls.setdefault(index if isinstance(index, int) else 0, _Call())
            function = get(call, "function")
            entry.id = get(call, "id") or entry.id  # only the first delta of a call has them
            entry.name = get(function, "name") or entry.name
            piece = get(function, "arguments")
            if isinstance(piece, str):
                entry.arguments.append(piece)
        if finish is not None:
            self.finish = finish

    def message(self) -> dict[str, object]:
        calls = [
            {"id": call.id, "function": {"name": call.name, "arguments": "".join(call.arguments)}}
            for _, call in sorted(self.calls.items())
        ]
        return {
            "role": self.role,
            "content": "".join(self.text) or None,
            "refusal": "".join(self.refusal) or None,
            "tool_calls": calls,
        }


class ChatRecorder:
    """Accumulates ``ChatCompletionChunk`` objects into a ``ChatCompletion``-shaped dict."""

    def __init__(self, caller: Mapping[str, object], sent: Mapping[str, object]) -> None:
        # Hide the usage-only chunk when spyglass, not the caller, asked for it.
        self.hide_usage = sent.get("stream_options") is not caller.get("stream_options")
        self.id: object = None
        self.model: object = None
        self.usage: object = None
        self.choices: dict[int, _Choice] = {}

    def observe(self, chunk: object) -> bool:
        self.id = self.id or get(chunk, "id")
        self.model = self.model or get(chunk, "model")
        counts = get(chunk, "usage")
        if counts is not None:
            self.usage = counts
        choices = sequence(get(chunk, "choices"))
        for choice in choices:
            index = get(choice, "index")
            accumulated = self.choices.setdefault(index if isinstance(index, int) else 0, _Choice())
            accumulated.add(get(choice, "delta"), get(choice, "finish_reason"))
        return not (self.hide_usage and counts is not None and not choices)

    def snapshot(self) -> dict[str, object]:
        choices = [
            {"index": index, "message": choice.message(), "finish_reason": choice.finish}
            for index, choice in sorted(self.choices.items())
        ]
        return {"id": self.id, "model": self.model, "choices": choices, "usage": self.usage}
