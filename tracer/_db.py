"""Opening the SQLite file: for writing (create, 0600, WAL, migrate) or for reading (never create).

Every failure mode of a file someone hands us (missing, not SQLite, SQLite but not ours,
corrupt, too new) becomes one ``DatabaseError`` subclass with a message naming the file, so the
CLI can print one line and the exporter one warning.

**The -shm file and SIGBUS.** In WAL mode SQLite maps ``<db>-shm`` into memory, shared and
writable, and writes to it on every read and write transaction and on close. If the file
becomes unwritable while mapped (``chattr +i``), the kernel answers the next write to a mapped
page with SIGBUS, which kills the process: SQLite gets no error to return. So whoever is about
to let SQLite touch the file checks first (``check_companions``: one ``access()`` call each for
-shm and -wal) and raises a ``FilesUnwritable`` instead; and a connection whose -shm is
unwritable is never closed (``close_safely`` keeps it open until the process ends, when the
kernel drops the mapping without writing to it). A process that opens the file while the -shm
is already unwritable gets a read-only mapping from SQLite and is safe; the check still refuses
a writer, since SQLite shares one mapping among the connections of a process.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
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

logger = logging.getLogger("spyglass")


class FilesUnwritable(DatabaseError):
    """The -shm or -wal file of a database exists but cannot be written (read-only, immutable)."""


def _unwritable_companion(path: Path, suffixes: tuple[str, ...]) -> Path | None:
    for suffix in suffixes:
        companion = f"{path}{suffix}"
        # access() first: the common case (writable) costs one system call.
        if not os.access(companion, os.W_OK) and os.path.exists(companion):
            return Path(companion)
    return None


def check_companions(path: str | os.PathLike[str]) -> None:
    """Raise ``FilesUnwritable`` if ``path``'s -shm or -wal exists and this process cannot write
    it: SQLite must not touch a mapped -shm then (see the module docstring)."""
    file = Path(path)
    bad = _unwritable_companion(file, ("-shm", "-wal"))
    if bad is not None and not _restore_mode(bad, file):
        raise FilesUnwritable(
            f"{bad} is read-only or immutable; spyglass leaves {file} alone until it is writable"
        )


def _restore_mode(companion: Path, file: Path) -> bool:
    """Give our own ``companion`` the mode of the writable database ``file`` again; whether it
    is writable now. SQLite creates -shm and -wal with the database's mode, so opening a
    read-only database leaves a read-only -shm behind, which would keep SQLite from writing
    after the database is made writable again. (Immutable files refuse the chmod.)"""
    if not hasattr(os, "getuid"):  # Windows: no owner to compare
        return False
    try:
        if companion.stat().st_uid != os.getuid() or not os.access(file, os.W_OK):
            return False
        companion.chmod(stat.S_IMODE(file.stat().st_mode))
    except OSError:
        return False
    return os.access(companion, os.W_OK)


def check_shared_memory_for_read(path: Path, *, mapped_writable: bool) -> None:
    """For a reader: raise ``FilesUnwritable`` when the -shm is unwritable and SQLite may hold it
    mapped writable: it did if it was writable when this reader opened (``mapped_writable``),
    and may through a writer in this process if the database file itself is writable. A reader
    of a file it may not write (another user's, a read-only copy) reads on, as SQLite allows."""
    shm = f"{path}-shm"
    if os.access(shm, os.W_OK) or not os.path.exists(shm):
        return
    if mapped_writable or os.access(path, os.W_OK):
        raise FilesUnwritable(
            f"cannot read {path}: {shm} is read-only or immutable; make it writable again "
            "(chattr -i, chmod u+w)"
        )


def shared_memory_writable(path: str | os.PathLike[str]) -> bool:
    """Whether ``path``'s -shm can be written (or does not exist)."""
    return _unwritable_companion(Path(path), ("-shm",)) is None


def close_safely(conn: sqlite3.Connection, path: str | os.PathLike[str]) -> None:
    """Close ``conn``, unless the -shm it maps has become unwritable: closing writes to the
    mapping (a checkpoint), which would be SIGBUS. Such a connection stays open until the
    process exits; an extra reference that nobody releases keeps the interpreter's teardown from
    closing it either. One leaked connection per such event, which needs ``chattr +i``."""
    if shared_memory_writable(path):
        conn.close()
        return
    logger.debug("spyglass keeps a connection to %s open: its -shm is not writable", path)
    try:
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(conn))
    except (ImportError, AttributeError):  # not CPython: keep it referenced at least
        _kept_open.append(conn)


_kept_open: list[sqlite3.Connection] = []


def file_identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """``(device, inode)`` of the file at ``path`` now; None if there is none."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return info.st_dev, info.st_ino


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous = NORMAL")


def _translate(error: sqlite3.DatabaseError, path: Path) -> DatabaseError:
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
    check_companions(file)
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
        raise _translate(exc, file) from exc
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
    check_shared_memory_for_read(file, mapped_writable=False)
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
        raise _translate(exc, file) from exc
    return conn


def _check_ours(conn: sqlite3.Connection, file: Path, *, allow_blank: bool) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if MIGRATIONS_TABLE in tables:
        applied_migrations(conn)
        pending_migrations(conn, str(file))
        return
    if tables or not allow_blank:
        raise NotASpyglassDatabase(f"{file} is a SQLite database, but not a spyglass one")
