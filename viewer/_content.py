"""What a span says, pulled out of its attributes as plain data for any view to draw.

Messages (the GenAI conventions' ``{role, parts}`` JSON), tool calls, inputs and outputs, the
error with its traceback, the prompt version. Everything returned is untrusted text: views
wrap it in ``safe_text`` before it reaches a terminal. Malformed JSON is shown as stored
rather than dropped, so a view never hides what was recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from spyglass.tracer import attributes as A
from spyglass.tracer._records import SpanRecord


@dataclass(frozen=True)
class Message:
    role: str
    text: str


@dataclass(frozen=True)
class ErrorInfo:
    type: str
    message: str
    traceback: str


def _parse(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def pretty(value: object) -> str:
    """A stored value as readable text: JSON strings decoded, structures indented."""
    parsed = _parse(value)
    if isinstance(parsed, str):
        return parsed
    return json.dumps(parsed, ensure_ascii=False, indent=2, default=str)


def _part_text(part: object) -> str:
    if not isinstance(part, dict):
        return pretty(part)
    kind = part.get("type")
    if kind in ("text", "reasoning"):
        prefix = "(reasoning) " if kind == "reasoning" else ""
        return prefix + str(part.get("content", ""))
    if kind == "tool_call":
        return f"→ {part.get('name')}({pretty(part.get('arguments'))})"
    if kind == "tool_call_response":
        return f"← {pretty(part.get('response'))}"
    return pretty(part)


def _messages(raw: object) -> list[Message]:
    parsed = _parse(raw)
    if not isinstance(parsed, list):
        return [Message("?", pretty(parsed))]
    out = []
    for message in parsed:
        if not isinstance(message, dict):
            out.append(Message("?", pretty(message)))
            continue
        parts = message.get("parts")
        texts = [_part_text(p) for p in parts] if isinstance(parts, list) else [pretty(parts)]
        out.append(Message(str(message.get("role", "?")), "\n".join(texts)))
    return out


def messages(span: SpanRecord) -> list[tuple[str, list[Message]]]:
    """``(title, messages)`` for the system instructions, input and output messages."""
    attrs = span.attributes
    out: list[tuple[str, list[Message]]] = []
    system = _parse(attrs.get(A.GEN_AI_SYSTEM_INSTRUCTIONS))
    if isinstance(system, list):
        out.append(("system instructions", [Message("system", _join_parts(system))]))
    for key, title in ((A.GEN_AI_INPUT_MESSAGES, "input"), (A.GEN_AI_OUTPUT_MESSAGES, "output")):
        if key in attrs:
            out.append((f"{title} messages", _messages(attrs[key])))
    return out


def _join_parts(parts: list[object]) -> str:
    return "\n".join(_part_text(p) for p in parts)


def texts(span: SpanRecord) -> list[tuple[str, str]]:
    """``(title, text)`` of the query, tool call and plain input / output, as present."""
    attrs = span.attributes
    out = []
    for key, title in (
        (A.GEN_AI_RETRIEVAL_QUERY_TEXT, "query"),
        (A.GEN_AI_TOOL_CALL_ARGUMENTS, "tool arguments"),
        (A.GEN_AI_TOOL_CALL_RESULT, "tool result"),
        (A.SPYGLASS_INPUT, "input"),
        (A.SPYGLASS_OUTPUT, "output"),
    ):
        if key not in attrs:
            continue
        # An LLM span's input is its messages, shown already; do not show it twice.
        if key == A.SPYGLASS_INPUT and A.GEN_AI_INPUT_MESSAGES in attrs:
            continue
        if key == A.SPYGLASS_OUTPUT and A.GEN_AI_OUTPUT_MESSAGES in attrs:
            continue
        out.append((title, pretty(attrs[key])))
    return out


def error(span: SpanRecord) -> ErrorInfo | None:
    """The recorded exception (type, message, traceback), or the status message alone."""
    for event in span.events:
        if event.get("name") != "exception":
            continue
        attrs = event.get("attributes")
        attrs = attrs if isinstance(attrs, dict) else {}
        return ErrorInfo(
            str(attrs.get(A.EXCEPTION_TYPE) or span.attributes.get(A.ERROR_TYPE) or "error"),
            str(attrs.get(A.EXCEPTION_MESSAGE) or span.status_message or ""),
            str(attrs.get(A.EXCEPTION_STACKTRACE) or "").rstrip(),
        )
    if span.status == "ERROR":
        kind = span.attributes.get(A.ERROR_TYPE)
        return ErrorInfo(str(kind or "error"), span.status_message or "", "")
    return None


def prompt(span: SpanRecord) -> tuple[str, str | None] | None:
    """The registered prompt this span rendered: ``(name, version)``."""
    if not span.prompt_name:
        return None
    return span.prompt_name, span.prompt_version


def attributes_json(span: SpanRecord) -> str:
    """Every attribute as indented JSON, content attributes decoded so they read as text."""
    decoded = {key: _parse(value) for key, value in sorted(span.attributes.items())}
    return json.dumps(decoded, ensure_ascii=False, indent=2, default=str)
