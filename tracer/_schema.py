"""The SQLite file's schema, built by ordered, named migrations recorded in the file.

Each migration is a function applied once inside the writer's ``BEGIN IMMEDIATE`` transaction
and recorded by name in ``_spyglass_migrations``. A file that records a migration this spyglass
does not know was written by a newer spyglass: reading or writing it is an error rather than a
guess. Later features (the prompt registry, scores) add their tables as further migrations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone

from spyglass.errors import DatabaseTooNew

MIGRATIONS_TABLE = "_spyglass_migrations"

Migration = Callable[[sqlite3.Connection], None]


def _script(conn: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it COMMITs a pending transaction first, and migrations must stay
    # inside the one BEGIN IMMEDIATE that records them.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def m001_spans_and_traces(conn: sqlite3.Connection) -> None:
    """Spans (every attribute as JSON plus promoted columns) and the per-trace roll-up."""
    _script(
        conn,
        """
        CREATE TABLE spans (
            id INTEGER PRIMARY KEY,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_id TEXT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status TEXT NOT NULL,
            status_message TEXT,
            model TEXT,
            provider TEXT,
            input_tokens INTEGER,
            output_tokens INTEGER,
            prompt_name TEXT,
            prompt_version TEXT,
            attributes TEXT NOT NULL,
            events TEXT
        );
        CREATE UNIQUE INDEX spans_trace_span ON spans (trace_id, span_id);
        CREATE TABLE traces (
            trace_id TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            name TEXT,
            root_span_id TEXT,
            start_ns INTEGER NOT NULL,
            end_ns INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'UNSET',
            span_count INTEGER NOT NULL DEFAULT 0,
            error_count INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            session_id TEXT,
            user_id TEXT
        );
        CREATE INDEX traces_start ON traces (start_ns);
        CREATE INDEX traces_project_start ON traces (project, start_ns);
        CREATE INDEX traces_session ON traces (session_id) WHERE session_id IS NOT NULL;
        """,
    )


def m002_documents(conn: sqlite3.Connection) -> None:
    """Retrieved documents, one row per document in rank order, scores kept."""
    _script(
        conn,
        """
        CREATE TABLE documents (
            span_row INTEGER NOT NULL,
            trace_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            doc_id TEXT,
            score REAL,
            content TEXT,
            metadata TEXT,
            PRIMARY KEY (span_row, position)
        );
        CREATE INDEX documents_trace ON documents (trace_id);
        """,
    )


def m003_search_index(conn: sqlite3.Connection) -> None:
    """A contentless FTS5 index: row ``spans.id`` holds that span's prompts, outputs, documents.

    Contentless keeps the text once (in ``spans`` and ``documents``); the index only maps words
    to span rows.
    """
    conn.execute("CREATE VIRTUAL TABLE search USING fts5(text, content='', tokenize='unicode61')")


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("001_spans_and_traces", m001_spans_and_traces),
    ("002_documents", m002_documents),
    ("003_search_index", m003_search_index),
)


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names recorded in the file, oldest first; empty for a blank file."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
    ).fetchone()
    if not exists:
        return []
    return [row[0] for row in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY rowid")]


def pending_migrations(conn: sqlite3.Connection, path: str) -> list[tuple[str, Migration]]:
    """Migrations still to apply; raises if the file knows migrations this spyglass does not."""
    done = applied_migrations(conn)
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in done if name not in known]
    if unknown:
        raise DatabaseTooNew(
            f"{path} was written by a newer spyglass (unknown migration {unknown[0]!r}); "
            "upgrade spyglass to read it"
        )
    return [(name, fn) for name, fn in MIGRATIONS if name not in done]


def migrate(conn: sqlite3.Connection, path: str) -> list[str]:
    """Apply what is pending in one ``BEGIN IMMEDIATE`` transaction; returns the names applied.

    Several processes may open a new file at once: the write lock serialises them and the
    second finds nothing pending.
    """
    if not pending_migrations(conn, path):
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = []
        for name, fn in pending_migrations(conn, path):
            fn(conn)
            conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(timezone.utc).isoformat()),
            )
            applied.append(name)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied
