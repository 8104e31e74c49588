"""LangChain messages, documents and prompt values as plain, JSON-ready data.

LangChain objects are pydantic models; serializing them generically (``model_dump``) costs tens
of microseconds each and records internal fields nobody reads, and even probing a pydantic
model for a missing attribute raises inside pydantic (microseconds). So these converters test
the real LangChain classes with ``isinstance`` and read the few fields that matter into the
OTel GenAI shapes:

* a message is ``{"role", "parts": [...]}`` with ``text``, ``reasoning``, ``tool_call`` and
  ``tool_call_response`` parts; output messages also get ``finish_reason`` (added by the caller);
* a document is ``{"id", "score", "content", "metadata"}``.

With ``capture=False`` the structure stays (roles, part types, tool-call ids and names, document
ids and scores) and every piece of text goes. ``fast_json`` encodes the result with the C JSON
encoder and falls back to spyglass's safe ``to_json`` for anything it cannot encode.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

import orjson
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, ChatMessage, ToolMessage
from langchain_core.prompt_values import ChatPromptValue, StringPromptValue

from spyglass.tracer._serialize import to_json

#: LangChain message ``type`` → GenAI role.
_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
    "AIMessageChunk": "assistant",
    "HumanMessageChunk": "user",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
}

#: Metadata keys retrievers and vector stores use for a document's relevance, in preference
#: order. LangChain's VectorStoreRetriever drops scores; these are where the others put them.
SCORE_KEYS = (
    "score",
    "relevance_score",
    "similarity_score",
    "similarity",
    "_similarity_score",
    "rerank_score",
    "_score",
)

#: Metadata keys that hold a document id when ``Document.id`` is empty.
_ID_KEYS = ("id", "doc_id", "document_id", "_id")

#: Items kept from one list when converting chain inputs and outputs (to_json caps again).
_MAX_ITEMS = 100
_MAX_DEPTH = 6
_TOOL_BLOCKS = frozenset({"tool_use", "tool_call", "tool_call_chunk", "server_tool_call"})


def _refuse(value: object) -> object:
    raise TypeError(type(value).__name__)


# The C encoder, built once: ``JSONEncoder.encode`` builds one per call, which costs more than
# encoding a small value does. No circular-reference markers: a cycle ends in RecursionError,
# which sends the value to ``to_json`` like any other value the encoder refuses.
_encode: Callable[[object], str]
if c_make_encoder is not None:
    _C_ENCODER = c_make_encoder(
        None, _refuse, encode_basestring, None, ":", ",", False, False, False
    )

    def _encode(value: object) -> str:
        return "".join(_C_ENCODER(value, 0))

else:  # pragma: no cover - CPython has the C accelerator
    _encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _string_json(value: str) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # a lone surrogate: json writes it as it stands, as before
        return _encode(value)


def fast_json(value: object, max_chars: int = 65_536) -> str:
    """JSON text of ``value``: the C encoder when it can (plain data), else ``to_json``.

    A plain string goes through orjson, which escapes every character as ``json`` does (only
    floats are written differently, and a string has none) at a fraction of the cost; a lone
    surrogate, which orjson refuses, takes the ``json`` path as before.
    """
    try:
        text = _string_json(value) if type(value) is str else _encode(value)
    except Exception:  # an object, a cycle, NaN, a huge int, a dict subclass that raises
        return to_json(value, max_chars=max_chars)
    return text if len(text) <= max_chars else to_json(value, max_chars=max_chars)


def role_of(message: BaseMessage) -> str:
    """The GenAI role of a LangChain message (``ChatMessage`` keeps its own role)."""
    if isinstance(message, ChatMessage):
        return str(message.role)
    kind = message.type
    return _ROLES.get(kind, kind) if isinstance(kind, str) else "user"


def _text(content: object, capture: bool) -> dict[str, object]:
    return {"type": "text", "content": content} if capture else {"type": "text"}


def _block_part(block: Mapping[str, object], capture: bool) -> dict[str, object] | None:
    kind = block.get("type")
    if kind in _TOOL_BLOCKS:
        return None  # also listed in message.tool_calls: one part per call, not two
    if kind == "text":
        return _text(block.get("text"), capture)
    if kind in ("reasoning", "thinking"):
        part: dict[str, object] = {"type": "reasoning"}
        if capture:
            part["content"] = block.get("reasoning") or block.get("thinking")
        return part
    part = {"type": str(kind) if kind is not None else "unknown"}
    if capture:
        part["content"] = dict(block)
    return part


def content_parts(content: object, capture: bool) -> list[dict[str, object]]:
    """Parts of a message's ``content``: a string, or a list of strings and content blocks."""
    if isinstance(content, str):
        return [_text(content, capture)] if content else []
    parts: list[dict[str, object]] = []
    if isinstance(content, list):
        for block in content[:_MAX_ITEMS]:
            if isinstance(block, str):
                parts.append(_text(block, capture))
            elif isinstance(block, Mapping):
                part = _block_part(block, capture)
                if part is not None:
                    parts.append(part)
    return parts


def _tool_call_part(call: Mapping[str, object], capture: bool) -> dict[str, object]:
    part: dict[str, object] = {"type": "tool_call", "id": call.get("id"), "name": call.get("name")}
    if capture:
        part["arguments"] = call.get("args")
    return part


def message_dict(message: object, capture: bool) -> dict[str, object]:
    """One message: a LangChain message, a ``{"role", "content"}`` dict or a ``(role, text)``."""
    if isinstance(message, BaseMessage):
        return _langchain_message(message, capture)
    if isinstance(message, Mapping):
        role = str(message.get("role") or message.get("type") or "user")
        return {
            "role": _ROLES.get(role, role),
            "parts": content_parts(message.get("content"), capture),
        }
    if isinstance(message, tuple) and len(message) == 2:
        role = str(message[0])
        return {"role": _ROLES.get(role, role), "parts": content_parts(message[1], capture)}
    return {"role": "user", "parts": [_text(str(message), capture)]}


def _langchain_message(message: BaseMessage, capture: bool) -> dict[str, object]:
    if isinstance(message, ToolMessage):
        part: dict[str, object] = {"type": "tool_call_response", "id": message.tool_call_id}
        if capture:
            part["response"] = message.content
        return {"role": "tool", "parts": [part]}
    parts = content_parts(message.content, capture)
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            parts.append(_tool_call_part(call, capture))
    return {"role": role_of(message), "parts": parts}


def tool_calls_of(message: object) -> bool:
    """Whether ``message`` is an AI message asking for tool calls."""
    return isinstance(message, AIMessage) and bool(message.tool_calls)


def document_score(metadata: Mapping[str, object]) -> float | None:
    """The relevance score a retriever left in the document's metadata, if any."""
    for key in SCORE_KEYS:
        value = metadata.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def document_dict(document: object, capture: bool) -> dict[str, object]:
    """``{"id", "score", "content", "metadata"}``; a ``(document, score)`` pair works too."""
    score: float | None = None
    if isinstance(document, tuple) and len(document) == 2:
        document, raw = document
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            score = float(raw)
    metadata: Mapping[str, object]
    if isinstance(document, Document):
        metadata = document.metadata if isinstance(document.metadata, Mapping) else {}
        doc_id: object = document.id
        content: object = document.page_content
    elif isinstance(document, Mapping):  # a retriever returning plain dicts
        raw_meta = document.get("metadata")
        metadata = raw_meta if isinstance(raw_meta, Mapping) else {}
        doc_id = document.get("id")
        content = document.get("page_content", document.get("content"))
    else:
        metadata, doc_id, content = {}, None, str(document)
    if doc_id is None:
        doc_id = next((metadata[k] for k in _ID_KEYS if metadata.get(k) is not None), None)
    out: dict[str, object] = {
        "id": None if doc_id is None else str(doc_id),
        "score": score if score is not None else document_score(metadata),
    }
    if capture:
        out["content"] = content
        out["metadata"] = dict(metadata)
    return out


def plain(value: object, depth: int = 0) -> object:
    """Chain inputs and outputs with LangChain objects replaced by their GenAI shapes.

    Anything else is returned as is, for the JSON encoders to serialize (safely).
    """
    if value is None or isinstance(value, (str, int, float)):
        return value
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, depth + 1) for item in value[:_MAX_ITEMS]]
    if isinstance(value, BaseMessage):
        return _langchain_message(value, True)
    if isinstance(value, Document):
        return document_dict(value, True)
    if isinstance(value, ChatPromptValue):
        return [_langchain_message(message, True) for message in value.messages]
    if isinstance(value, StringPromptValue):
        return value.text
    return value
