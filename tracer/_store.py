"""``spyglass.Store``: the read API over a spyglass file, used by the CLI and the viewer.

Opening never creates a file. Every query reads promoted columns and indexes, so listing,
showing one trace and searching stay fast on files of millions of spans: ``traces`` walks the
``traces`` roll-up by start time, ``trace`` reads one trace's spans through the
``(trace_id, span_id)`` index, ``search`` asks the FTS5 index for span rows newest first.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from spyglass.errors import AmbiguousTraceId, ConfigurationError, TraceNotFound
from spyglass.tracer._db import open_for_read
from spyglass.tracer._records import (
    Document,
    SearchHit,
    SpanRecord,
    Trace,
    TraceSummary,
    make_snippet,
    parse_since,
)
from spyglass.tracer._rows import search_texts

_TRACE_COLUMNS = (
    "trace_id, project, name, start_ns, end_ns, status, span_count, error_count, "
    "input_tokens, output_tokens, session_id, user_id"
)
_SPAN_COLUMNS = (
    "id, trace_id, span_id, parent_id, name, kind, start_ns, end_ns, status, status_message, "
    "model, provider, input_tokens, output_tokens, prompt_name, prompt_version, attributes, events"
)
_STATUSES = {"ok": "OK", "error": "ERROR", "unset": "UNSET"}
_HEX = re.compile(r"^[0-9a-f]+$")


def fts_query(text: str) -> str:
    """Free text to an FTS5 query: every word must occur (quoted, so no FTS syntax applies)."""
    words = text.split()
    if not words:
        raise ConfigurationError("search text is empty")
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


class Store:
    """Read API over a spyglass SQLite file: ``Store("spyglass.db").traces()``."""

    def __init__(self, db: str | os.PathLike[str] | None = None) -> None:
        from spyglass.tracer._runtime import default_db

        self.path = Path(db) if db is not None else default_db()
        self._conn = open_for_read(self.path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _query(
        self, sql: str, params: tuple[object, ...] | list[object] = ()
    ) -> list[tuple[Any, ...]]:
        from spyglass.tracer._db import _translate

        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _translate(exc, self.path) from exc

    def traces(
        self,
        limit: int = 20,
        project: str | None = None,
        since: str | datetime | timedelta | None = None,
        status: str | None = None,
        search: str | None = None,
        session_id: str | None = None,
    ) -> list[TraceSummary]:
        """Newest traces first, filtered; ``since`` takes ``"1h"``, ``"2d"``, a datetime..."""
        if not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"limit must be a positive integer, got {limit!r}")
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
        if session_id is not None:
            where.append("session_id = ?")
            params.append(session_id)
        if search is not None:
            where.append(
                "trace_id IN (SELECT s.trace_id FROM search JOIN spans s ON s.id = search.rowid "
                "WHERE search MATCH ?)"
            )
            params.append(fts_query(search))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(
            f"SELECT {_TRACE_COLUMNS} FROM traces {clause} ORDER BY start_ns DESC LIMIT ?",
            [*params, limit],
        )
        return [TraceSummary.from_row(row) for row in rows]

    def resolve(self, trace_id_or_prefix: str) -> str:
        """The full id of the one trace whose id starts with the given prefix."""
        prefix = str(trace_id_or_prefix).strip().lower()
        if not prefix or not _HEX.match(prefix):
            raise TraceNotFound(f"{trace_id_or_prefix!r} is not a trace id (hexadecimal digits)")
        rows = self._query(
            "SELECT trace_id FROM traces WHERE trace_id >= ? AND trace_id < ? "
            "ORDER BY trace_id LIMIT 6",
            (prefix, prefix + "g"),
        )
        if not rows:
            raise TraceNotFound(f"no trace with id {prefix} in {self.path}")
        if len(rows) > 1:
            shown = ", ".join(row[0][:12] for row in rows[:5])
            raise AmbiguousTraceId(
                f"{prefix} matches several traces ({shown}, ...); give more digits"
            )
        return str(rows[0][0])

    def trace(self, trace_id_or_prefix: str) -> Trace:
        """One trace with its spans in start order, documents attached to their spans."""
        trace_id = self.resolve(trace_id_or_prefix)
        summary_rows = self._query(
            f"SELECT {_TRACE_COLUMNS} FROM traces WHERE trace_id = ?", (trace_id,)
        )
        documents: dict[int, list[Document]] = {}
        for row in self._query(
            "SELECT span_row, position, doc_id, score, content, metadata FROM documents "
            "WHERE trace_id = ? ORDER BY span_row, position",
            (trace_id,),
        ):
            documents.setdefault(row[0], []).append(Document.from_row(row[1:]))
        spans = [
            SpanRecord.from_row(row, documents.get(row[0], []))
            for row in self._query(
                f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns, id",
                (trace_id,),
            )
        ]
        return Trace(TraceSummary.from_row(summary_rows[0]), spans)

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Spans whose prompts, outputs, documents or tool calls contain every word, newest
        first."""
        query = fts_query(text)
        rows = self._query(
            "SELECT s.id, s.trace_id, s.span_id, s.name, s.kind, s.start_ns, t.name, "
            "s.attributes, s.status_message FROM search JOIN spans s ON s.id = search.rowid "
            "LEFT JOIN traces t ON t.trace_id = s.trace_id "
            "WHERE search MATCH ? ORDER BY search.rowid DESC LIMIT ?",
            (query, limit),
        )
        hits = []
        for row in rows:
            docs = self._query("SELECT content FROM documents WHERE span_row = ?", (row[0],))
            attributes = json.loads(row[7])
            texts = search_texts(attributes if isinstance(attributes, dict) else {})
            texts.extend(str(doc[0]) for doc in docs if doc[0])
            texts.append(str(row[8] or ""))
            hits.append(
                SearchHit(
                    trace_id=row[1],
                    span_id=row[2],
                    span_name=row[3],
                    kind=row[4],
                    start_ns=row[5],
                    trace_name=row[6],
                    snippet=make_snippet(texts, text.split()),
                )
            )
        return hits

    def span_count(self) -> int:
        return int(self._query("SELECT count(*) FROM spans")[0][0])
