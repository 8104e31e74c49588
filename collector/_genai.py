"""OpenTelemetry GenAI conventions, current and older, into spyglass's canonical attributes.

spyglass's canonical names are the current GenAI ones, so a span that follows them needs little:
its kind (from ``gen_ai.operation.name``), older names renamed (``gen_ai.system``,
``gen_ai.usage.prompt_tokens``, ...) and content that arrived structured (an ``AnyValue`` list)
rather than as JSON text written as JSON text, the form the store reads.

Older instrumentations sent the content as events, one per message, either on the span or as
log records joined to it by ``_logs``: ``gen_ai.{system,user,assistant,tool}.message`` and
``gen_ai.choice`` (semantic conventions 1.27-1.36), ``gen_ai.content.prompt`` /
``gen_ai.content.completion`` (1.26), and ``gen_ai.client.inference.operation.details`` (the
current opt-in event, which carries the content attributes themselves).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from spyglass.collector._shapes import (
    Message,
    Part,
    content_parts,
    dumps,
    loads,
    message,
    tool_call_part,
)
from spyglass.tracer import attributes as A

#: ``gen_ai.operation.name`` -> spyglass kind.
OPERATION_KINDS = {
    "chat": "LLM",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "retrieval": "RETRIEVER",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "invoke_workflow": "CHAIN",
}

#: Older GenAI names -> the current ones.
RENAMES = (
    ("gen_ai.system", A.GEN_AI_PROVIDER_NAME),
    ("gen_ai.usage.prompt_tokens", A.GEN_AI_USAGE_INPUT_TOKENS),
    ("gen_ai.usage.completion_tokens", A.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("gen_ai.usage.cache_creation.input_tokens", A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS),
)

#: Attributes the store reads as JSON text; the conventions allow structured values too.
JSON_KEYS = frozenset(
    {
        A.GEN_AI_INPUT_MESSAGES,
        A.GEN_AI_OUTPUT_MESSAGES,
        A.GEN_AI_SYSTEM_INSTRUCTIONS,
        A.GEN_AI_TOOL_DEFINITIONS,
        A.GEN_AI_RETRIEVAL_DOCUMENTS,
        A.GEN_AI_TOOL_CALL_ARGUMENTS,
        A.GEN_AI_TOOL_CALL_RESULT,
    }
)

#: Per-message event -> the role it stands for.
_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
EVENT_NAMES = frozenset(
    {*_MESSAGE_EVENTS, "gen_ai.choice", "gen_ai.content.prompt", "gen_ai.content.completion"}
    | {DETAILS_EVENT}
)


class EventLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def attributes(self) -> Mapping[str, object] | None: ...


def as_json_text(value: object) -> object:
    """A structured content value as JSON text; text (and None) as it is."""
    return value if value is None or isinstance(value, str) else dumps(value)


def canonical(attrs: Mapping[str, object], events: Sequence[EventLike] = ()) -> dict[str, object]:
    """What the GenAI attributes and events of a span imply."""
    out: dict[str, object] = {}
    operation = attrs.get(A.GEN_AI_OPERATION_NAME)
    kind = OPERATION_KINDS.get(operation) if isinstance(operation, str) else None
    if kind:
        out[A.SPYGLASS_KIND] = kind
    for source, target in RENAMES:
        if source in attrs and target not in out:
            out[target] = attrs[source]
    provider = out.get(A.GEN_AI_PROVIDER_NAME)
    if isinstance(provider, str):  # older OpenLLMetry wrote "OpenAI"; prices match "openai"
        out[A.GEN_AI_PROVIDER_NAME] = provider.lower()
    if events:
        _from_events(events, out)
    return out


def _fields(event: EventLike) -> dict[str, object]:
    """An event's attributes and, for log records, its body (a map, or JSON text)."""
    fields = dict(event.attributes or {})
    for key in ("body", "gen_ai.event.content"):
        body = fields.get(key)
        body = loads(body) if isinstance(body, str) else body
        if isinstance(body, Mapping):
            fields.update(body)
    return fields


def _from_events(events: Sequence[EventLike], out: dict[str, object]) -> None:
    inputs: list[Message] = []
    outputs: list[Message] = []
    for event in events:
        name = event.name
        if name not in EVENT_NAMES:
            continue
        fields = _fields(event)
        if name in _MESSAGE_EVENTS:
            inputs.append(_event_message(fields.get("role") or _MESSAGE_EVENTS[name], fields))
        elif name == "gen_ai.choice":
            body = fields.get("message")
            body = body if isinstance(body, Mapping) else fields
            outputs.append(
                _event_message(
                    body.get("role") or "assistant",
                    body,
                    finish_reason=fields.get("finish_reason"),
                )
            )
        elif name == "gen_ai.content.prompt":
            inputs.extend(_role_content_list(fields.get("gen_ai.prompt")))
        elif name == "gen_ai.content.completion":
            outputs.extend(_role_content_list(fields.get("gen_ai.completion")))
        else:  # the details event: the content attributes themselves
            for key, value in fields.items():
                if key.startswith("gen_ai.") and key not in out:
                    out[key] = as_json_text(value) if key in JSON_KEYS else value
    if inputs:
        out.setdefault(A.GEN_AI_INPUT_MESSAGES, dumps(inputs))
    if outputs:
        out.setdefault(A.GEN_AI_OUTPUT_MESSAGES, dumps(outputs))


def _event_message(role: object, fields: Mapping[str, object], **extra: object) -> Message:
    parts: list[Part] = []
    if role == "tool" and fields.get("id") is not None:
        parts.append(
            {
                "type": "tool_call_response",
                "id": fields.get("id"),
                "response": fields.get("content"),
            }
        )
    else:
        parts.extend(content_parts(fields.get("content")))
    calls = fields.get("tool_calls")
    for call in calls if isinstance(calls, list | tuple) else ():
        if isinstance(call, Mapping):
            function = call.get("function")
            function = function if isinstance(function, Mapping) else {}
            parts.append(
                tool_call_part(call.get("id"), function.get("name"), function.get("arguments"))
            )
    return message(role, parts, **extra)


def _role_content_list(raw: object) -> list[Message]:
    items = loads(raw) if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        return []
    return [
        message(item.get("role"), content_parts(item.get("content")))
        for item in items
        if isinstance(item, Mapping)
    ]
