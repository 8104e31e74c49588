"""The SQLite file's schema, built by ordered, named migrations recorded in the file.

Each migration is a function applied once inside the writer's ``BEGIN IMMEDIATE`` transaction
and recorded by name in ``_spyglass_migrations``. A file that records a migration this spyglass
does not know was written by a newer spyglass: reading or writing it is an error rather than a
guess. Later features (the prompt registry, scores) add their tables as further migrations.
"""

from __future__ import annotations

import logging
import re
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


def m004_prompts(conn: sqlite3.Connection) -> None:
    """The prompt registry: names, immutable numbered versions, movable aliases; and an index
    answering "which traces used qa@3".

    ``template`` is the text, or for ``kind = 'chat'`` a JSON list of ``{role, content}``;
    ``variables``, ``parameters`` and ``tags`` are JSON. The spans index is partial: spans that
    name no prompt (nearly all) cost the exporter nothing.
    """
    _script(
        conn,
        """
        CREATE TABLE prompts (
            name TEXT PRIMARY KEY,
            created_ns INTEGER NOT NULL
        );
        CREATE TABLE prompt_versions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL REFERENCES prompts (name),
            version INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('text', 'chat')),
            template TEXT NOT NULL,
            variables TEXT NOT NULL,
            hash TEXT NOT NULL,
            message TEXT,
            created_ns INTEGER NOT NULL,
            model TEXT,
            parameters TEXT,
            tags TEXT NOT NULL,
            UNIQUE (name, version)
        );
        CREATE TABLE prompt_aliases (
            name TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_ns INTEGER NOT NULL,
            PRIMARY KEY (name, alias),
            FOREIGN KEY (name, version) REFERENCES prompt_versions (name, version)
        );
        CREATE INDEX spans_prompt ON spans (prompt_name, prompt_version)
            WHERE prompt_name IS NOT NULL
        """,
    )


def m005_model_indexes(conn: sqlite3.Connection) -> None:
    """Partial indexes over model calls and prompt runs: the viewer's ``model:`` filter, and
    ``spyglass stats`` over a time window, read only the spans that name a model (or a prompt)
    instead of scanning them all. Spans that name neither cost the exporter nothing."""
    _script(
        conn,
        """
        CREATE INDEX spans_model ON spans (model) WHERE model IS NOT NULL;
        CREATE INDEX spans_model_start ON spans (start_ns) WHERE model IS NOT NULL;
        CREATE INDEX spans_prompt_start ON spans (start_ns) WHERE prompt_name IS NOT NULL
        """,
    )


def m006_scores(conn: sqlite3.Connection) -> None:
    """Scores stored beside the traces: human feedback, code evaluators, LLM judges.

    ``value`` holds a number (a bool as 1 / 0); ``label`` a category (a judge's ``PASS``, a
    human's ``good``); ``kind`` says which the scorer gave (``number``, ``bool``, ``label``) so
    both read back as they were written. A failed judgement is a row with no value and the
    reason in ``comment``. ``run_id`` links the scores of an evaluation run (see
    ``007_eval_runs``); a trace's scores are one indexed read.
    """
    _script(
        conn,
        """
        CREATE TABLE scores (
            id INTEGER PRIMARY KEY,
            trace_id TEXT NOT NULL,
            span_id TEXT,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('number', 'bool', 'label')),
            value REAL,
            label TEXT,
            comment TEXT,
            source TEXT NOT NULL CHECK (source IN ('human', 'code', 'llm')),
            evaluator TEXT,
            evaluator_version TEXT,
            run_id TEXT,
            created_ns INTEGER NOT NULL
        );
        CREATE INDEX scores_trace ON scores (trace_id);
        CREATE INDEX scores_name ON scores (name, created_ns);
        CREATE INDEX scores_run ON scores (run_id) WHERE run_id IS NOT NULL
        """,
    )


def m007_eval_runs(conn: sqlite3.Connection) -> None:
    """Evaluation runs and their examples: one ``eval_results`` row per example, naming the
    example's trace; the scores live in ``scores`` (by ``run_id`` and ``trace_id``).

    ``example_key`` (a hash of the example's inputs) pairs the examples of two runs over the
    same dataset; ``metrics``, ``evaluators``, ``prompt_versions`` and the content columns are
    JSON.
    """
    _script(
        conn,
        """
        CREATE TABLE eval_runs (
            run_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            project TEXT,
            dataset_name TEXT,
            dataset_hash TEXT,
            example_count INTEGER NOT NULL,
            target TEXT,
            evaluators TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
            started_ns INTEGER NOT NULL,
            ended_ns INTEGER,
            prompt_versions TEXT,
            metrics TEXT
        );
        CREATE INDEX eval_runs_started ON eval_runs (started_ns);
        CREATE INDEX eval_runs_name ON eval_runs (name, started_ns);
        CREATE TABLE eval_results (
            run_id TEXT NOT NULL REFERENCES eval_runs (run_id),
            position INTEGER NOT NULL,
            example_key TEXT NOT NULL,
            trace_id TEXT,
            inputs TEXT,
            output TEXT,
            expected TEXT,
            expected_doc_ids TEXT,
            error TEXT,
            latency_ms REAL,
            PRIMARY KEY (run_id, position)
        );
        CREATE INDEX eval_results_trace ON eval_results (trace_id)
        """,
    )


#: The search index's tokenizer since ``008_search_stems``: ``porter`` stems English words over
#: ``unicode61``'s words (case and diacritics folded), so ``refund`` finds "Refunds",
#: "refunded" and "refunding".
SEARCH_TOKENIZER = "porter unicode61"
#: Above this many spans, the search index rebuild of ``008_search_stems`` takes seconds.
_REINDEX_NOTICE_SPANS = 100_000


def create_search_index(conn: sqlite3.Connection, tokenizer: str = SEARCH_TOKENIZER) -> None:
    """The contentless search index, empty, in place of the one there was."""
    if not re.fullmatch(r"[a-z0-9_ ]+", tokenizer):
        raise ValueError(f"not a tokenizer: {tokenizer!r}")
    conn.execute("DROP TABLE IF EXISTS search")
    conn.execute(
        f"CREATE VIRTUAL TABLE search USING fts5(text, content='', tokenize='{tokenizer}')"
    )


def m008_search_stems(conn: sqlite3.Connection) -> None:
    """The search index again, with ``SEARCH_TOKENIZER``: a word matches its other forms, and a
    query word ending in ``*`` any word starting with it (``_filters.fts_query``).

    The index is contentless, so every stored span is indexed again from its stored text
    (``_reindex``, loaded only for a file with spans): about 25 s per million spans, once.
    Files of more than ``_REINDEX_NOTICE_SPANS`` spans say so through the ``spyglass`` logger
    first.
    """
    row = conn.execute("SELECT max(id) FROM spans").fetchone()
    spans = int(row[0] or 0) if row else 0
    if not spans:
        create_search_index(conn)
        return
    if spans > _REINDEX_NOTICE_SPANS:
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        logging.getLogger("spyglass").warning(
            "spyglass is rebuilding the search index of %s for stemmed search "
            "(%s spans, about %d s; once)",
            path,
            f"{spans:,}",
            max(1, spans // 40_000),
        )
    from spyglass.tracer._reindex import rebuild_search_index

    rebuild_search_index(conn)


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("001_spans_and_traces", m001_spans_and_traces),
    ("002_documents", m002_documents),
    ("003_search_index", m003_search_index),
    ("004_prompts", m004_prompts),
    ("005_model_indexes", m005_model_indexes),
    ("006_scores", m006_scores),
    ("007_eval_runs", m007_eval_runs),
    ("008_search_stems", m008_search_stems),
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
