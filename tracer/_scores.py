"""Scores stored beside the traces: ``spyglass.score()`` and the read functions others call.

One ``scores`` row per judgement (migration ``006_scores``). A ``Score`` is written as
``kind`` + ``value`` (number; a bool as 1 / 0) + ``label`` and read back as it was given, so a
human's ``"good"``, a code evaluator's ``True`` and a judge's ``0.75`` / ``PASS`` all round-trip.

``score()`` is for feedback after the fact (a human, a script): it flushes the active pipeline
first, so a trace that just ended is found, and validates the trace (id or unique prefix) and
span. The read functions take a path or an open connection (the store and the registry pass
their own): ``scores`` (filtered list) here, the per-trace and per-name summaries in
``_score_stats``. Evaluation runs write their scores through ``score_row`` and
``insert_scores``, in their own transactions.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from spyglass.errors import DatabaseNotFound
from spyglass.tracer._config import default_db
from spyglass.tracer._db import database_error, open_for_read, open_for_write
from spyglass.tracer._ids import executor, resolve_run, resolve_span, resolve_trace
from spyglass.tracer._records import iso
from spyglass.tracer._score_types import Score, Source, check_name, check_source, check_value

Db = str | os.PathLike[str] | sqlite3.Connection | None

COLUMNS = (
    "id, trace_id, span_id, name, kind, value, label, comment, source, evaluator, "
    "evaluator_version, run_id, created_ns"
)
_INSERT = (
    "INSERT INTO scores (trace_id, span_id, name, kind, value, label, comment, source, "
    "evaluator, evaluator_version, run_id, created_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class ScoreRecord:
    """A stored score: the ``Score`` plus where it points and when it was written."""

    id: int
    trace_id: str
    run_id: str | None
    created_ns: int
    score: Score

    @classmethod
    def from_row(cls, row: Sequence[object]) -> ScoreRecord:
        (row_id, trace_id, span_id, name, kind, value, label, comment, source) = row[:9]
        evaluator, version, run_id, created_ns = row[9:]
        decoded: object = value
        if kind == "label":
            decoded, label = label, None
        elif kind == "bool" and value is not None:
            decoded = bool(value)
        score = Score(
            name=str(name),
            value=decoded,  # type: ignore[arg-type]
            comment=comment,  # type: ignore[arg-type]
            source=source,  # type: ignore[arg-type]
            label=label,  # type: ignore[arg-type]
            evaluator=evaluator,  # type: ignore[arg-type]
            evaluator_version=version,  # type: ignore[arg-type]
            span_id=span_id,  # type: ignore[arg-type]
        )
        return cls(row_id, trace_id, run_id, created_ns, score)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "trace_id": self.trace_id,
            **self.score.to_dict(),
            "run_id": self.run_id,
            "created_at": iso(self.created_ns),
        }


def score_row(
    trace_id: str, score: Score, run_id: str | None, created_ns: int
) -> tuple[object, ...]:
    """The ``_INSERT`` parameters of one score."""
    value: object = score.value
    label = score.label
    if score.kind == "label":
        value, label = None, str(score.value)
    elif isinstance(value, bool):
        value = 1.0 if value else 0.0
    return (
        trace_id,
        score.span_id,
        score.name,
        score.kind,
        value,
        label,
        score.comment,
        score.source,
        score.evaluator,
        score.evaluator_version,
        run_id,
        created_ns,
    )


def insert_scores(conn: sqlite3.Connection, rows: Iterable[tuple[object, ...]]) -> None:
    """Insert ``score_row`` tuples (the caller holds the transaction)."""
    conn.executemany(_INSERT, rows)


@contextmanager
def connection(db: Db) -> Iterator[sqlite3.Connection]:
    """An open connection as is, or a read-only one to the path (default file if None)."""
    if isinstance(db, sqlite3.Connection):
        yield db
        return
    if db is None:
        db = default_db()
    conn = open_for_read(Path(db))
    try:
        yield conn
    finally:
        conn.close()


def _score_db(db: str | os.PathLike[str] | None) -> Path:
    """Where ``score()`` writes: ``db``, else the active pipeline's file, else the default;
    flushing the active pipeline first so a trace that just ended is in the file."""
    pipeline = None
    if "spyglass.tracer._runtime" in sys.modules:  # loaded iff anything was traced
        from spyglass.tracer import _runtime

        pipeline = _runtime.active()
    if pipeline is not None:
        pipeline.flush()
    if db is not None:
        return Path(db)
    if pipeline is not None and pipeline.settings.db is not None:
        return Path(pipeline.settings.db)
    return default_db()


def score(
    trace_id: str,
    name: str,
    value: object,
    comment: str | None = None,
    span_id: str | None = None,
    source: Source = "human",
    *,
    db: str | os.PathLike[str] | None = None,
) -> ScoreRecord:
    """Store a score for a trace (id or unique prefix), or one of its spans.

    ``value``: a number, a bool or a label (str). ``source``: ``human``, ``code`` or ``llm``.
    ``db`` defaults to the active pipeline's file, else ``$SPYGLASS_DB`` / ``./spyglass.db``.
    """
    checked = Score(
        name=check_name(name),
        value=check_value(value),
        comment=None if comment is None else str(comment),
        source=check_source(source),
    )
    path = _score_db(db)
    if not path.exists():
        raise DatabaseNotFound(
            f"no database at {path} (run your app with spyglass.autolog() first)"
        )
    conn = open_for_write(path)
    try:
        query = executor(conn)
        full = resolve_trace(query, trace_id, path)
        if span_id is not None:
            checked = replace(checked, span_id=resolve_span(query, full, span_id))
        created = time.time_ns()
        cursor = conn.execute(_INSERT, score_row(full, checked, None, created))
        return ScoreRecord(int(cursor.lastrowid or 0), full, None, created, checked)
    except sqlite3.DatabaseError as exc:
        raise database_error(exc, path) from exc
    finally:
        conn.close()


def scores(
    db: Db = None,
    trace_id: str | None = None,
    name: str | None = None,
    run: str | None = None,
) -> list[ScoreRecord]:
    """Stored scores, oldest first, filtered by trace (id or unique prefix), score name and
    evaluation run (id, unique id prefix or name)."""
    where: list[str] = []
    params: list[object] = []
    with connection(db) as conn:
        if trace_id is not None:
            where.append("trace_id = ?")
            params.append(resolve_trace(executor(conn), trace_id, "the file"))
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if run is not None:
            where.append("run_id = ?")
            params.append(resolve_run(executor(conn), run))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM scores{clause} ORDER BY created_ns, id", params
        ).fetchall()
    return [ScoreRecord.from_row(row) for row in rows]
