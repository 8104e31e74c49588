"""Evaluation runs in the SQLite file: writing a run as it goes, reading runs back.

A run row is written when the run starts (status ``running``), its examples and their scores
in batches as they are scored (each batch one ``BEGIN IMMEDIATE`` transaction, so a killed run
keeps what it finished), and the metrics when it ends (``completed``, or ``failed`` if it was
interrupted). A run is named by its id, a unique id prefix, or its name (the newest run of
that name), in that order.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from spyglass.evaluation._records import EvalRow, RunInfo
from spyglass.tracer._db import database_error
from spyglass.tracer._ids import executor
from spyglass.tracer._ids import resolve_run as _resolve_run
from spyglass.tracer._score_types import Score
from spyglass.tracer._scores import COLUMNS as SCORE_COLUMNS
from spyglass.tracer._scores import ScoreRecord, insert_scores, score_row
from spyglass.tracer._serialize import to_json

_RUN_COLUMNS = (
    "run_id, name, project, dataset_name, dataset_hash, example_count, target, evaluators, "
    "status, started_ns, ended_ns, prompt_versions, metrics"
)
_RESULT_COLUMNS = (
    "position, example_key, trace_id, inputs, output, expected, expected_doc_ids, error, latency_ms"
)


def new_run_id() -> str:
    return secrets.token_hex(8)


def _dumps(value: object) -> str:
    return to_json(value)


def _loads(text: str | None) -> object:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@contextmanager
def transaction(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError as exc:
        raise database_error(exc, path) from exc


def start_run(conn: sqlite3.Connection, path: Path, run: RunInfo) -> None:
    with transaction(conn, path):
        conn.execute(
            f"INSERT INTO eval_runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * 13)})",
            (
                run.run_id,
                run.name,
                run.project,
                run.dataset_name,
                run.dataset_hash,
                run.example_count,
                run.target,
                json.dumps([dict(e) for e in run.evaluators]),
                run.status,
                run.started_ns,
                None,
                None,
                None,
            ),
        )


def write_rows(
    conn: sqlite3.Connection, path: Path, run_id: str, rows: Sequence[EvalRow], now_ns: int
) -> None:
    """Store finished examples and their scores (scores only for examples with a trace)."""
    with transaction(conn, path):
        conn.executemany(
            f"INSERT OR REPLACE INTO eval_results (run_id, {_RESULT_COLUMNS}) "
            f"VALUES ({', '.join('?' * 10)})",
            [
                (
                    run_id,
                    row.position,
                    row.example_key,
                    row.trace_id,
                    _dumps(row.inputs),
                    _dumps(row.output),
                    _dumps(row.expected),
                    None if row.expected_doc_ids is None else json.dumps(row.expected_doc_ids),
                    row.error,
                    row.latency_ms,
                )
                for row in rows
            ],
        )
        insert_scores(
            conn,
            [
                score_row(row.trace_id, score, run_id, now_ns)
                for row in rows
                if row.trace_id is not None
                for score in row.scores.values()
            ],
        )


def finish_run(
    conn: sqlite3.Connection,
    path: Path,
    run_id: str,
    *,
    status: str,
    ended_ns: int,
    prompt_versions: Sequence[str] = (),
    metrics: Mapping[str, object] | None = None,
) -> None:
    with transaction(conn, path):
        conn.execute(
            "UPDATE eval_runs SET status = ?, ended_ns = ?, prompt_versions = ?, metrics = ? "
            "WHERE run_id = ?",
            (
                status,
                ended_ns,
                json.dumps(list(prompt_versions)),
                json.dumps(metrics) if metrics is not None else None,
                run_id,
            ),
        )


def _run_from_row(row: Sequence[object]) -> RunInfo:
    evaluators = _loads(row[7])  # type: ignore[arg-type]
    versions = _loads(row[11])  # type: ignore[arg-type]
    metrics = _loads(row[12])  # type: ignore[arg-type]
    return RunInfo(
        run_id=str(row[0]),
        name=str(row[1]),
        project=row[2],  # type: ignore[arg-type]
        dataset_name=row[3],  # type: ignore[arg-type]
        dataset_hash=row[4],  # type: ignore[arg-type]
        example_count=int(row[5]),  # type: ignore[call-overload]
        target=row[6],  # type: ignore[arg-type]
        evaluators=tuple(evaluators) if isinstance(evaluators, list) else (),
        status=str(row[8]),
        started_ns=int(row[9]),  # type: ignore[call-overload]
        ended_ns=None if row[10] is None else int(row[10]),  # type: ignore[call-overload]
        prompt_versions=tuple(versions) if isinstance(versions, list) else (),
        metrics=metrics if isinstance(metrics, dict) else {},
    )


def resolve_run(conn: sqlite3.Connection, run: str) -> str:
    """The id of the run named by ``run``: an id, a name (the newest), or a unique id prefix."""
    return _resolve_run(executor(conn), run)


def get_run(conn: sqlite3.Connection, run: str) -> RunInfo:
    run_id = resolve_run(conn, run)
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM eval_runs WHERE run_id = ?", (run_id,))
    return _run_from_row(row.fetchone())


def list_runs(conn: sqlite3.Connection, limit: int = 20) -> list[RunInfo]:
    """Newest runs first."""
    rows = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM eval_runs ORDER BY started_ns DESC LIMIT ?", (limit,)
    )
    return [_run_from_row(row) for row in rows.fetchall()]


def load_rows(conn: sqlite3.Connection, run_id: str) -> list[EvalRow]:
    """The run's examples in dataset order, each with its scores by name."""
    scores: dict[str, dict[str, Score]] = {}
    for row in conn.execute(
        f"SELECT {SCORE_COLUMNS} FROM scores WHERE run_id = ? ORDER BY id", (run_id,)
    ):
        record = ScoreRecord.from_row(row)
        scores.setdefault(record.trace_id, {})[record.score.name] = record.score
    out = []
    for row in conn.execute(
        f"SELECT {_RESULT_COLUMNS} FROM eval_results WHERE run_id = ? ORDER BY position",
        (run_id,),
    ):
        ids = _loads(row[6])
        out.append(
            EvalRow(
                position=row[0],
                example_key=row[1],
                trace_id=row[2],
                inputs=_loads(row[3]),
                output=_loads(row[4]),
                expected=_loads(row[5]),
                expected_doc_ids=tuple(ids) if isinstance(ids, list) else None,
                scores=scores.get(row[2], {}) if row[2] else {},
                error=row[7],
                latency_ms=row[8],
            )
        )
    return out
