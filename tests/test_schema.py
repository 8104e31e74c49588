"""Migrations: a blank file is migrated in order, recorded, and a newer file is refused."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from spyglass.errors import DatabaseTooNew, NotASpyglassDatabase
from spyglass.tracer._db import open_for_read, open_for_write
from spyglass.tracer._schema import MIGRATIONS, applied_migrations


def test_blank_file_is_migrated_in_order(db: Path) -> None:
    conn = open_for_write(db)
    assert applied_migrations(conn) == [name for name, _ in MIGRATIONS]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"spans", "traces", "documents", "search", "_spyglass_migrations"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_existing_empty_sqlite_file_is_migrated(db: Path) -> None:
    db.touch()
    open_for_write(db).close()
    assert applied_migrations(sqlite3.connect(db)) == [name for name, _ in MIGRATIONS]


def test_second_open_applies_nothing_and_keeps_data(db: Path) -> None:
    conn = open_for_write(db)
    conn.execute(
        "INSERT INTO traces (trace_id, project, start_ns, end_ns) VALUES ('ab', 'p', 1, 2)"
    )
    conn.close()
    conn = open_for_write(db)
    assert conn.execute("SELECT count(*) FROM traces").fetchone()[0] == 1
    assert len(applied_migrations(conn)) == len(MIGRATIONS)


def test_file_is_private(db: Path) -> None:
    open_for_write(db).close()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_newer_file_is_an_error(db: Path) -> None:
    conn = open_for_write(db)
    conn.execute("INSERT INTO _spyglass_migrations VALUES ('999_from_the_future', 'x')")
    conn.close()
    with pytest.raises(DatabaseTooNew, match="999_from_the_future"):
        open_for_write(db)
    with pytest.raises(DatabaseTooNew, match="newer spyglass"):
        open_for_read(db)


def test_foreign_sqlite_file_is_refused_and_untouched(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (x)")
    conn.execute("INSERT INTO notes VALUES (1)")
    conn.commit()
    conn.close()
    with pytest.raises(NotASpyglassDatabase):
        open_for_write(db)
    with pytest.raises(NotASpyglassDatabase):
        open_for_read(db)
    assert sqlite3.connect(db).execute("SELECT x FROM notes").fetchall() == [(1,)]
