"""The SQLite span exporter: an OTel ``SpanExporter`` that never raises into the host app.

Each ``export`` call is one ``BEGIN IMMEDIATE`` transaction: spans, their documents, their
search-index rows and the per-trace roll-up go in together, so a killed process leaves either
all of a batch or none of it. Span row ids are allocated inside the write lock, which lets the
contentless FTS index use them as its rowids without a read-back.

Rows go in many per statement (``_statements``): one ``executemany`` step per row waited on
the traced program's thread for the GIL at every step.

The connection belongs to one process: after ``fork()`` the child opens its own (see
``_fork_hooks``). A batch that fails (locked past the busy timeout, read-only, disk full,
corrupt) is kept and retried with the next one, up to a bound; every failure kind is logged
once as a warning through ``logging``. A batch that fails for its rows rather than for the
database loses only the rows that fail alone (``_faults``, which also says when a connection is
reopened).

Before each batch, two cheap checks of the files: that the file at the path is still the one
opened (same device and inode; if it was deleted or replaced, a new one is created there, with
one warning, and a batch committed into the unlinked file meanwhile is written again, so
``flush()`` never counts spans that went nowhere); and that -shm and -wal are writable (``_db``:
SQLite writing to a mapped -shm made immutable is SIGBUS).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spyglass.errors import DatabaseError
from spyglass.tracer._db import (
    check_companions,
    close_safely,
    file_identity,
    open_for_write,
)
from spyglass.tracer._faults import fault_reason, keeps_connection, kind, write_isolating
from spyglass.tracer._redact import Redactor
from spyglass.tracer._rows import SpanRow, span_to_row
from spyglass.tracer._statements import INSERT_DOCUMENT, INSERT_SEARCH, INSERT_SPAN, insert
from spyglass.tracer._warn import warn

logger = logging.getLogger("spyglass")

#: Spans kept for a retry while the database refuses writes; older ones are dropped past this.
MAX_PENDING_SPANS = 50_000

_UPSERT_TRACE = """
INSERT INTO traces (trace_id, project, name, root_span_id, start_ns, end_ns, status,
                    span_count, error_count, input_tokens, output_tokens, session_id, user_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (trace_id) DO UPDATE SET
    name = CASE
        WHEN excluded.root_span_id IS NOT NULL THEN excluded.name
        WHEN traces.root_span_id IS NULL AND excluded.start_ns < traces.start_ns
            THEN excluded.name
        ELSE traces.name END,
    root_span_id = coalesce(excluded.root_span_id, traces.root_span_id),
    status = CASE WHEN excluded.root_span_id IS NOT NULL THEN excluded.status
                  ELSE traces.status END,
    start_ns = min(traces.start_ns, excluded.start_ns),
    end_ns = max(traces.end_ns, excluded.end_ns),
    span_count = traces.span_count + excluded.span_count,
    error_count = traces.error_count + excluded.error_count,
    input_tokens = traces.input_tokens + excluded.input_tokens,
    output_tokens = traces.output_tokens + excluded.output_tokens,
    session_id = coalesce(traces.session_id, excluded.session_id),
    user_id = coalesce(traces.user_id, excluded.user_id)
"""


@dataclass
class _Rollup:
    """What one batch adds to one ``traces`` row (fields in ``_UPSERT_TRACE`` order)."""

    trace_id: str
    project: str
    name: str
    root_span_id: str | None
    start_ns: int
    end_ns: int
    status: str = "UNSET"
    span_count: int = 0
    error_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    session_id: str | None = None
    user_id: str | None = None

    def add(self, row: SpanRow) -> None:
        if row.is_root:
            self.name, self.root_span_id, self.status = row.name, row.span_id, row.status
        elif self.root_span_id is None and row.start_ns < self.start_ns:
            self.name = row.name  # until the root arrives, the earliest span names the trace
        self.start_ns = min(self.start_ns, row.start_ns)
        self.end_ns = max(self.end_ns, row.end_ns)
        self.span_count += 1
        self.error_count += row.status == "ERROR"
        self.input_tokens += row.counted_input_tokens
        self.output_tokens += row.counted_output_tokens
        self.session_id = self.session_id or row.session_id
        self.user_id = self.user_id or row.user_id

    def values(self) -> tuple[object, ...]:
        # Spelled out: dataclasses.astuple recurses into (deep-copies) every field, which
        # made the roll-up ~5x slower (~4 µs a span of the exporter's worker time).
        return (
            self.trace_id, self.project, self.name, self.root_span_id, self.start_ns,
            self.end_ns, self.status, self.span_count, self.error_count, self.input_tokens,
            self.output_tokens, self.session_id, self.user_id,
        )  # fmt: skip


_live: weakref.WeakSet[SQLiteSpanExporter] = weakref.WeakSet()
_held: list[SQLiteSpanExporter] = []
_hooks_registered = False


def _before_fork() -> None:
    # Wait for any write in flight, so the child inherits no connection in the middle of a
    # SQLite call (its mutex held by a thread that does not exist there) and no held lock.
    # The wait is one write at most, bounded by the busy timeout if another process holds
    # the file. (subprocess does not run these hooks; os.fork and multiprocessing do.)
    for exporter in list(_live):
        exporter._lock.acquire()
        _held.append(exporter)


def _after_fork_in_parent() -> None:
    while _held:
        _held.pop()._lock.release()


def _after_fork_in_child() -> None:
    while _held:
        _held.pop()._forget_parent()


def _fork_hooks() -> None:
    """Register the fork hooks once, on the first exporter (nothing happens at import)."""
    global _hooks_registered
    if not _hooks_registered and hasattr(os, "register_at_fork"):
        _hooks_registered = True
        os.register_at_fork(
            before=_before_fork,
            after_in_parent=_after_fork_in_parent,
            after_in_child=_after_fork_in_child,
        )


def _trace_rollups(rows: Sequence[SpanRow]) -> list[tuple[object, ...]]:
    """One upsert row per trace in the batch."""
    acc: dict[str, _Rollup] = {}
    for row in rows:
        rollup = acc.get(row.trace_id)
        if rollup is None:
            rollup = acc[row.trace_id] = _Rollup(
                row.trace_id, row.project, row.name, None, row.start_ns, row.end_ns
            )
        rollup.add(row)
    return [rollup.values() for rollup in acc.values()]


class SQLiteSpanExporter(SpanExporter):
    """Writes finished spans into a spyglass SQLite file."""

    def __init__(self, path: str | os.PathLike[str], redactor: Redactor | None = None) -> None:
        self.path = Path(path)
        self._redactor = redactor
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._pending: list[SpanRow] = []
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened
        self._rejected = 0  # spans dropped because they could not be stored
        self._warned: set[str] = set()
        self._closed = False
        _fork_hooks()
        _live.add(self)

    def open(self) -> bool:
        """Open (and migrate) now rather than at the first export.

        A file that cannot be used is logged (once) and retried at each export; tracing must
        not stop the program.
        """
        with self._lock:
            try:
                self._connection()
            except (DatabaseError, sqlite3.Error, OSError) as exc:
                self._warn_once(
                    "database",
                    f"spyglass cannot write traces to {self.path}: {fault_reason(exc, self.path)}",
                )
                return False
        return True

    def _forget_parent(self) -> None:
        """In a fork child (lock held since ``_before_fork``): drop the parent's connection.

        Closing the inherited handle is safe (no call was in flight, and the parent's shared
        lock on the file stops a checkpoint) and needed: while it stays open, SQLite would let
        the child's new connection share the parent's file locks, which the child does not hold.
        """
        conn, self._conn = self._conn, None
        self._pid, self._pending = os.getpid(), []
        self._lock = threading.Lock()
        if conn is not None:
            try:
                conn.close()
            except Exception:
                logger.debug("spyglass could not close the inherited connection", exc_info=True)

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            # Never use a connection inherited across fork(): that is how SQLite files corrupt.
            self._conn, self._pid, self._pending = None, os.getpid(), []
        check_companions(self.path)  # before SQLite touches the -shm it maps
        if self._conn is not None and self._replaced():
            self._warn_once(
                "replaced",
                f"spyglass: {self.path} was deleted or replaced while in use; "
                "writing traces to a new file there",
            )
            # Into the old file (moved, or unlinked) goes what it still holds only in the WAL:
            # SQLite does not checkpoint a moved file on close, and the new file at the path
            # deletes a WAL it finds beside it as stale.
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._release()
        if self._conn is None:
            self._conn = open_for_write(self.path)
            self._identity = file_identity(self.path)
        return self._conn

    def _replaced(self) -> bool:
        """Whether the file at the path is no longer the one this connection writes to."""
        try:
            return file_identity(self.path) != self._identity
        except OSError:  # cannot tell (a directory we may not search): assume not
            return False

    def _release(self) -> None:
        """Close the connection (lock held); the next write opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                close_safely(conn, self.path)
            except sqlite3.Error:
                logger.debug("spyglass could not close %s", self.path, exc_info=True)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._closed:
            return SpanExportResult.FAILURE
        rows = [row for row in map(self._convert, spans) if row is not None]
        with self._lock:
            batch, self._pending = self._pending + rows, []
            if not batch:
                return SpanExportResult.SUCCESS
            failed = self._store(batch)
            if failed is not None:
                self._keep(*failed)
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _convert(self, span: ReadableSpan) -> SpanRow | None:
        try:
            return span_to_row(span, self._redactor)
        except Exception as exc:
            self._reject(span.name, exc)
            return None

    def _store(self, batch: list[SpanRow]) -> tuple[list[SpanRow], Exception] | None:
        """Write ``batch`` (lock held), dropping only rows that fail alone (``_faults``);
        returns what is still unwritten and the database's error, if it failed."""
        return write_isolating(self._write, batch, lambda row, exc: self._reject(row.name, exc))

    def _reject(self, name: str, exc: Exception) -> None:
        self._rejected += 1
        self._warn_once(
            "rejected",
            f"spyglass could not store span {name!r} ({exc!r}); it is dropped, other spans "
            "are stored",
        )

    def _write(self, rows: list[SpanRow]) -> None:
        self._transaction(self._connection(), rows)
        if self._replaced():
            # Committed into a file that was deleted or replaced meanwhile: nobody will read
            # it there, so the rows go into the file now at the path.
            self._transaction(self._connection(), rows)

    def _transaction(self, conn: sqlite3.Connection, rows: list[SpanRow]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            base = conn.execute("SELECT coalesce(max(id), 0) FROM spans").fetchone()[0]
            numbered = list(enumerate(rows, base + 1))
            changes = conn.total_changes
            insert(conn, INSERT_SPAN, [(rid, *row.values) for rid, row in numbered])
            if conn.total_changes - changes != len(rows):
                # Some spans were stored already (INSERT OR IGNORE): a span exported twice must
                # not be counted twice in its trace, nor get a second set of documents and
                # search rows under an id that was never stored.
                stored = {r[0] for r in conn.execute("SELECT id FROM spans WHERE id > ?", (base,))}
                numbered = [(rid, row) for rid, row in numbered if rid in stored]
            documents = [(rid, *doc) for rid, row in numbered for doc in row.documents]
            insert(conn, INSERT_DOCUMENT, documents)
            insert(
                conn,
                INSERT_SEARCH,
                [(rid, row.search_text) for rid, row in numbered if row.search_text],
            )
            insert(conn, _UPSERT_TRACE, _trace_rollups([row for _, row in numbered]))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _keep(self, batch: list[SpanRow], exc: Exception) -> None:
        """Hold a failed batch for the next export (lock held); past the bound drop the oldest."""
        if not keeps_connection(exc):
            self._release()  # a read-only connection, say, would fail forever: reopen next time
        self._pending = batch
        dropped = len(batch) - MAX_PENDING_SPANS
        if dropped > 0:
            self._pending = batch[dropped:]
            # Once: a database that stays unusable would otherwise log this at every batch.
            self._warn_once(
                "dropped",
                f"spyglass dropped {dropped} spans that {self.path} would not take "
                "(and drops the oldest while it refuses writes)",
            )
        self._warn_once(
            kind(exc),
            f"spyglass cannot write traces to {self.path}: {fault_reason(exc, self.path)}",
        )

    def _warn_once(self, kind: str, message: str) -> None:
        first = kind not in self._warned
        self._warned.add(kind)
        warn(message, debug=not first)

    def pending_count(self) -> int:
        """Spans held for a retry because the database refused them."""
        return len(self._pending)

    def rejected_count(self) -> int:
        """Spans dropped because they could not be stored (not the database's fault)."""
        return self._rejected

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        if self._pending:
            self.export([])
        return not self._pending

    def shutdown(self) -> None:
        if self._closed:
            return
        self.force_flush()
        if self._pending:
            warn("spyglass lost %d spans: %s would not take them", len(self._pending), self.path)
        self._closed = True
        with self._lock:
            if self._pid == os.getpid():
                self._release()
            self._conn = None
