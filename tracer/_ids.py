"""Ids as people type them: a whole trace, span or run id, or a unique prefix of one.

One copy of the rules for every reader (``Store.trace``, ``spyglass.score``, the scores
filters, ``spyglass eval show``): ids are lower-case hexadecimal; a prefix matches the ids in
``[prefix, prefix + "g")`` (an index range scan, never a ``LIKE``); no match and several
matches are errors that say which. ``query`` is the caller's way to run SQL (a locked store
connection, a plain one), so each reader keeps its own locking and error translation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from spyglass.errors import AmbiguousTraceId, RunNotFound, TraceNotFound

HEX = re.compile(r"^[0-9a-f]+$")
Query = Callable[[str, tuple[object, ...]], list[tuple[Any, ...]]]


def hex_prefix(text: object) -> str | None:
    """``text`` stripped and lower-cased if it is hexadecimal digits, else None."""
    prefix = str(text).strip().lower()
    return prefix if prefix and HEX.match(prefix) else None


def resolve_trace(query: Query, trace_id: object, where: object) -> str:
    """The full id of the one trace whose id starts with ``trace_id`` (``where``: the file,
    for the message)."""
    prefix = hex_prefix(trace_id)
    if prefix is None:
        raise TraceNotFound(f"{trace_id!r} is not a trace id (hexadecimal digits)")
    rows = query(
        "SELECT trace_id FROM traces WHERE trace_id >= ? AND trace_id < ? ORDER BY trace_id "
        "LIMIT 6",
        (prefix, prefix + "g"),
    )
    if not rows:
        raise TraceNotFound(f"no trace with id {prefix} in {where}")
    if len(rows) > 1:
        shown = ", ".join(row[0][:12] for row in rows[:5])
        raise AmbiguousTraceId(f"{prefix} matches several traces ({shown}, ...); give more digits")
    return str(rows[0][0])


def resolve_span(query: Query, trace_id: str, span_id: object) -> str:
    """The full id of the one span of ``trace_id`` whose id starts with ``span_id``."""
    prefix = hex_prefix(span_id)
    rows = (
        query(
            "SELECT span_id FROM spans WHERE trace_id = ? AND span_id >= ? AND span_id < ? LIMIT 2",
            (trace_id, prefix, prefix + "g"),
        )
        if prefix is not None
        else []
    )
    if len(rows) != 1:
        problem = "no span" if not rows else "several spans"
        raise TraceNotFound(f"{problem} with id {span_id!r} in trace {trace_id[:12]}")
    return str(rows[0][0])


def resolve_run(query: Query, run: object) -> str:
    """The id of the evaluation run named by ``run``: an id, a name (the newest run of that
    name), or a unique id prefix, in that order."""
    text = str(run).strip()
    if not text:
        raise RunNotFound("the run id or name is empty")
    exact = query("SELECT run_id FROM eval_runs WHERE run_id = ?", (text,))
    if exact:
        return str(exact[0][0])
    named = query(
        "SELECT run_id FROM eval_runs WHERE name = ? ORDER BY started_ns DESC LIMIT 1", (text,)
    )
    if named:
        return str(named[0][0])
    prefix = hex_prefix(text)
    rows = (
        query(
            "SELECT run_id FROM eval_runs WHERE run_id >= ? AND run_id < ? LIMIT 6",
            (prefix, prefix + "g"),
        )
        if prefix is not None
        else []
    )
    if len(rows) == 1:
        return str(rows[0][0])
    if rows:
        shown = ", ".join(str(r[0]) for r in rows[:5])
        raise RunNotFound(f"{text} matches several runs ({shown}); give more digits")
    raise RunNotFound(f"no evaluation run with id or name {text!r} (see `spyglass eval list`)")


def executor(conn: Any) -> Query:
    """``query`` over a plain ``sqlite3`` connection."""
    return lambda sql, params: conn.execute(sql, params).fetchall()
