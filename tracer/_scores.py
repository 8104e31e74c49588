"""Scores stored beside the traces: ``spyglass.score()`` and the read functions others call.

One ``scores`` row per judgement (migration ``006_scores``). A ``Score`` is written as
``kind`` + ``value`` (number; a bool as 1 / 0) + ``label`` and read back as it was given, so a
human's ``"good"``, a code evaluator's ``True`` and a judge's ``0.75`` / ``PASS`` all round-trip.

``score()`` is for feedback after the fact (a human, a script): it flushes the active pipeline
first, so a trace that just ended is found, and validates the trace (id or unique prefix) and
span. The read functions take a path or an open connection (the store and the registry pass
their own): ``scores`` (filtered list), ``mean_scores_for_traces`` (the prompt diff's
per-version columns), ``score_summary`` (``spyglass stats``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from spyglass._eval_types import (
    FAIL_LABELS,
    PASS_LABELS,
    PASS_THRESHOLD,
    Score,
    Source,
    check_name,
    check_source,
    check_value,
)
from spyglass._trace_facts import chunks
from spyglass.errors import AmbiguousTraceId, DatabaseNotFound, TraceNotFound

Db = str | os.PathLike[str] | sqlite3.Connection | None

_HEX = re.compile(r"^[0-9a-f]+$")
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
        from spyglass.tracer._records import iso

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
    from spyglass.tracer._db import open_for_read

    if db is None:  # _runtime loads the OTel SDK: read commands that name a file skip it
        from spyglass.tracer._runtime import default_db

        db = default_db()
    conn = open_for_read(Path(db))
    try:
        yield conn
    finally:
        conn.close()


def resolve_trace(conn: sqlite3.Connection, trace_id: str, where: object) -> str:
    """The full id of the one trace starting with ``trace_id`` (as ``Store.resolve``)."""
    prefix = str(trace_id).strip().lower()
    if not prefix or not _HEX.match(prefix):
        raise TraceNotFound(f"{trace_id!r} is not a trace id (hexadecimal digits)")
    rows = conn.execute(
        "SELECT trace_id FROM traces WHERE trace_id >= ? AND trace_id < ? ORDER BY trace_id "
        "LIMIT 6",
        (prefix, prefix + "g"),
    ).fetchall()
    if not rows:
        raise TraceNotFound(f"no trace with id {prefix} in {where}")
    if len(rows) > 1:
        shown = ", ".join(row[0][:12] for row in rows[:5])
        raise AmbiguousTraceId(f"{prefix} matches several traces ({shown}, ...); give more digits")
    return str(rows[0][0])


def _resolve_span(conn: sqlite3.Connection, trace_id: str, span_id: str) -> str:
    prefix = str(span_id).strip().lower()
    rows = (
        conn.execute(
            "SELECT span_id FROM spans WHERE trace_id = ? AND span_id >= ? AND span_id < ? LIMIT 2",
            (trace_id, prefix, prefix + "g"),
        ).fetchall()
        if prefix and _HEX.match(prefix)
        else []
    )
    if len(rows) != 1:
        problem = "no span" if not rows else "several spans"
        raise TraceNotFound(f"{problem} with id {span_id!r} in trace {trace_id[:12]}")
    return str(rows[0][0])


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
    from spyglass.tracer._runtime import default_db

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
    from spyglass.tracer._db import _translate, open_for_write

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
        full = resolve_trace(conn, trace_id, path)
        if span_id is not None:
            checked = replace(checked, span_id=_resolve_span(conn, full, span_id))
        created = time.time_ns()
        cursor = conn.execute(_INSERT, score_row(full, checked, None, created))
        return ScoreRecord(int(cursor.lastrowid or 0), full, None, created, checked)
    except sqlite3.DatabaseError as exc:
        raise _translate(exc, path) from exc
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
            params.append(resolve_trace(conn, trace_id, "the file"))
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if run is not None:
            from spyglass._eval_runs import resolve_run

            where.append("run_id = ?")
            params.append(resolve_run(conn, run))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM scores{clause} ORDER BY created_ns, id", params
        ).fetchall()
    return [ScoreRecord.from_row(row) for row in rows]


def mean_scores_for_traces(db: Db, trace_ids: Sequence[str]) -> dict[str, float]:
    """Mean value per score name over these traces' number and bool scores (a bool counts
    1 / 0; labels and failed evaluations are left out); names without a value are absent."""
    totals: dict[str, list[float]] = {}
    with connection(db) as conn:
        for chunk in chunks(sorted(set(trace_ids))):
            for name, total, count in conn.execute(
                "SELECT name, sum(value), count(value) FROM scores "
                f"WHERE trace_id IN ({', '.join('?' * len(chunk))}) AND value IS NOT NULL "
                "GROUP BY name",
                list(chunk),
            ):
                entry = totals.setdefault(name, [0.0, 0.0])
                entry[0] += total
                entry[1] += count
    return {name: total / count for name, (total, count) in sorted(totals.items()) if count}


def _labels(labels: Iterable[str]) -> str:
    return ", ".join(f"'{label}'" for label in sorted(labels))


#: ``Score.passed`` in SQL: 1 pass, 0 fail, NULL neither.
PASSED_SQL = f"""CASE
    WHEN kind = 'bool' THEN value = 1
    WHEN kind = 'number' AND value BETWEEN 0 AND 1 THEN value >= {PASS_THRESHOLD}
    WHEN lower(label) IN ({_labels(PASS_LABELS)}) THEN 1
    WHEN lower(label) IN ({_labels(FAIL_LABELS)}) THEN 0
END"""


@dataclass(frozen=True)
class ScoreSummary:
    """One score name across a file: how many, mean value, pass rate, failures, sources."""

    name: str
    count: int
    mean: float | None
    pass_rate: float | None
    failed: int
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "count": self.count,
            "mean": None if self.mean is None else round(self.mean, 4),
            "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 4),
            "failed": self.failed,
            "sources": list(self.sources),
        }


def score_summary(
    db: Db = None, since_ns: int | None = None, project: str | None = None
) -> list[ScoreSummary]:
    """Per score name, over scores written since ``since_ns`` (epoch ns) on traces of
    ``project``: for ``spyglass stats``."""
    where, params = ["1"], list[object]()
    if since_ns is not None:
        where.append("created_ns >= ?")
        params.append(since_ns)
    if project is not None:
        where.append("trace_id IN (SELECT trace_id FROM traces WHERE project = ?)")
        params.append(project)
    with connection(db) as conn:
        rows = conn.execute(
            f"SELECT name, count(*), avg(value), sum(value IS NULL AND kind != 'label'), "
            f"sum({PASSED_SQL}), count({PASSED_SQL}), group_concat(DISTINCT source) "
            f"FROM scores WHERE {' AND '.join(where)} GROUP BY name ORDER BY name",
            params,
        ).fetchall()
    return [
        ScoreSummary(
            name=name,
            count=count,
            mean=mean,
            pass_rate=passes / judged if judged else None,
            failed=failed or 0,
            sources=tuple(sorted(str(sources).split(","))),
        )
        for name, count, mean, failed, passes, judged, sources in rows
    ]
