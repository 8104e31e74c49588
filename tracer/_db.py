"""Opening the SQLite file: for writing (create, 0600, WAL, migrate) or for reading (never create).

Every failure mode of a file someone hands us (missing, not SQLite, SQLite but not ours,
corrupt, too new) becomes one ``DatabaseError`` subclass with a message naming the file, so the
CLI can print one line and the exporter one warning.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from spyglass.errors import (
    CorruptDatabase,
    DatabaseError,
    DatabaseNotFound,
    NotASpyglassDatabase,
)
from spyglass.tracer._schema import (
    MIGRATIONS_TABLE,
    applied_migrations,
    migrate,
    pending_migrations,
)

BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous = NORMAL")


def database_error(error: sqlite3.DatabaseError, path: str | os.PathLike[str]) -> DatabaseError:
    """The ``DatabaseError`` subclass for an error SQLite raised on ``path`` (raise it
    ``from`` the original): every reader and writer of the file translates through here."""
    text = str(error)
    if "malformed" in text or "corrupt" in text:
        return CorruptDatabase(f"{path} is corrupt: {text}")
    if "not a database" in text or "encrypted" in text:
        return NotASpyglassDatabase(f"{path} is not a SQLite database")
    return DatabaseError(f"cannot use {path}: {text}")


def _create_private(path: Path) -> None:
    """Create the file with mode 0600 before SQLite opens it (WAL and SHM inherit the mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


def open_for_write(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating if needed) and migrate; the connection is in autocommit mode.

    The caller owns the connection and must not carry it across ``fork()``.
    """
    file = Path(path)
    if file.is_dir():
        raise DatabaseError(f"{file} is a directory, not a database file")
    if not file.exists():
        _create_private(file)
    try:
        conn = sqlite3.connect(file, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open {file}: {exc}") from exc
    try:
        _configure(conn)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # Fewer, larger checkpoints (16 MB of WAL rather than 4 MB) cost less per span. A larger
        # page cache was ~5% faster still but grew the writer's memory by 64 MB: not worth it.
        conn.execute("PRAGMA wal_autocheckpoint = 4000")
        _check_ours(conn, file, allow_blank=True)
        migrate(conn, str(file))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise database_error(exc, file) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def open_for_read(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open an existing spyglass file read-only; never creates or changes a file (but migrates
    a file written by an older spyglass, which is the one write a reader makes)."""
    file = Path(path)
    if not file.exists():
        raise DatabaseNotFound(
            f"no database at {file} (run your app with spyglass.autolog() first)"
        )
    if file.is_dir():
        raise DatabaseError(f"{file} is a directory, not a database file")
    with open(file, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        what = "empty" if not header else "not a SQLite database"
        raise NotASpyglassDatabase(f"{file} is {what}, not a spyglass database")
    try:
        conn = sqlite3.connect(
            f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        _configure(conn)
        _check_ours(conn, file, allow_blank=False)
        if pending_migrations(conn, str(file)):
            conn.close()
            open_for_write(file).close()
            conn = sqlite3.connect(
                f"{file.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            _configure(conn)
    except sqlite3.DatabaseError as exc:
        raise database_error(exc, file) from exc
    return conn


def _check_ours(conn: sqlite3.Connection, file: Path, *, allow_blank: bool) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if MIGRATIONS_TABLE in tables:
        applied_migrations(conn)
        pending_migrations(conn, str(file))
        return
    if tables or not allow_blank:
        raise NotASpyglassDatabase(f"{file} is a SQLite database, but not a spyglass one")
