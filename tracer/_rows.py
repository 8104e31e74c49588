"""Turning a finished OTel span into rows of the SQLite file: pure functions, no I/O.

Runs on the exporter's worker thread, off the traced program's path. Redaction happens here,
once per stored string, so every way a secret can enter a span (an integration, the user's own
``set_attribute``, an exception message) is scrubbed before anything is written.

What is built here is always storable (``_limits``): orjson checks every string is valid UTF-8
as it writes the attributes, so only a span it refuses (a lone surrogate, an int past 64 bits)
or one past the size bound takes the slow path, where each bad value is replaced on its own.
Names and status messages are checked directly (``str.isascii`` first, an O(1) flag).
"""

from __future__ import annotations

import json

try:  # several times faster than json on the exporter's thread; json is the fallback
    import orjson

    def _fast_dumps(value: object) -> str | None:
        """JSON text, or None for what orjson refuses: a lone surrogate (it checks every
        string is valid UTF-8, for free), an int past 64 bits, a key that is not a string."""
        try:
            return orjson.dumps(value, default=str).decode()
        except TypeError:
            return None

    def _loads(raw: str) -> object:
        return orjson.loads(raw)

except ImportError:  # pragma: no cover - orjson is a dependency, but stay correct without it

    def _fast_dumps(value: object) -> str | None:
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
        except ValueError:  # NaN, or an int past json's 4,300 digits
            return None
        return text if valid_text(text) is text else None

    def _loads(raw: str) -> object:
        return json.loads(raw)


from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from spyglass.tracer import attributes as A
from spyglass.tracer._limits import (
    MAX_ATTRIBUTE_CHARS,
    capped,
    sqlite_int,
    storable,
    valid_text,
)
from spyglass.tracer._redact import Redactor

#: JSON keys whose string values are structure, not text worth searching.
_STRUCTURAL_KEYS = frozenset({"role", "type", "id", "finish_reason", "mime_type", "modality"})

_NUMBERS = (int, float)  # bool is an int: nothing to scrub in any of them

_STATUS = {StatusCode.OK: "OK", StatusCode.ERROR: "ERROR", StatusCode.UNSET: "UNSET"}


def _dumps(value: object) -> str:
    """JSON text that SQLite takes. What the fast encoder refuses, or what is too long, is
    written from a ``storable`` copy: a bad value costs that value, not the span."""
    text = _fast_dumps(value)
    if text is None or len(text) > MAX_ATTRIBUTE_CHARS:
        text = _slow_dumps(storable(value))
    return text


def _slow_dumps(value: object) -> str:
    """JSON text of a ``storable`` value, in the form orjson writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _stored_attributes(attrs: dict[str, object]) -> tuple[dict[str, object], str]:
    """``attrs`` and their JSON; when that fails the fast path, a storable copy and its JSON,
    so that the columns and the search text taken from them are storable too."""
    text = _fast_dumps(attrs)
    if text is not None and len(text) <= MAX_ATTRIBUTE_CHARS:
        return attrs, text
    copy = storable(attrs)
    assert isinstance(copy, dict)
    return copy, _slow_dumps(copy)


def _text(text: str) -> str:
    """A name or status message as it can be stored: valid UTF-8, cut past the bound."""
    return valid_text(capped(text, MAX_ATTRIBUTE_CHARS))


@dataclass(slots=True)  # one per span on the worker: slots make it cheaper to build
class SpanRow:
    """One ``spans`` row (``values``, in ``SPAN_COLUMNS`` order) plus what it adds elsewhere."""

    values: tuple[object, ...]
    trace_id: str
    span_id: str
    name: str
    start_ns: int
    end_ns: int
    status: str
    is_root: bool
    project: str
    counted_input_tokens: int = 0
    counted_output_tokens: int = 0
    session_id: str | None = None
    user_id: str | None = None
    documents: list[tuple[object, ...]] = field(default_factory=list)
    search_text: str = ""


_int = sqlite_int  # a promoted integer column takes 64 bits; the JSON keeps a larger value


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _plain(attrs: Mapping[str, object]) -> Mapping[str, object]:
    """``attrs`` as a plain dict, copied in C where the mapping allows it.

    ``ReadableSpan.attributes`` is a ``MappingProxyType`` over the SDK's ``BoundedAttributes``,
    whose ``items()`` runs the ``MutableMapping`` mixin in Python, an attribute at a time (a
    large share of this module's time). Both document ``copy()`` as a shallow copy, and the
    SDK's is ``dict.copy()`` of its storage: one C call.
    """
    if type(attrs) is dict:
        return attrs
    copy = getattr(attrs, "copy", None)
    copied = copy() if callable(copy) else None
    return copied if isinstance(copied, dict) else dict(attrs)


def distinct_key(name: str, out: Mapping[str, object]) -> str:
    """A scrubbed attribute key (a program can name one after a secret: ``f"auth.{token}"``)
    that is not yet in ``out``: two keys that differ only in their secret stay two keys."""
    if name not in out:
        return name
    number = 2
    while f"{name} ({number})" in out:
        number += 1
    return f"{name} ({number})"


def _scrubbed(attrs: Mapping[str, object], redactor: Redactor | None) -> dict[str, object]:
    """A copy of ``attrs`` to store: sequences as lists, every string in it (keys too)
    scrubbed.

    Strings, most values, go straight to ``scrub``: ``scrub_value``'s walk (and the cycle set
    it allocates) is only needed for sequences. Keys recur on every span: one set operation
    finds them all known clean, and then none is scrubbed one by one.
    """
    out: dict[str, object] = {}
    plain = _plain(attrs)
    if redactor is None:
        for key, value in plain.items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out
    scrub, scrub_name, scrub_value = redactor.scrub, redactor.scrub_name, redactor.scrub_value
    keys_known_clean = redactor.known_clean_names(plain)
    for key, value in plain.items():
        if not keys_known_clean:
            name = scrub_name(key)
            if name is not key:
                key = distinct_key(name, out)
        if isinstance(value, str):
            out[key] = scrub(value)
        elif isinstance(value, tuple):  # OTel's sequences hold str, bool, int or float
            out[key] = [
                scrub(item) if isinstance(item, str) else scrub_value(item) for item in value
            ]
        elif isinstance(value, _NUMBERS):
            out[key] = value
        else:
            out[key] = scrub_value(value)
    return out


def _events(span: ReadableSpan, redactor: Redactor | None) -> str | None:
    span_events = span.events  # the SDK's property copies its list of events at each call
    if not span_events:
        return None
    events = [
        {
            "name": event.name if redactor is None else redactor.scrub_name(event.name),
            "time_ns": event.timestamp,
            "attributes": _scrubbed(event.attributes or {}, redactor),
        }
        for event in span_events
    ]
    return _dumps(events)


def _collect_texts(value: object, key: str, out: list[str]) -> None:
    """Append the string leaves of parsed JSON to ``out``, skipping structural keys (roles,
    part types, ids). Appends rather than yields: a generator per nested dict and list, each
    re-yielding its children's strings, cost more than the walk itself."""
    if isinstance(value, str):
        if key not in _STRUCTURAL_KEYS:
            out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _collect_texts(v, k, out)
    elif isinstance(value, list):
        for item in value:
            _collect_texts(item, key, out)


def _collect_json_texts(raw: object, out: list[str]) -> None:
    """The string leaves of the JSON text ``raw``, or ``raw`` itself if it is not JSON."""
    if not isinstance(raw, str):
        return
    try:
        parsed = _loads(raw)
    except ValueError:
        out.append(raw)
        return
    _collect_texts(parsed, "", out)


_SEARCHED = (
    A.GEN_AI_INPUT_MESSAGES,
    A.GEN_AI_OUTPUT_MESSAGES,
    A.GEN_AI_SYSTEM_INSTRUCTIONS,
    A.SPYGLASS_INPUT,
    A.SPYGLASS_OUTPUT,
    A.GEN_AI_TOOL_CALL_ARGUMENTS,
    A.GEN_AI_TOOL_CALL_RESULT,
)


def search_texts(attrs: Mapping[str, object]) -> list[str]:
    """The words of a span worth finding: query, messages, input, output, tool calls."""
    texts: list[str] = []
    query = attrs.get(A.GEN_AI_RETRIEVAL_QUERY_TEXT)
    if isinstance(query, str):
        texts.append(query)
    for key in _SEARCHED:
        _collect_json_texts(attrs.get(key), texts)
    return texts


def _documents(raw: object, trace_id: str) -> list[tuple[object, ...]]:
    """Rows ``(position, trace_id, doc_id, score, content, metadata)``; span row added later."""
    if not isinstance(raw, str):
        return []
    try:
        docs = _loads(raw)
    except ValueError:
        return []
    if not isinstance(docs, list):
        return []
    rows: list[tuple[object, ...]] = []
    for position, doc in enumerate(docs):
        if not isinstance(doc, dict):
            continue
        score = doc.get("score")
        metadata = doc.get("metadata")
        rows.append(
            (
                position,
                trace_id,
                _str(doc.get("id")),
                float(score) if isinstance(score, (int, float)) else None,
                _str(doc.get("content")),
                _dumps(metadata) if metadata is not None else None,
            )
        )
    return rows


_PROJECTS: dict[int, tuple[object, str]] = {}


def _project(span: ReadableSpan) -> str:
    """The resource's ``service.name``, cached per resource object (one per pipeline)."""
    resource = span.resource
    cached = _PROJECTS.get(id(resource))
    if cached is not None and cached[0] is resource:
        return cached[1]
    attrs = resource.attributes if resource is not None else {}
    project = valid_text(str(attrs.get("service.name", "default")))
    if len(_PROJECTS) > 64:
        _PROJECTS.clear()
    _PROJECTS[id(resource)] = (resource, project)
    return project


def span_to_row(span: ReadableSpan, redactor: Redactor | None) -> SpanRow:
    """Build the stored form of one span (attributes scrubbed, text for the index gathered)."""
    ctx = span.context
    assert ctx is not None
    trace_id = format(ctx.trace_id, "032x")
    span_id = format(ctx.span_id, "016x")
    attrs, attributes_json = _stored_attributes(_scrubbed(span.attributes or {}, redactor))
    external = A.SPYGLASS_EXTERNAL_PARENT in attrs
    parent_id = None if span.parent is None or external else format(span.parent.span_id, "016x")
    span_status = span.status
    message = span_status.description
    if message and redactor is not None:
        message = redactor.scrub(message)
    if message:
        message = _text(message)
    project = _project(span)
    kind = str(attrs.get(A.SPYGLASS_KIND) or "CHAIN")
    start = span.start_time or 0
    end = span.end_time or start
    name = _text(span.name if redactor is None else redactor.scrub(span.name))
    status = _STATUS.get(span_status.status_code, "UNSET")
    row = SpanRow(
        values=(
            trace_id,
            span_id,
            parent_id,
            name,
            kind,
            start,
            end,
            status,
            message,
            _str(attrs.get(A.GEN_AI_RESPONSE_MODEL) or attrs.get(A.GEN_AI_REQUEST_MODEL)),
            _str(attrs.get(A.GEN_AI_PROVIDER_NAME)),
            _int(attrs.get(A.GEN_AI_USAGE_INPUT_TOKENS)),
            _int(attrs.get(A.GEN_AI_USAGE_OUTPUT_TOKENS)),
            _str(attrs.get(A.GEN_AI_PROMPT_NAME)),
            _str(attrs.get(A.GEN_AI_PROMPT_VERSION)),
            attributes_json,
            _events(span, redactor),
        ),
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        start_ns=start,
        end_ns=end,
        status=status,
        is_root=parent_id is None,
        project=project,
    )
    _add_extras(row, attrs, kind, parent_id, message)
    return row


def _add_extras(
    row: SpanRow, attrs: Mapping[str, object], kind: str, parent_id: str | None, message: str | None
) -> None:
    """What the span adds beyond its own row: token totals, session, documents, search text."""
    trace_id = row.trace_id
    if not attrs.get(A.SPYGLASS_USAGE_COUNTED_ELSEWHERE):
        row.counted_input_tokens = _int(attrs.get(A.GEN_AI_USAGE_INPUT_TOKENS)) or 0
        row.counted_output_tokens = _int(attrs.get(A.GEN_AI_USAGE_OUTPUT_TOKENS)) or 0
    row.session_id = _str(attrs.get(A.GEN_AI_CONVERSATION_ID))
    row.user_id = _str(attrs.get(A.SPYGLASS_USER_ID))
    row.documents = _documents(attrs.get(A.GEN_AI_RETRIEVAL_DOCUMENTS), trace_id)
    row.search_text = search_text(attrs, kind, parent_id, message, row.documents)


def search_text(
    attrs: Mapping[str, object],
    kind: str,
    parent_id: str | None,
    message: str | None,
    documents: Sequence[tuple[object, ...]],
) -> str:
    """What the search index holds for a span (``""``: nothing), from its stored attributes,
    kind, parent, status message and document rows. The exporter and the migration that
    rebuilds the index (``_reindex``) both call this, so a rebuilt index finds what the
    exporter's would."""
    if _plumbing(kind, parent_id, attrs):
        return message or ""
    texts = search_texts(attrs)
    texts.extend(str(doc[4]) for doc in documents if doc[4])
    if message:
        texts.append(message)
    return "\n".join(texts)


#: Integrations whose inner CHAIN spans only pass along what other spans already hold.
_FRAMEWORKS = frozenset({"langchain", "llama_index"})


def _plumbing(kind: str, parent_id: str | None, attrs: Mapping[str, object]) -> bool:
    """A framework's inner chain step (a RunnableSequence, a passthrough, a synthesizer): its
    input and output repeat the prompts, documents and answers of the LLM, retriever and root
    spans, so indexing it again only buries each search's real hits under copies (and costs
    the exporter time). Its error message is still indexed."""
    return (
        kind == "CHAIN"
        and parent_id is not None
        and attrs.get(A.SPYGLASS_INTEGRATION) in _FRAMEWORKS
    )


SPAN_COLUMNS: Sequence[str] = (
    "trace_id",
    "span_id",
    "parent_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status",
    "status_message",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "prompt_name",
    "prompt_version",
    "attributes",
    "events",
)
