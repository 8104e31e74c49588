"""The SQL that writes a batch: rows go in many per statement.

``INSERT ... VALUES (...), (...), ...`` rather than one ``executemany`` step each. Python's
sqlite3 lets go of the GIL around every step and must win it back from the traced program's
thread afterwards; when that thread is busy, each hand-off waits for the interpreter's switch
interval. Row by row, a thousand spans took 16 s to write next to a program running Python
(63 spans/s: the queue fills and the program ends up waiting on it); 256 rows a statement wrote
them in 0.35 s (``benchmarks/writer_contention.py``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from spyglass.tracer._rows import SPAN_COLUMNS

INSERT_SPAN = (
    f"INSERT OR IGNORE INTO spans (id, {', '.join(SPAN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(SPAN_COLUMNS) + 1))})"
)
INSERT_DOCUMENT = (
    "INSERT OR IGNORE INTO documents "
    "(span_row, position, trace_id, doc_id, score, content, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_SEARCH = "INSERT INTO search (rowid, text) VALUES (?, ?)"

#: Rows per multi-row statement (at most; SQLite's variable limit may allow fewer). Beside a
#: busy program, 256 wrote a batch in two thirds of the time 64 took, at the same CPU
#: (``benchmarks/writer_contention.py``); larger statements cost more to compile.
ROWS_PER_STATEMENT = 256
_multi_row_sql: dict[tuple[str, int], str] = {}


def multi_row(statement: str, count: int) -> str:
    """``statement`` (one ``VALUES (...)`` row, maybe an ``ON CONFLICT`` tail), ``count`` times."""
    key = (statement, count)
    sql = _multi_row_sql.get(key)
    if sql is None:
        head, _, rest = statement.partition("VALUES")
        row, _, tail = rest.partition(")")
        sql = f"{head}VALUES {', '.join([row.strip() + ')'] * count)}{tail}"
        _multi_row_sql[key] = sql
    return sql


def insert(conn: sqlite3.Connection, statement: str, rows: Sequence[Sequence[object]]) -> None:
    """Every row of ``rows``, in as few statements as the variable limit allows.

    Chunks are ``ROWS_PER_STATEMENT`` rows, then powers of two for the rest, so each size's
    SQL is compiled once and stays in the connection's statement cache.
    """
    if not rows:
        return
    width = len(rows[0])
    limit = max(1, min(ROWS_PER_STATEMENT, variable_limit(conn) // width))
    start, total = 0, len(rows)
    while start < total:
        size = limit
        while size > total - start:
            size //= 2
        chunk = rows[start : start + size]
        conn.execute(multi_row(statement, size), [value for row in chunk for value in row])
        start += size


def variable_limit(conn: sqlite3.Connection) -> int:
    """How many ``?`` one statement may hold (999 in old SQLite builds, 32,766 since 3.32)."""
    try:
        return conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # Python < 3.11
        return 999
