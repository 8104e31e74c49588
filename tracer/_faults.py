"""What a failed write means, and how one bad span is kept from holding up the others.

A write fails for one of two reasons. **The database** (locked past the busy timeout,
read-only, full, corrupt, gone): every span would fail alike, so the exporter keeps them and
retries, warning once. **The rows** (a value SQLite will not bind: text that is not valid
UTF-8, an integer past 64 bits, a type it does not know, a constraint): retrying the batch would
fail forever and hold up every span behind it, so ``write_isolating`` writes the batch in halves
until it finds the rows that fail alone, and drops only those. ``span_to_row`` already makes
values storable; this is the second line of defence. The search costs about two writes per
level of halving for each bad row, and nothing for a batch that goes in at once.

After a database failure the connection is kept only when the fault lies elsewhere (another
writer holds the lock, the disk is full). Otherwise it is closed and the next attempt opens a
new one: SQLite opens a file it may not write read-only, and that connection never writes
again, not even once the file has been made writable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from spyglass.errors import DatabaseError
from spyglass.tracer._db import FilesUnwritable

Row = TypeVar("Row")

#: sqlite3 errors about a row's values, not about the database.
_ROW_ERRORS = (sqlite3.DataError, sqlite3.IntegrityError, sqlite3.InterfaceError)
#: Result codes after which the connection is kept.
_KEEP_CONNECTION = frozenset({5, 6, 13})  # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL


def fault_reason(exc: BaseException, path: object) -> str:
    """Why a write to ``path`` failed, without naming ``path`` again (the warning names it):
    ``database is locked``, ``the file is corrupt: database disk image is malformed``."""
    reason = str(exc) or type(exc).__name__
    for prefix in (f"cannot use {path}: ", f"cannot open {path}: "):
        if reason.startswith(prefix):
            return reason[len(prefix) :]
    return reason.replace(str(path), "the file")


def kind(exc: BaseException) -> str:
    """``"database"`` for a fault of the database or its files, ``"row"`` for one of the data."""
    if isinstance(exc, _ROW_ERRORS) or (
        isinstance(exc, sqlite3.ProgrammingError) and "binding" in str(exc)
    ):
        return "row"
    return "database" if isinstance(exc, (sqlite3.Error, DatabaseError, OSError)) else "row"


def keeps_connection(exc: BaseException) -> bool:
    """Whether the connection may be used again after ``exc``."""
    if isinstance(exc, FilesUnwritable):
        return True  # closing would write to the mapped -shm; it is used again once writable
    if not isinstance(exc, sqlite3.Error):
        return kind(exc) == "row"
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return code & 0xFF in _KEEP_CONNECTION or kind(exc) == "row"
    text = str(exc)
    return kind(exc) == "row" or any(word in text for word in ("locked", "busy", "full"))


def write_isolating(
    write: Callable[[list[Row]], None],
    batch: list[Row],
    reject: Callable[[Row, Exception], None],
) -> tuple[list[Row], Exception] | None:
    """``write(batch)``, or, when the rows are at fault, its halves, down to the single rows
    that fail, which go to ``reject``. Returns None when every row was written or rejected, or
    the rows still unwritten (oldest first) and the database's error. Never raises."""
    parts: list[list[Row]] = [batch]
    while parts:
        part = parts.pop()
        try:
            write(part)
        except Exception as exc:  # the host program must never see this
            if kind(exc) == "database":
                return [*part, *(row for rest in reversed(parts) for row in rest)], exc
            if len(part) == 1:
                reject(part[0], exc)
            else:
                half = len(part) // 2
                parts += [part[half:], part[:half]]  # the older half is written first
    return None
