"""The WHERE clauses behind ``Store.traces`` filters, built from user input safely.

Every value is a bound parameter; free text becomes a quoted FTS5 query, so no user input is
ever read as SQL or FTS syntax. Model and prompt filters go through the spans' partial indexes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypedDict

from spyglass.errors import ConfigurationError
from spyglass.tracer._records import parse_since

__all__ = [
    "JUDGE_PREFIX",
    "TraceFilters",
    "chunks",
    "fts_query",
    "internal_clause",
    "trace_filters",
]

#: The name of evaluation-internal traces: each LLM judge's call is its own trace named after
#: its rubric, ``spyglass.judge.<criterion>``. Lists and stats leave them out unless asked, so
#: an evaluation's judge calls do not crowd out (or count as) the app's own traces.
JUDGE_PREFIX = "spyglass.judge."

_STATUSES = {"ok": "OK", "error": "ERROR", "unset": "UNSET"}
_CHUNK = 500


class TraceFilters(TypedDict, total=False):
    """The filters of ``Store.traces``, for callers that pass them along."""

    project: str | None
    since: str | datetime | timedelta | None
    status: str | None
    search: str | None
    session_id: str | None
    model: str | None
    prompt: str | None
    errors: bool | None
    name: str | None
    tag: str | None
    internal: bool


def fts_query(text: str) -> str:
    """Free text to an FTS5 query: every word must occur, in any order.

    The index stems words (``porter``), so a word matches its other forms: ``refund`` finds
    "Refunds" and "refunded". A word ending in ``*`` matches every word starting with it
    (``spy*`` finds "spyglass"). Each word is quoted, so no other FTS syntax applies, and a
    word with punctuation inside (``gpt-4o``) matches those words next to each other.
    """
    terms = []
    for word in text.split():
        stem = word.rstrip("*")
        if stem:
            quoted = '"' + stem.replace('"', '""') + '"'
            terms.append(quoted + "*" if len(stem) < len(word) else quoted)
    if not terms:
        raise ConfigurationError("search text is empty")
    return " ".join(terms)


def _glob_prefix(text: str) -> str:
    """A GLOB pattern for names starting with ``text`` (its wildcards taken literally)."""
    return re.sub(r"([*?\[])", r"[\1]", text) + "*"


def chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _span_condition(column: str, test: str, probe: bool) -> str:
    """Traces with a span whose ``column`` passes ``test``: all of them listed at once through
    the column's index (``IN``), or each trace probed through ``(trace_id, span_id)``
    (``EXISTS``; the unary ``+`` keeps SQLite from walking the column's index instead)."""
    if probe:
        return (
            "EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = traces.trace_id "
            f"AND +s.{column} {test})"
        )
    return f"trace_id IN (SELECT trace_id FROM spans s WHERE s.{column} {test})"


def internal_clause(column: str = "name") -> str:
    """A condition on ``traces`` that leaves out evaluation-internal (judge) traces."""
    return f"({column} IS NULL OR {column} NOT GLOB '{_glob_prefix(JUDGE_PREFIX)}')"


def shows_internal(filters: TraceFilters) -> bool:
    """Judge traces are listed when asked for: ``internal=True``, or a ``name`` filter that
    names them (``spyglass.judge...``)."""
    name = filters.get("name")
    return bool(filters.get("internal")) or (
        isinstance(name, str) and name.startswith(JUDGE_PREFIX.rstrip("."))
    )


def _tag_condition(probe: bool) -> str:
    tags = "json_each(s.attributes, '$.\"spyglass.tags\"') AS j"
    if probe:
        return (
            f"EXISTS (SELECT 1 FROM spans s, {tags} WHERE s.trace_id = traces.trace_id "
            "AND j.value = ?)"
        )
    return f"trace_id IN (SELECT s.trace_id FROM spans s, {tags} WHERE j.value = ?)"


def trace_filters(
    filters: TraceFilters, trace_ids: Sequence[str] | None, probe: bool = False
) -> tuple[list[str], list[object]]:
    """SQL conditions on ``traces`` and their parameters."""
    project, since, status = filters.get("project"), filters.get("since"), filters.get("status")
    search, session_id = filters.get("search"), filters.get("session_id")
    model, prompt = filters.get("model"), filters.get("prompt")
    where: list[str] = []
    params: list[object] = []
    if project is not None:
        where.append("project = ?")
        params.append(project)
    if since is not None:
        where.append("start_ns >= ?")
        params.append(parse_since(since))
    if status is not None:
        key = str(status).lower()
        if key not in _STATUSES:
            raise ConfigurationError(f"status must be one of ok, error, unset; got {status!r}")
        where.append("status = ?")
        params.append(_STATUSES[key])
    errors = filters.get("errors")
    if errors is not None:
        if not isinstance(errors, bool):
            raise ConfigurationError(f"errors must be True, False or None; got {errors!r}")
        # A failed span anywhere counts, whatever the root's status says: `status` is the
        # outcome of the root span, `error_count` the failed spans of the whole trace.
        where.append("error_count > 0" if errors else "error_count = 0")
    if session_id is not None:
        where.append("session_id = ?")
        params.append(session_id)
    if search is not None:
        where.append(
            "trace_id IN (SELECT s.trace_id FROM search JOIN spans s ON s.id = search.rowid "
            "WHERE search MATCH ?)"
        )
        params.append(fts_query(search))
    if model is not None:
        where.append(_span_condition("model", "GLOB ?", probe))
        params.append(_glob_prefix(model))
    if prompt is not None:
        name, _, version = prompt.partition("@")
        extra = " AND s.prompt_version = ?" if version else ""
        where.append(_span_condition("prompt_name", f"= ?{extra}", probe))
        params.extend([name, version] if version else [name])
    trace_name, tag = filters.get("name"), filters.get("tag")
    if trace_name is not None:
        where.append("name GLOB ?")
        params.append(_glob_prefix(trace_name))
    if tag is not None:
        where.append(_tag_condition(probe))
        params.append(tag)
    if not shows_internal(filters):
        where.append(internal_clause())
    if trace_ids is not None:
        where.append(f"trace_id IN ({', '.join('?' * len(trace_ids))})")
        params.extend(trace_ids)
    return where, params
