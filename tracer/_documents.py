"""Retrieved documents from the user's own code, in the shape every view reads.

``span.set_documents(docs)`` and a RETRIEVER span's output (``span.set_output(docs)``, or what
a ``@spyglass.trace(kind="RETRIEVER")`` function returns) become
``gen_ai.retrieval.documents``: a JSON list of ``{"id", "score", "content", "metadata"}``, the
shape the LangChain and LlamaIndex integrations write, so ``show --full``, the documents table,
search and the retrieval evaluators see them.

Framework objects are read by their attributes, never by importing the framework: a LangChain
``Document`` has ``page_content`` and ``metadata`` (and ``id``); a LlamaIndex ``NodeWithScore``
has ``node`` and ``score``, its node ``text`` (or ``get_content()``), ``node_id`` and
``metadata``. A ``(document, score)`` pair gives the score; otherwise the score and id are
looked up in the metadata under the names retrievers use. A plain string is a document's text.

``documents_from_output`` is stricter than ``document_dicts``: it takes a value for documents
only when it is a list (or tuple) of things that are plainly documents, so a RETRIEVER that
returns something else keeps it as its output.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice

from spyglass.tracer._limits import MAX_STRING
from spyglass.tracer._serialize import to_json, to_jsonable

__all__ = ["document_dicts", "documents_from_output", "documents_json", "query_from_input"]

#: Metadata keys retrievers use for a relevance score and an id, in preference order (the
#: places the integrations look too).
SCORE_KEYS = ("score", "relevance_score", "similarity_score", "similarity", "_score")
ID_KEYS = ("id", "doc_id", "document_id", "_id", "node_id")
#: Keys of a plain dict that hold a document's text.
CONTENT_KEYS = ("content", "page_content", "text")
#: Keys of a retriever's arguments that hold its query, when there are several arguments.
QUERY_KEYS = ("query", "question", "q", "query_text", "text", "input", "prompt")
#: Documents kept from one list; a longer list is cut (the count is not stored).
MAX_DOCUMENTS = 1000
#: The whole list's JSON, as the integrations cap it.
MAX_DOCUMENTS_CHARS = 1_000_000


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, tuple) and len(value) == 2 and _number(value[1]) is not None
    ) and _is_document(value[0])


def _is_document(value: object) -> bool:
    """Plainly a document: text, a dict with text, a LangChain document, a LlamaIndex node."""
    if isinstance(value, str):
        return True
    if isinstance(value, Mapping):
        return any(isinstance(value.get(key), str) for key in CONTENT_KEYS)
    if hasattr(value, "page_content"):
        return True
    node = getattr(value, "node", value)
    return hasattr(node, "node_id") or hasattr(node, "get_content")


def _parts(document: object) -> tuple[object, object, float | None, Mapping[str, object]]:
    """``(id, content, score, metadata)`` of one document, however it came."""
    score: float | None = None
    if isinstance(document, tuple) and len(document) == 2:
        pair: tuple[object, object] = document
        if _number(pair[1]) is not None:
            document, score = pair[0], _number(pair[1])
    if isinstance(document, str):
        return None, document, score, {}
    if isinstance(document, Mapping):
        raw = document.get("metadata")
        metadata = raw if isinstance(raw, Mapping) else {}
        content = next((document[k] for k in CONTENT_KEYS if k in document), None)
        doc_score = score if score is not None else _number(document.get("score"))
        return document.get("id"), content, doc_score, metadata
    if hasattr(document, "page_content"):  # a LangChain Document
        raw = getattr(document, "metadata", None)
        metadata = raw if isinstance(raw, Mapping) else {}
        return getattr(document, "id", None), document.page_content, score, metadata
    node = getattr(document, "node", None)
    if node is not None:  # a LlamaIndex NodeWithScore
        if score is None:
            score = _number(getattr(document, "score", None))
        document = node
    content = getattr(document, "text", None)
    if not isinstance(content, str):
        get_content = getattr(document, "get_content", None)
        content = get_content() if callable(get_content) else str(document)
    raw = getattr(document, "metadata", None)
    metadata = raw if isinstance(raw, Mapping) else {}
    doc_id = getattr(document, "node_id", None) or getattr(document, "id_", None)
    return doc_id, content, score, metadata


def _document_dict(document: object, capture: bool) -> dict[str, object]:
    doc_id, content, score, metadata = _parts(document)
    if doc_id is None:
        doc_id = next((metadata[k] for k in ID_KEYS if metadata.get(k) is not None), None)
    if score is None:
        score = next((_number(metadata[k]) for k in SCORE_KEYS if k in metadata), None)
    out: dict[str, object] = {"id": None if doc_id is None else str(doc_id), "score": score}
    if capture:
        out["content"] = to_jsonable(content, max_string=MAX_STRING)
        out["metadata"] = to_jsonable(dict(metadata), max_string=MAX_STRING)
    return out


def document_dicts(documents: object, capture: bool = True) -> list[dict[str, object]]:
    """Each document as ``{"id", "score"}`` plus ``"content"`` and ``"metadata"`` when
    ``capture``; one document (not in a list) counts as a list of one."""
    if isinstance(documents, (str, Mapping)) or _is_pair(documents) or _is_document(documents):
        items: list[object] = [documents]
    else:
        try:
            items = list(islice(iter(documents), MAX_DOCUMENTS))  # type: ignore[call-overload]
        except TypeError:  # not iterable: one document
            items = [documents]
    return [_document_dict(item, capture) for item in items[:MAX_DOCUMENTS]]


def documents_json(documents: object, capture: bool = True) -> str:
    """``gen_ai.retrieval.documents``: the JSON list of ``document_dicts``."""
    return to_json(document_dicts(documents, capture), max_chars=MAX_DOCUMENTS_CHARS)


def documents_from_output(value: object) -> bool:
    """Whether a RETRIEVER's output is its documents: a list or tuple whose every item is
    plainly a document or a ``(document, score)`` pair (an empty list too: nothing found)."""
    if isinstance(value, tuple) and _is_pair(value):
        return False  # one pair is not a list of documents
    if not isinstance(value, (list, tuple)):
        return False
    return all(_is_document(item) or _is_pair(item) for item in value)


def query_from_input(value: object) -> str | None:
    """A RETRIEVER's query: its input when that is a string, else (a function's arguments)
    the one string argument, or the argument named like a query (``query``, ``question``...)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return None
    strings = {key: item for key, item in value.items() if isinstance(item, str)}
    if len(strings) == 1:
        return next(iter(strings.values()))
    return next((strings[key] for key in QUERY_KEYS if key in strings), None)
