"""Anthropic Messages: extractors for ``messages.create`` / ``parse`` / ``stream``, and the
recorder that rebuilds a ``Message`` from a stream's events.

``system=`` (a string or text blocks) is the system prompt, kept apart as
``gen_ai.system_instructions``. Content blocks map to GenAI parts: ``text``; ``tool_use`` to
``tool_call``; ``tool_result`` to ``tool_call_response`` (in the user message that carries it,
as the API has it); ``thinking`` to ``reasoning``; images to ``uri`` / ``blob`` parts without
their bytes; server tools to ``server_tool_call`` / ``server_tool_call_response``.

Usage: Anthropic's ``input_tokens`` exclude cache reads and writes, while OTel's include them,
so ``gen_ai.usage.input_tokens`` is their sum. In a stream, ``message_start`` carries the input
counts and each ``message_delta`` the cumulative output count. Stop reasons are normalised to
the OTel finish reasons (``end_turn`` is ``stop``, ``max_tokens`` ``length``, ``tool_use``
``tool_call``), the vocabulary the openai integration uses too.
"""

from __future__ import annotations

from collections.abc import Mapping

from spyglass.integrations._sdk_extract import (
    Pairs,
    all_parameters,
    get,
    given,
    parameter_attributes,
    reasoning_part,
    sequence,
    text_part,
    tool_call_part,
    tool_response_part,
)
from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import to_json

_PARAMETERS = {
    "temperature": A.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": A.GEN_AI_REQUEST_TOP_P,
    "top_k": A.GEN_AI_REQUEST_TOP_K,
    "max_tokens": A.GEN_AI_REQUEST_MAX_TOKENS,
    "stop_sequences": A.GEN_AI_REQUEST_STOP_SEQUENCES,
}

_TOOL_USES = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}


def finish_reason(reason: object) -> str | None:
    """The OTel finish reason for Anthropic's ``stop_reason``."""
    return _FINISH.get(reason, reason) if isinstance(reason, str) else None


def block_part(block: object, capture: bool) -> dict[str, object]:
    """One content block as a GenAI part."""
    if isinstance(block, str):
        return text_part(block, capture)
    kind = get(block, "type")
    if kind == "text":
        return text_part(get(block, "text"), capture)
    if kind in _TOOL_USES:
        part = tool_call_part(get(block, "id"), get(block, "name"), get(block, "input"), capture)
        if kind != "tool_use":
            part["type"] = "server_tool_call"
        return part
    if kind == "tool_result":
        response = _result_content(get(block, "content"))
        return tool_response_part(get(block, "tool_use_id"), response, capture)
    if kind == "thinking":
        return reasoning_part(get(block, "thinking"), capture)
    if kind == "redacted_thinking":
        return {"type": "reasoning"}
    if kind in ("image", "document"):
        return _source_part(str(kind), get(block, "source"), capture)
    if isinstance(kind, str) and kind.endswith("_tool_result"):
        return {"type": "server_tool_call_response", "id": get(block, "tool_use_id")}
    return {"type": str(kind)}


def _source_part(modality: str, source: object, capture: bool) -> dict[str, object]:
    kind = get(source, "type")
    if kind == "url":
        part: dict[str, object] = {"type": "uri", "modality": modality}
        if capture:
            part["uri"] = get(source, "url")
        return part
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": get(source, "file_id")}
    return {"type": "blob", "modality": modality, "mime_type": get(source, "media_type")}


def _result_content(content: object) -> object:
    """A tool result as text when it is text (a string or text blocks)."""
    if isinstance(content, str) or content is None:
        return content
    blocks = sequence(content)
    texts = [get(block, "text") for block in blocks]
    if blocks and all(isinstance(text, str) for text in texts):
        return "".join(str(text) for text in texts)
    return to_json(content)


def _parts(content: object, capture: bool) -> list[dict[str, object]]:
    if isinstance(content, str):
        return [text_part(content, capture)]
    return [block_part(block, capture) for block in sequence(content)]


# -- request -------------------------------------------------------------------------------------


def messages_parameters(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    yield from parameter_attributes(kwargs, _PARAMETERS)


def request_parameters(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    yield from all_parameters(kwargs, capture)


def system_instructions(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    system = kwargs.get("system")
    if isinstance(system, (str, list, tuple)) and system:
        yield A.GEN_AI_SYSTEM_INSTRUCTIONS, to_json(_parts(system, capture))


def input_messages(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    messages = kwargs.get("messages")
    if isinstance(messages, (list, tuple)):
        converted = [
            {"role": str(get(m, "role") or "user"), "parts": _parts(get(m, "content"), capture)}
            for m in messages
        ]
        yield A.GEN_AI_INPUT_MESSAGES, to_json(converted)


def tool_definitions(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    """Client tools as ``{"type": "function", "name", "description", "parameters"}``; server
    tools (web search, code execution, ...) keep their versioned type."""
    tools = sequence(kwargs.get("tools"))
    if not tools:
        return
    definitions = []
    for tool in tools:
        kind = get(tool, "type")
        definition: dict[str, object] = {
            "type": "function" if kind in (None, "custom") else kind,
            "name": get(tool, "name"),
        }
        for key, target in (("description", "description"), ("input_schema", "parameters")):
            value = get(tool, key)
            if value is not None and given(value):
                definition[target] = value
        definitions.append(definition)
    yield A.GEN_AI_TOOL_DEFINITIONS, to_json(definitions)


REQUEST = (
    messages_parameters,
    request_parameters,
    system_instructions,
    input_messages,
    tool_definitions,
)


# -- response ------------------------------------------------------------------------------------


def response_identity(message: object, capture: bool) -> Pairs:
    for key, attribute in (("id", A.GEN_AI_RESPONSE_ID), ("model", A.GEN_AI_RESPONSE_MODEL)):
        value = get(message, key)
        if isinstance(value, str) and value:
            yield attribute, value


def output_messages(message: object, capture: bool) -> Pairs:
    output: dict[str, object] = {"role": str(get(message, "role") or "assistant")}
    output["parts"] = _parts(get(message, "content"), capture)
    reason = finish_reason(get(message, "stop_reason"))
    if reason is not None:
        output["finish_reason"] = reason
        yield A.GEN_AI_RESPONSE_FINISH_REASONS, (reason,)
    yield A.GEN_AI_OUTPUT_MESSAGES, to_json([output])


def _count(usage: object, key: str) -> int | None:
    value = get(usage, key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage(message: object, capture: bool) -> Pairs:
    counts = get(message, "usage")
    if counts is None:
        return
    read = _count(counts, "cache_read_input_tokens")
    written = _count(counts, "cache_creation_input_tokens")
    uncached = _count(counts, "input_tokens")
    if uncached is not None:
        yield A.GEN_AI_USAGE_INPUT_TOKENS, uncached + (read or 0) + (written or 0)
    output = _count(counts, "output_tokens")
    if output is not None:
        yield A.GEN_AI_USAGE_OUTPUT_TOKENS, output
    if read is not None:
        yield A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, read
    if written is not None:
        yield A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, written
    thinking = _count(get(counts, "output_tokens_details"), "thinking_tokens")
    if thinking is not None:
        yield A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, thinking


RESPONSE = (response_identity, output_messages, usage)


# -- streams -------------------------------------------------------------------------------------

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens_details",
)
#: Delta type → the field of the delta that carries its text.
_DELTA_FIELDS = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "input_json_delta": "partial_json",
}


class MessageRecorder:
    """Accumulates ``RawMessageStreamEvent`` objects into a ``Message``-shaped dict."""

    def __init__(self, caller: Mapping[str, object], sent: Mapping[str, object]) -> None:
        self.message: dict[str, object] = {"role": "assistant"}
        self.usage: dict[str, object] = {}
        self.blocks: dict[int, dict[str, object]] = {}
        self.pieces: dict[int, list[str]] = {}

    def observe(self, event: object) -> bool:
        kind = get(event, "type")
        if kind == "message_start":
            start = get(event, "message")
            for key in ("id", "model", "role"):
                self.message[key] = get(start, key)
            self._usage(get(start, "usage"))
        elif kind == "content_block_start":
            block = get(event, "content_block")
            index = get(event, "index")
            if isinstance(index, int):
                self.blocks[index] = {"type": get(block, "type"), **_block_fields(block)}
        elif kind == "content_block_delta":
            delta = get(event, "delta")
            field = _DELTA_FIELDS.get(str(get(delta, "type")))
            index = get(event, "index")
            if field is not None and isinstance(index, int):
                self.pieces.setdefault(index, []).append(str(get(delta, field) or ""))
        elif kind == "message_delta":
            self.message["stop_reason"] = get(get(event, "delta"), "stop_reason")
            self._usage(get(event, "usage"))
        return True

    def _usage(self, counts: object) -> None:
        for key in _USAGE_FIELDS:  # a later event's counts are cumulative: they replace
            value = get(counts, key)
            if value is not None:
                self.usage[key] = value

    def snapshot(self) -> dict[str, object]:
        content = []
        for index, started in sorted(self.blocks.items()):
            block = dict(started)
            text = "".join(self.pieces.get(index, ()))
            kind = block.get("type")
            if kind in _TOOL_USES and text:
                block["input"] = text  # JSON text; tool_call_part parses it when complete
            elif kind in ("text", "thinking"):
                block[str(kind)] = str(block.get(kind) or "") + text
            content.append(block)
        return {**self.message, "content": content, "usage": self.usage or None}


def _block_fields(block: object) -> dict[str, object]:
    fields = {}
    for key in ("id", "name", "text", "thinking", "tool_use_id", "input"):
        value = get(block, key)
        if value is not None:
            fields[key] = value
    return fields
