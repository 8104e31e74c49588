"""``spyglass.Store``: the read API over a spyglass file, used by the CLI and the viewer.

Opening never creates a file. Every query reads promoted columns and indexes, so listing,
showing one trace and searching stay fast on files of millions of spans: ``traces`` walks the
``traces`` roll-up by start time, ``trace`` reads one trace's spans through the
``(trace_id, span_id)`` index, ``search`` asks the FTS5 index for span rows newest first, and
``stats`` reads only spans with a model or a prompt, through partial indexes.

Cost is computed here, at read time, from the stored tokens and a ``PriceBook`` (prices
change, tokens do not). One connection serves every thread of the viewer, behind a lock.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from spyglass.errors import ConfigurationError
from spyglass.tracer._cost import PriceBook, Usage, total_cost
from spyglass.tracer._db import (
    check_shared_memory_for_read,
    close_safely,
    database_error,
    open_for_read,
    shared_memory_writable,
)
from spyglass.tracer._filters import (
    TraceFilters,
    chunks,
    fts_query,
    internal_clause,
    trace_filters,
)
from spyglass.tracer._ids import resolve_trace
from spyglass.tracer._index_stats import index_rows_sql, index_stats
from spyglass.tracer._records import (
    Document,
    SearchHit,
    SpanRecord,
    Trace,
    TraceSummary,
    content_texts,
    make_snippet,
    parse_since,
)
from spyglass.tracer._scores import ScoreRecord, scores
from spyglass.tracer._stats import Stats, model_stats, prompt_stats

_TRACE_COLUMNS = (
    "trace_id, project, name, start_ns, end_ns, status, span_count, error_count, "
    "input_tokens, output_tokens, session_id, user_id"
)
_SPAN_COLUMNS = (
    "id, trace_id, span_id, parent_id, name, kind, start_ns, end_ns, status, status_message, "
    "model, provider, input_tokens, output_tokens, prompt_name, prompt_version, attributes, events"
)


def _attr(name: str) -> str:
    return f"json_extract(attributes, '$.\"{name}\"')"


#: Usage beyond the promoted columns lives in the attributes JSON (read for LLM spans only).
_USAGE_COLUMNS = (
    "input_tokens, output_tokens, "
    f"{_attr('gen_ai.usage.cache_read.input_tokens')}, "
    f"{_attr('gen_ai.usage.cache_write.input_tokens')}, "
    f"{_attr('gen_ai.usage.reasoning.output_tokens')}, "
    f"{_attr('spyglass.usage.counted_elsewhere')}, "
    f"{_attr('spyglass.usage.estimated')}"
)
#: The largest LIMIT SQLite takes; a larger count asks for everything anyway.
MAX_LIMIT = 2**63 - 1
#: Newest traces probed one by one for a model or prompt filter before listing all matches.
_WINDOW = 5000


class Store:
    """Read API over a spyglass SQLite file: ``Store("spyglass.db").traces()``.

    ``prices`` prices the calls (default: ``PriceBook.default()``, built on first use).
    """

    def __init__(
        self, db: str | os.PathLike[str] | None = None, *, prices: PriceBook | None = None
    ) -> None:
        if db is None:
            from spyglass.tracer._config import default_db

            db = default_db()
        self.path = Path(db)
        self._conn = open_for_read(self.path)
        # Whether SQLite mapped the -shm writable: if it turns read-only, a query would be SIGBUS.
        self._shm_mapped_writable = shared_memory_writable(self.path)
        self._lock = threading.Lock()
        self._prices = prices

    @property
    def prices(self) -> PriceBook:
        if self._prices is None:
            self._prices = PriceBook.default()
        return self._prices

    def close(self) -> None:
        close_safely(self._conn, self.path)

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
        try:
            with self._lock:
                check_shared_memory_for_read(self.path, mapped_writable=self._shm_mapped_writable)
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise database_error(exc, self.path) from exc

    def traces(
        self,
        limit: int = 20,
        project: str | None = None,
        since: str | datetime | timedelta | None = None,
        status: str | None = None,
        search: str | None = None,
        session_id: str | None = None,
        *,
        model: str | None = None,
        prompt: str | None = None,
        errors: bool | None = None,
        name: str | None = None,
        tag: str | None = None,
        internal: bool = False,
        trace_ids: Sequence[str] | None = None,
    ) -> list[TraceSummary]:
        """Newest traces first, filtered; ``since`` takes ``"1h"``, ``"2d"``, a datetime...

        ``status`` is the root span's outcome; ``errors=True`` keeps the traces in which any
        span failed (``error_count > 0``: a failed tool call the root recovered from counts),
        ``errors=False`` those in which none did. ``model`` keeps traces with a call to a
        model whose name starts with it; ``prompt`` (``name`` or ``name@version``) traces
        that rendered that registered prompt; ``name`` traces whose name starts with it;
        ``tag`` traces with a span tagged so (``spyglass.trace(tags=...)``). An evaluation's
        judge calls (traces named ``spyglass.judge.<criterion>``) are left out unless
        ``internal=True`` or ``name`` asks for them.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"limit must be a positive integer, got {limit!r}")
        limit = min(limit, MAX_LIMIT)  # SQLite's LIMIT is a 64-bit integer; more is "all"
        filters = TraceFilters(
            project=project,
            since=since,
            status=status,
            search=search,
            session_id=session_id,
            model=model,
            prompt=prompt,
            errors=errors,
            name=name,
            tag=tag,
            internal=internal,
        )
        rows = None
        if (model or prompt or tag) and not search:
            # A common model is in most traces: test the newest traces one by one (an indexed
            # probe each) rather than list every span that names it. Exact when the window
            # holds `limit` matches; otherwise (a rare model) the full query below answers.
            rows = self._select(filters, trace_ids, limit, window=_WINDOW)
            rows = rows if len(rows) == limit else None
        if rows is None:
            rows = self._select(filters, trace_ids, limit)
        return self._priced([TraceSummary.from_row(row) for row in rows])

    def _select(
        self,
        filters: TraceFilters,
        trace_ids: Sequence[str] | None,
        limit: int,
        window: int | None = None,
    ) -> list[tuple[Any, ...]]:
        where, params = trace_filters(filters, trace_ids, probe=window is not None)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        source = "traces"
        if window is not None:
            source = f"(SELECT * FROM traces ORDER BY start_ns DESC LIMIT {int(window)}) AS traces"
        return self._query(
            f"SELECT {_TRACE_COLUMNS} FROM {source} {clause} ORDER BY start_ns DESC LIMIT ?",
            [*params, limit],
        )

    def _priced(self, summaries: list[TraceSummary]) -> list[TraceSummary]:
        """The summaries with their cost: one indexed read of the token-bearing spans."""
        if not summaries:
            return summaries
        costs: dict[str, list[float | None]] = {}
        partial: set[str] = set()
        estimated: set[str] = set()
        for chunk in chunks([s.trace_id for s in summaries]):
            for row in self._query(
                f"SELECT trace_id, provider, model, start_ns, {_USAGE_COLUMNS} FROM spans "
                f"WHERE trace_id IN ({', '.join('?' * len(chunk))}) "
                "AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)",
                list(chunk),
            ):
                trace_id, provider, model, start_ns, *tokens, counted, guessed = row
                if counted:
                    continue
                usage = Usage(*(t if isinstance(t, int) and t > 0 else 0 for t in tokens))
                if guessed and not usage.empty:
                    estimated.add(trace_id)
                cost = self.prices.cost(provider, model, usage, start_ns)
                costs.setdefault(trace_id, []).append(cost)
                if cost is None and not usage.empty:
                    partial.add(trace_id)
        return [
            replace(
                s,
                cost_usd=total_cost(costs.get(s.trace_id, ())),
                cost_partial=s.trace_id in partial,
                tokens_estimated=s.trace_id in estimated,
            )
            for s in summaries
        ]

    def resolve(self, trace_id_or_prefix: str) -> str:
        """The full id of the one trace whose id starts with the given prefix."""
        return resolve_trace(self._query, trace_id_or_prefix, self.path)

    def trace(self, trace_id_or_prefix: str) -> Trace:
        """One trace with its spans in start order, documents attached to their spans, and
        the cost of each priced call (the trace's cost sums the counted ones)."""
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
            self._priced_span(SpanRecord.from_row(row, documents.get(row[0], [])))
            for row in self._query(
                f"SELECT {_SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns, id",
                (trace_id,),
            )
        ]
        counted = [s for s in spans if not s.counted_elsewhere and not s.usage.empty]
        summary = replace(
            TraceSummary.from_row(summary_rows[0]),
            cost_usd=total_cost(s.cost_usd for s in counted),
            cost_partial=any(s.cost_usd is None for s in counted),
            tokens_estimated=any(s.tokens_estimated for s in counted),
        )
        return Trace(summary, spans)

    def _priced_span(self, span: SpanRecord) -> SpanRecord:
        if span.input_tokens is None and span.output_tokens is None:
            return span
        cost = self.prices.cost(span.provider, span.model, span.usage, span.start_ns)
        return span if cost is None else replace(span, cost_usd=cost)

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Spans whose prompts, outputs, documents or tool calls contain every word, newest
        first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"limit must be a positive integer, got {limit!r}")
        query = fts_query(text)
        limit = min(limit, MAX_LIMIT)
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
            texts = content_texts(attributes if isinstance(attributes, dict) else {})
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

    def stats(
        self,
        since: str | datetime | timedelta | None = None,
        project: str | None = None,
        *,
        internal: bool = False,
    ) -> Stats:
        """Per model (calls, tokens, cost, p50/p95 latency, errors), per prompt version
        (runs, errors, p50 latency, tokens) and per prompt version × index that answered,
        over spans started since ``since``. An evaluation's judge calls are not the app's:
        they count only with ``internal=True``."""
        since_ns = parse_since(since) if since is not None else None
        where, params = "", list[object]()
        if since_ns is not None:
            where += " AND start_ns >= ?"
            params.append(since_ns)
        if project is not None:
            where += " AND trace_id IN (SELECT trace_id FROM traces WHERE project = ?)"
            params.append(project)
        if not internal:
            where += (
                f" AND trace_id NOT IN (SELECT trace_id FROM traces WHERE NOT {internal_clause()})"
            )
        models = self._query(
            f"SELECT provider, model, start_ns, end_ns, status, {_USAGE_COLUMNS} FROM spans "
            f"WHERE model IS NOT NULL{where}",
            params,
        )
        # A run of a prompt version is a trace that used it (as `prompts diff` counts), not a
        # span: with LangChain both the template span and the model span name the prompt.
        # A run with a failed span anywhere is an error run, as `prompts diff` counts it.
        prompts = self._query(
            "SELECT p.prompt_name, p.prompt_version, t.start_ns, t.end_ns, t.error_count > 0, "
            "t.input_tokens, t.output_tokens FROM (SELECT DISTINCT trace_id, prompt_name, "
            f"prompt_version FROM spans WHERE prompt_name IS NOT NULL{where}) AS p "
            "JOIN traces t ON t.trace_id = p.trace_id",
            params,
        )
        # The window also through the traces' start (indexed): RETRIEVER spans have no index
        # of their own, and a scan of every span would dominate `stats --since`.
        window = " AND trace_id IN (SELECT trace_id FROM traces WHERE start_ns >= ?)"
        index_where, index_params = (
            (where + window, [*params, since_ns]) if since_ns is not None else (where, params)
        )
        indexes = index_stats(self._query(index_rows_sql(index_where), index_params * 2))
        return Stats(
            since_ns, project, model_stats(models, self.prices), prompt_stats(prompts), indexes
        )

    def span_count(self) -> int:
        return int(self._query("SELECT count(*) FROM spans")[0][0])

    def scores(
        self, trace_id: str | None = None, name: str | None = None, run: str | None = None
    ) -> list[ScoreRecord]:
        """Stored scores, oldest first, by trace (id or unique prefix), name or eval run."""
        with self._lock:
            check_shared_memory_for_read(self.path, mapped_writable=self._shm_mapped_writable)
            return scores(self._conn, trace_id=trace_id, name=name, run=run)
