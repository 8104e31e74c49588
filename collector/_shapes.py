"""Helpers the convention modules share: flattened lists, messages and documents as spyglass
stores them.

Spyglass's canonical shapes (``tracer/attributes.py``): messages are JSON lists of
``{"role", "parts": [{"type": "text", "content"}, {"type": "tool_call", ...}, ...]}``,
documents JSON lists of ``{"id", "score", "content", "metadata"}``. OpenInference and the older
OpenLLMetry flatten lists into ``prefix.<i>.suffix`` keys; ``indexed`` gathers them back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

#: Metadata keys retrievers use for a document's relevance and id, in preference order (the
#: same places spyglass's LangChain integration looks).
SCORE_KEYS = ("score", "relevance_score", "similarity_score", "similarity", "_score")
ID_KEYS = ("id", "doc_id", "document_id", "_id")

Part = dict[str, object]
Message = dict[str, object]


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def loads(value: object) -> object:
    """Parsed JSON text, or None when ``value`` is not JSON text."""
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def json_text(value: object, mime_type: object = None) -> str:
    """``value`` as JSON text: kept as given when it is JSON (and said to be), else encoded."""
    if isinstance(value, str) and mime_type != "text/plain" and loads(value) is not None:
        return value
    return dumps(value)


def indexed(attrs: Mapping[str, object], prefix: str) -> list[dict[str, object]]:
    """``prefix.0.a``, ``prefix.0.b``, ``prefix.1.a`` as ``[{"a", "b"}, {"a"}]``, by index."""
    head = prefix + "."
    groups: dict[int, dict[str, object]] = {}
    for key, value in attrs.items():
        if not key.startswith(head):
            continue
        index, _, rest = key[len(head) :].partition(".")
        if index.isdigit() and rest:
            groups.setdefault(int(index), {})[rest] = value
    return [groups[i] for i in sorted(groups)]


def text_part(text: object) -> Part:
    return {"type": "text", "content": text if isinstance(text, str) else dumps(text)}


def content_parts(content: object) -> list[Part]:
    """A message's content: text, or a list of typed parts (OpenAI's multimodal form)."""
    if content is None or content == "":
        return []
    parsed = content if isinstance(content, list | tuple) else None
    if parsed is None and isinstance(content, str) and content.startswith("["):
        candidate = loads(content)
        parsed = candidate if isinstance(candidate, list) else None
    if parsed is None or not all(isinstance(item, dict) for item in parsed):
        return [text_part(content)]
    parts: list[Part] = []
    for item in parsed:
        assert isinstance(item, dict)
        if item.get("type") == "text" and "text" in item:
            parts.append(text_part(item["text"]))
        elif item.get("type") == "image_url" and isinstance(item.get("image_url"), dict):
            parts.append({"type": "uri", "uri": item["image_url"].get("url")})
        else:
            parts.append(dict(item))
    return parts


def tool_call_part(call_id: object, name: object, arguments: object) -> Part:
    parsed = loads(arguments)
    return {
        "type": "tool_call",
        "id": call_id,
        "name": name,
        "arguments": parsed if parsed is not None else arguments,
    }


def message(role: object, parts: list[Part], **extra: object) -> Message:
    out: Message = {"role": str(role) if role else "user", "parts": parts}
    out.update({key: value for key, value in extra.items() if value is not None})
    return out


def document(
    content: object, metadata: object, doc_id: object = None, score: object = None
) -> dict[str, object]:
    """One retrieved document; a missing id or score is looked for in its metadata."""
    meta = loads(metadata) if isinstance(metadata, str) else metadata
    if isinstance(meta, Mapping):
        if score is None:
            score = next((meta[k] for k in SCORE_KEYS if _is_number(meta.get(k))), None)
        if doc_id is None:
            doc_id = next((meta[k] for k in ID_KEYS if meta.get(k) is not None), None)
    return {
        "id": doc_id,
        "score": score if _is_number(score) else None,
        "content": content,
        "metadata": meta if meta is not None else metadata,
    }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def langchain_documents(value: object) -> list[dict[str, object]] | None:
    """Documents in LangChain's serialised forms (``page_content`` / ``metadata``), or None."""
    items = value.get("documents") if isinstance(value, dict) else value
    if not isinstance(items, list) or not items:
        return None
    docs = []
    for item in items:
        if not isinstance(item, dict):
            return None
        kwargs = item.get("kwargs")  # LangChain's serialised constructor form
        body = kwargs if isinstance(kwargs, dict) else item
        if "page_content" not in body:
            return None
        docs.append(document(body.get("page_content"), body.get("metadata"), body.get("id")))
    return docs
