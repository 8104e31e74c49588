"""What the read API returns: plain frozen records built from rows, with a stable JSON form.

``to_dict()`` is the documented ``--json`` format: times are ISO 8601 UTC strings, durations
milliseconds, attributes the stored JSON object (content attributes stay JSON strings, as
stored).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from spyglass.errors import ConfigurationError
from spyglass.tracer import attributes as A
from spyglass.tracer._cost import Usage, round_usd

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
#: SQLite's integers: a bound past them would overflow the query; it selects all or nothing.
_MIN_NS, _MAX_NS = -(2**63), 2**63 - 1
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def iso(ns: int | None) -> str | None:
    """Nanoseconds since the epoch as ISO 8601 UTC with microseconds and a ``Z``."""
    if ns is None:
        return None
    moment = datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ago(seconds: float) -> int:
    """Now minus ``seconds``, in epoch nanoseconds, no earlier than SQLite can hold (a window
    longer than the epoch's age, even an infinite one, means every trace)."""
    now = time.time_ns()
    nanoseconds = seconds * 1e9
    if nanoseconds >= now - _MIN_NS:
        return _MIN_NS
    return min(now - int(nanoseconds), _MAX_NS)


def parse_since(since: str | datetime | timedelta) -> int:
    """A lower bound on start time, in epoch nanoseconds: ``"90s"``, ``"1h"``, ``"2d"``,
    ``"1w"``, an ISO date or datetime (naive means UTC), a ``datetime`` or a ``timedelta``."""
    if isinstance(since, timedelta):
        return _ago(since.total_seconds())
    if isinstance(since, datetime):
        moment = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
        return max(_MIN_NS, min(int(moment.timestamp() * 1e9), _MAX_NS))
    if isinstance(since, str):
        match = _SINCE.match(since)
        if match:
            return _ago(float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
        try:
            return parse_since(datetime.fromisoformat(since.strip().replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ConfigurationError(
        f"since must look like 30m, 1h, 2d, 1w or an ISO date such as 2026-11-26; got {since!r}"
    )


def _json(raw: str | None) -> object:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass(frozen=True)
class TraceSummary:
    """One row of ``spyglass traces``.

    ``status`` is the root span's outcome; ``error_count`` counts the failed spans anywhere in
    the trace, so a trace whose root is OK can still have errors (``has_errors``): a tool call
    that failed and was recovered from.
    """

    trace_id: str
    project: str
    name: str | None
    start_ns: int
    end_ns: int
    status: str
    span_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    session_id: str | None
    user_id: str | None
    #: USD over the trace's counted calls with a known price; ``None`` when none has one.
    cost_usd: float | None = None
    #: Some counted calls had tokens but no known price, so ``cost_usd`` is a lower bound.
    cost_partial: bool = False
    #: Some counted calls reported no usage: their tokens, in the totals, are estimates.
    tokens_estimated: bool = False

    @classmethod
    def from_row(cls, row: Sequence[object]) -> TraceSummary:
        return cls(*row)  # type: ignore[arg-type]

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def has_errors(self) -> bool:
        """Some span of the trace failed, the root or any other."""
        return self.error_count > 0

    @property
    def start_time(self) -> datetime:
        return datetime.fromtimestamp(self.start_ns / 1e9, tz=timezone.utc)

    def to_dict(self) -> dict[str, object]:
        return {
            "trace_id": self.trace_id,
            "project": self.project,
            "name": self.name,
            "start_time": iso(self.start_ns),
            "end_time": iso(self.end_ns),
            "duration_ms": round(self.duration_ms, 3),
            "status": self.status,
            "span_count": self.span_count,
            "error_count": self.error_count,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "tokens_estimated": self.tokens_estimated,
            "session_id": self.session_id,
            "user_id": self.user_id,
            "cost_usd": round_usd(self.cost_usd),
        }


@dataclass(frozen=True)
class Document:
    """A retrieved document of a RETRIEVER span, in rank order."""

    position: int
    id: str | None
    score: float | None
    content: str | None
    metadata: object

    @classmethod
    def from_row(cls, row: Sequence[object]) -> Document:
        return cls(row[0], row[1], row[2], row[3], _json(row[4]))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "id": self.id,
            "score": self.score,
            "content": self.content,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class SpanRecord:
    """One stored span."""

    row_id: int
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str | None
    model: str | None
    provider: str | None
    input_tokens: int | None
    output_tokens: int | None
    prompt_name: str | None
    prompt_version: str | None
    attributes: dict[str, object]
    events: list[dict[str, object]]
    documents: list[Document] = field(default_factory=list)
    #: USD for this call, computed when read; ``None`` without tokens or a known price.
    cost_usd: float | None = None

    @classmethod
    def from_row(cls, row: Sequence[object], documents: list[Document]) -> SpanRecord:
        attrs = _json(row[16])  # type: ignore[arg-type]
        events = _json(row[17])  # type: ignore[arg-type]
        fields = list(row[:16])
        fields.extend(
            [
                attrs if isinstance(attrs, dict) else {},
                events if isinstance(events, list) else [],
                documents,
            ]
        )
        return cls(*fields)  # type: ignore[arg-type]

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def usage(self) -> Usage:
        """Token counts, cached and reasoning ones included."""
        return Usage.from_attributes(self.attributes)

    @property
    def counted_elsewhere(self) -> bool:
        """Another span of the trace counts this call's tokens (and cost)."""
        return bool(self.attributes.get(A.SPYGLASS_USAGE_COUNTED_ELSEWHERE))

    @property
    def tokens_estimated(self) -> bool:
        """The model reported no usage: the tokens are spyglass's estimate."""
        return bool(self.attributes.get(A.SPYGLASS_USAGE_ESTIMATED))

    def to_dict(self) -> dict[str, object]:
        return {
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "kind": self.kind,
            "start_time": iso(self.start_ns),
            "end_time": iso(self.end_ns),
            "duration_ms": round(self.duration_ms, 3),
            "status": self.status,
            "status_message": self.status_message,
            "model": self.model,
            "provider": self.provider,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "tokens_estimated": self.tokens_estimated,
            "prompt_name": self.prompt_name,
            "prompt_version": self.prompt_version,
            "attributes": self.attributes,
            "events": self.events,
            "documents": [doc.to_dict() for doc in self.documents],
            "cost_usd": round_usd(self.cost_usd),
        }


class Trace:
    """A trace: its summary and its spans in start order, with tree navigation."""

    def __init__(self, summary: TraceSummary, spans: list[SpanRecord]) -> None:
        self.summary = summary
        self.trace_id = summary.trace_id
        self.spans = spans
        self._by_id = {span.span_id: span for span in spans}
        self._children: dict[str | None, list[SpanRecord]] = {}
        for span in spans:
            parent = span.parent_id if span.parent_id in self._by_id else None
            self._children.setdefault(parent, []).append(span)

    @property
    def roots(self) -> list[SpanRecord]:
        """Spans without a recorded parent (a parent spyglass did not record counts as none)."""
        return self._children.get(None, [])

    @property
    def root(self) -> SpanRecord | None:
        roots = self.roots
        return roots[0] if roots else None

    def span(self, span_id: str) -> SpanRecord:
        return self._by_id[span_id]

    @property
    def tags(self) -> list[str]:
        """The tags on the trace's spans (``spyglass.tags``), in order of first appearance:
        a ``spyglass.trace(tags=...)`` block tags every span inside it, the root first."""
        seen: dict[str, None] = {}
        for span in self.spans:
            tags = span.attributes.get(A.SPYGLASS_TAGS)
            for tag in tags if isinstance(tags, list) else ():
                seen.setdefault(str(tag), None)
        return list(seen)

    def children(self, span: SpanRecord | str) -> list[SpanRecord]:
        span_id = span if isinstance(span, str) else span.span_id
        return self._children.get(span_id, [])

    def to_dict(self) -> dict[str, object]:
        return {
            **self.summary.to_dict(),
            "tags": self.tags,
            "spans": [span.to_dict() for span in self.spans],
        }


@dataclass(frozen=True)
class SearchHit:
    """A span matching a search, with the passage that matched."""

    trace_id: str
    span_id: str
    span_name: str
    kind: str
    start_ns: int
    trace_name: str | None
    snippet: str

    def to_dict(self) -> dict[str, object]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "span_name": self.span_name,
            "kind": self.kind,
            "start_time": iso(self.start_ns),
            "trace_name": self.trace_name,
            "snippet": self.snippet,
        }


#: Where a search hit's snippet is looked for, in this order (what the search index holds).
_SNIPPET_KEYS = (
    A.GEN_AI_RETRIEVAL_QUERY_TEXT,
    A.GEN_AI_INPUT_MESSAGES,
    A.GEN_AI_OUTPUT_MESSAGES,
    A.GEN_AI_SYSTEM_INSTRUCTIONS,
    A.SPYGLASS_INPUT,
    A.SPYGLASS_OUTPUT,
    A.GEN_AI_TOOL_CALL_ARGUMENTS,
    A.GEN_AI_TOOL_CALL_RESULT,
)


def _leaves(value: object) -> list[str]:
    """String leaves of parsed JSON, iteratively (stored JSON can nest deeply)."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return out


def content_texts(attributes: Mapping[str, object]) -> list[str]:
    """The text of a span's content attributes (JSON decoded), for search snippets."""
    texts: list[str] = []
    for key in _SNIPPET_KEYS:
        value = attributes.get(key)
        texts.extend(_leaves(_json(value) if isinstance(value, str) else value))
    return texts


#: Endings taken off a search word to find where its other forms start in a text (the index
#: matched them by stem; this only places the snippet, so a rough cut is enough).
_ENDINGS = ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s", "e", "y")


def _root(word: str) -> str:
    """``refunded`` → ``refund``, ``spy*`` → ``spy``: what the search word's forms start with."""
    word = word.rstrip("*").lower()
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def make_snippet(texts: Sequence[str], words: Sequence[str], width: int = 60) -> str:
    """The passage around the first occurrence of any word (or of another form of it, as the
    stemmed index matched it: ``refunded`` shows the passage with "Refunds"), on one line."""
    lowered = [_root(word) for word in words if word.rstrip("*")]
    for text in texts:
        plain = text
        low = plain.lower()
        for word in lowered:
            at = low.find(word)
            if at >= 0:
                start, end = max(0, at - width), min(len(plain), at + len(word) + width)
                prefix = "…" if start else ""
                suffix = "…" if end < len(plain) else ""
                return prefix + " ".join(plain[start:end].split()) + suffix
    return ""
