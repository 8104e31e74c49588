"""LlamaIndex messages, responses and nodes as plain, JSON-ready data in the GenAI shapes.

LlamaIndex objects are pydantic models; dumping them generically costs tens of microseconds
and records fields nobody reads (embeddings, relationships, hashes). These converters read
the few fields that matter straight off the objects:

* a message is ``{"role", "parts": [...]}`` with ``text``, ``reasoning``, ``tool_call``,
  ``tool_call_response`` and media parts (media are described, never inlined);
* a prompt string is one user message;
* a node is ``{"id", "score", "content", "metadata"}``.

With ``capture=False`` the structure stays (roles, part types, tool-call ids and names, node
ids and scores) and all text goes. Everything is duck-typed with ``getattr`` defaults, so an
unexpected object loses detail instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from spyglass.tracer._lite import snapshot
from spyglass.tracer._serialize import TRUNCATION_MARKER

_ABSENT: set[tuple[type, str]] = set()
_MISSING = object()


def attr(obj: object, name: str) -> object:
    """``getattr(obj, name, None)``, fast when a pydantic model lacks the attribute.

    A missing attribute on a pydantic model goes through pydantic's ``__getattr__`` and a
    raised ``AttributeError`` (microseconds each); extractors probe for optional fields on
    every call, so misses are remembered per class. Only for pydantic models that forbid or
    ignore extra fields, whose attributes are fixed by their class.
    """
    cls = type(obj)
    if (cls, name) in _ABSENT:
        return None
    value = getattr(obj, name, _MISSING)
    if value is _MISSING:
        config = getattr(cls, "model_config", None)
        if isinstance(config, dict) and config.get("extra") != "allow":
            _ABSENT.add((cls, name))
        return None
    return value


#: One string inside content JSON (a message, a document), capped as ``to_json`` caps it.
MAX_STRING: Final = 16_384

#: LlamaIndex ``MessageRole`` values → GenAI roles.
_ROLES = {
    "chatbot": "assistant",
    "model": "assistant",
    "developer": "system",
    "function": "tool",
}
_MEDIA = {"image": "image", "audio": "audio", "video": "video", "document": "document"}

Part = dict[str, object]
Message = dict[str, object]


def cap(text: str) -> str:
    """``text``, cut to ``MAX_STRING`` characters with a visible marker."""
    if len(text) <= MAX_STRING:
        return text
    return f"{text[:MAX_STRING]}{TRUNCATION_MARKER} {len(text) - MAX_STRING} chars]"


def _text(value: object) -> object:
    """Strings capped as ``to_json`` would; anything else left for the encoder."""
    return cap(value) if isinstance(value, str) else value


def role_of(message: object) -> str:
    role = getattr(message, "role", "user")
    text = str(getattr(role, "value", role))
    return _ROLES.get(text, text)


def _block_part(block: object, capture: bool) -> Part | None:
    kind = attr(block, "block_type")
    if kind == "text":
        return (
            {"type": "text", "content": _text(getattr(block, "text", ""))}
            if capture
            else {"type": "text"}
        )
    if kind == "thinking":
        part: Part = {"type": "reasoning"}
        if capture:
            part["content"] = _text(attr(block, "content"))
        return part
    if kind == "tool_call":
        part = {
            "type": "tool_call",
            "id": attr(block, "tool_call_id"),
            "name": attr(block, "tool_name"),
        }
        if capture:
            part["arguments"] = attr(block, "tool_kwargs")
        return part
    if kind in _MEDIA:
        part = {"type": "blob", "modality": _MEDIA[kind]}
        url = attr(block, "url")
        if capture and url is not None and not str(url).startswith("data:"):
            part = {"type": "uri", "modality": _MEDIA[kind], "uri": str(url)}
        return part
    if kind == "cache":
        return None  # a provider hint, not content
    return {"type": str(kind) if kind is not None else "unknown"}


def _field(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _legacy_tool_calls(message: object, capture: bool) -> list[Part]:
    """``additional_kwargs["tool_calls"]`` (OpenAI-shaped objects or dicts), older LLMs."""
    calls = _field(attr(message, "additional_kwargs"), "tool_calls")
    parts: list[Part] = []
    for call in calls if isinstance(calls, (list, tuple)) else ():
        function = _field(call, "function")
        part: Part = {
            "type": "tool_call",
            "id": _field(call, "id"),
            "name": _field(function, "name"),
        }
        if capture:
            part["arguments"] = _field(function, "arguments")
        parts.append(part)
    return parts


def message_dict(message: object, capture: bool) -> Message:
    """One LlamaIndex ``ChatMessage`` as ``{"role", "parts"}``."""
    role = role_of(message)
    blocks = attr(message, "blocks")
    parts: list[Part] = []
    if role == "tool":
        extra = attr(message, "additional_kwargs")
        part: Part = {"type": "tool_call_response", "id": _field(extra, "tool_call_id")}
        if capture:
            part["response"] = _text(attr(message, "content"))
        return {"role": role, "parts": [part]}
    if isinstance(blocks, list):
        for block in blocks:
            converted = _block_part(block, capture)
            if converted is not None:
                parts.append(converted)
    else:
        content = _text(attr(message, "content"))
        parts.append({"type": "text", "content": content} if capture else {"type": "text"})
    if not any(part.get("type") == "tool_call" for part in parts):
        parts.extend(_legacy_tool_calls(message, capture))
    return {"role": role, "parts": parts}


def messages_list(messages: Iterable[object], capture: bool) -> list[Message]:
    return [message_dict(message, capture) for message in messages]


def prompt_messages(prompt: object, capture: bool) -> list[Message]:
    """A completion prompt as the one user message it is."""
    part: Part = {"type": "text", "content": cap(str(prompt))} if capture else {"type": "text"}
    return [{"role": "user", "parts": [part]}]


def response_message(response: object, capture: bool) -> Message | None:
    """The assistant message of a ``ChatResponse`` or ``CompletionResponse``."""
    message = attr(response, "message")
    if message is not None:
        return message_dict(message, capture)
    text = attr(response, "text")
    if text is None:
        return None
    part: Part = {"type": "text", "content": _text(text)} if capture else {"type": "text"}
    return {"role": "assistant", "parts": [part]}


def has_answer(response: object) -> bool:
    """Whether ``response_message`` finds a message in ``response`` (without building it)."""
    return attr(response, "message") is not None or attr(response, "text") is not None


def text_of_messages(messages: Iterable[object]) -> str:
    """The text of messages, for token estimates."""
    return "\n".join(str(getattr(message, "content", "") or "") for message in messages)


def node_dict(node_with_score: object, capture: bool) -> dict[str, object]:
    """A ``NodeWithScore`` (or a bare node) as ``{"id", "score", "content", "metadata"}``.

    Read when the nodes are handed over (their JSON may be built later): rerankers and
    postprocessors change scores, text and metadata in place afterwards, so the metadata is
    copied (``snapshot``: the lists and dicts directly inside too).
    """
    node = getattr(node_with_score, "node", node_with_score)
    score = attr(node_with_score, "score")
    doc: dict[str, object] = {
        "id": attr(node, "node_id") or attr(node, "id_"),
        "score": score if type(score) is float or _is_number(score) else None,
    }
    if capture:
        text = attr(node, "text")  # TextNode: the content, without a formatting pass
        if not isinstance(text, str):
            get_content = attr(node, "get_content")
            text = get_content() if callable(get_content) else None
        doc["content"] = _text(text)
        metadata = attr(node, "metadata")
        if type(metadata) is dict:  # the usual case; an ABC isinstance check is slow
            doc["metadata"] = snapshot(metadata) if metadata else {}
        else:
            doc["metadata"] = dict(metadata) if isinstance(metadata, Mapping) else None
    return doc


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def nodes_list(nodes: Iterable[object], capture: bool) -> list[dict[str, object]]:
    return [node_dict(node, capture) for node in nodes]
