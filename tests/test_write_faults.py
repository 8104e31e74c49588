"""The file under the exporter changes while the program runs: deleted, read-only at start,
its -shm made immutable. Each costs one warning and no span that the file can take again.

As in ``test_reliability``: real files, real subprocesses where a crash is the fault (SIGBUS),
and no assertion that depends on timing. Making a file read-only or immutable needs root and a
file system that keeps the immutable attribute; where that is impossible the test says so and
skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_reliability import (
    _seed,
    _sh,
    _traced_program,
    assert_consistent,
    run_python,
    scalar,
    spyglass_warnings,
)

import spyglass

# --- a lone surrogate, end to end ---------------------------------------------------------------

LISTDIR = """
import os, sys
import spyglass

spyglass.autolog(db=sys.argv[1], integrations=())
name = os.fsdecode(b"caf\\xe9.txt")  # what os.listdir gives for a Latin-1 file name
with spyglass.trace(name) as span:
    span.set_attribute("file", name)
for i in range(1000):
    with spyglass.trace("later"):
        pass
print("done")
"""


def test_a_surrogate_span_name_costs_no_later_span_in_a_program_that_just_exits(
    tmp_path: Path,
) -> None:
    db = tmp_path / "listdir.db"
    result = run_python(LISTDIR, db)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert "spyglass" not in result.stderr.replace(str(db), "")  # no warning
    assert scalar(db, "SELECT count(*) FROM spans") == 1001
    conn = sqlite3.connect(db)
    try:
        names = conn.execute("SELECT name FROM spans WHERE name != 'later'").fetchall()
    finally:
        conn.close()
    assert names == [("caf\ufffd.txt",)]
    assert_consistent(db)


# --- the file deleted while in use --------------------------------------------------------------


def _trace(count: int, name: str) -> None:
    for _ in range(count):
        with spyglass.trace(name):
            pass


@pytest.mark.parametrize("removed", [("",), ("", "-wal", "-shm")], ids=["db", "db-wal-shm"])
def test_a_deleted_database_is_created_again_with_one_warning(
    traced: Path, caplog: pytest.LogCaptureFixture, removed: tuple[str, ...]
) -> None:
    _trace(100, "before")
    assert spyglass.flush() is True
    caplog.clear()
    for suffix in removed:
        Path(f"{traced}{suffix}").unlink()
    _trace(100, "after")
    assert spyglass.flush() is True  # true because the spans are in the file at the path
    assert scalar(traced, "SELECT count(*) FROM spans WHERE name = 'after'") == 100
    assert scalar(traced, "SELECT count(*) FROM spans") == 100  # the old ones went with it
    assert_consistent(traced)
    warnings = spyglass_warnings(caplog)
    assert len(warnings) == 1 and "deleted or replaced" in warnings[0], warnings
    _trace(10, "more")
    assert spyglass.flush() is True
    assert scalar(traced, "SELECT count(*) FROM spans") == 110
    assert len(spyglass_warnings(caplog)) == 1


def test_a_database_moved_away_keeps_its_spans_and_a_new_one_takes_the_rest(
    traced: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _trace(50, "before")
    assert spyglass.flush() is True
    moved = traced.with_name("archive.db")
    traced.rename(moved)
    _trace(70, "after")
    assert spyglass.flush() is True
    assert scalar(traced, "SELECT count(*) FROM spans") == 70
    spyglass.autolog(disable=True)
    assert scalar(moved, "SELECT count(*) FROM spans") == 50
    assert_consistent(traced)
    assert_consistent(moved)
    assert len(spyglass_warnings(caplog)) == 1


# --- read-only at start -------------------------------------------------------------------------


@contextlib.contextmanager
def _read_only_file(db: Path) -> Iterator[Callable[[], None]]:
    """Make the database file itself read-only (its directory stays writable): chmod for a
    user, the immutable attribute for root (whom chmod does not stop). Yields the undo."""
    root = os.geteuid() == 0

    def make_writable() -> None:
        if root:
            _sh("chattr", "-i", str(db))
        else:
            db.chmod(0o600)

    if not root:
        db.chmod(0o400)
    elif not (shutil.which("chattr") and _sh("chattr", "+i", str(db))):
        pytest.skip("running as root where chattr +i does not work: cannot make a file read-only")
    try:
        yield make_writable
    finally:
        spyglass.autolog(disable=True)
        make_writable()


def test_a_database_read_only_at_start_is_written_once_writable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "traces.db"
    _seed(db)
    with _read_only_file(db) as make_writable:
        caplog.clear()
        spyglass.autolog(db=db, integrations=())
        made = _traced_program(50)
        assert spyglass.flush(timeout=30) is False
        warnings = spyglass_warnings(caplog)
        assert len(warnings) == 1 and str(db) in warnings[0], warnings
        make_writable()
        assert spyglass.flush(timeout=30) is True  # held, and retried through a new connection
        assert scalar(db, "SELECT count(*) FROM spans") == 2 + made
        assert len(spyglass_warnings(caplog)) == 1
    assert_consistent(db)


# --- an immutable -shm --------------------------------------------------------------------------

IMMUTABLE_SHM = """
import logging, subprocess, sys
import spyglass
from spyglass.errors import DatabaseError

logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
db = sys.argv[1]
shm = db + "-shm"
spyglass.autolog(db=db, integrations=())
with spyglass.trace("seed"):
    pass
assert spyglass.flush()
store = spyglass.Store(db)  # a reader in the same process maps the same -shm
assert len(store.traces()) == 1
subprocess.run(["chattr", "+i", shm], check=True)
print("immutable", flush=True)
for i in range(2000):
    with spyglass.trace("step") as span:
        span.set_output("x" * 500)
print("flush while immutable:", spyglass.flush(timeout=30), flush=True)
try:
    store.traces()
except DatabaseError as exc:
    print("reader:", exc, flush=True)
reader = subprocess.run(  # the CLI, as a user would run it beside the program
    [sys.executable, "-c", "from spyglass.cli import main; main()", "traces", "--db", db],
    capture_output=True,
    text=True,
)
print("cli:", reader.returncode, reader.stderr.strip(), flush=True)
if sys.argv[2] == "restore":
    subprocess.run(["chattr", "-i", shm], check=True)
    print("flush when writable:", spyglass.flush(timeout=30), flush=True)
    print("reader again:", store.span_count(), flush=True)
print("exiting", flush=True)
"""


@contextlib.contextmanager
def _chattr_works(directory: Path) -> Iterator[None]:
    """Skip unless this process can set the immutable attribute here; always clear it after."""
    probe = directory / "probe"
    probe.touch()
    if os.geteuid() != 0 or not shutil.which("chattr") or not _sh("chattr", "+i", str(probe)):
        pytest.skip("chattr +i needs root and a file system that supports it (ext4, xfs, ...)")
    _sh("chattr", "-i", str(probe))
    try:
        yield
    finally:
        for path in directory.iterdir():
            _sh("chattr", "-i", str(path))


@pytest.mark.parametrize("ending", ["restore", "exit"])
def test_an_immutable_shm_costs_one_warning_not_the_process(tmp_path: Path, ending: str) -> None:
    db = tmp_path / "traces.db"
    with _chattr_works(tmp_path):
        result = run_python(IMMUTABLE_SHM, db, ending)
    assert result.returncode == 0, (  # SIGBUS would be -7
        f"exit {result.returncode} ({signal.Signals(-result.returncode).name})"
        if result.returncode < 0
        else result.stderr
    )
    lines = result.stdout.splitlines()
    assert lines[:2] == ["immutable", "flush while immutable: False"]
    assert lines[2].startswith("reader: ") and "-shm is read-only or immutable" in lines[2]
    assert lines[3].startswith("cli: 1 spyglass: error: ") and "\n" not in lines[3]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("spyglass:")]
    assert "-shm is read-only or immutable" in warnings[0]
    if ending == "restore":
        assert lines[4:] == ["flush when writable: True", "reader again: 2001", "exiting"]
        assert len(warnings) == 1, result.stderr
        assert scalar(db, "SELECT count(*) FROM spans") == 2001
        assert_consistent(db)
    else:  # the program ends while the file is immutable: it says so, and exits normally
        assert lines[4:] == ["exiting"]
        assert len(warnings) == 2 and "lost 2000 spans" in warnings[1], warnings
        assert scalar(db, "SELECT count(*) FROM spans") == 1
        assert_consistent(db)


def test_a_process_started_after_the_shm_turned_immutable_writes_once_it_is_not(
    tmp_path: Path,
) -> None:
    db = tmp_path / "traces.db"
    _seed(db)
    holder = sqlite3.connect(db)  # keeps -shm in place, as a running viewer would
    holder.execute("SELECT count(*) FROM spans").fetchall()
    script = """
import logging, subprocess, sys
import spyglass
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
spyglass.autolog(db=sys.argv[1], integrations=())
for i in range(100):
    with spyglass.trace("step"):
        pass
print(spyglass.flush(timeout=30), flush=True)
subprocess.run(["chattr", "-i", sys.argv[1] + "-shm"], check=True)
print(spyglass.flush(timeout=30), flush=True)
"""
    try:
        with _chattr_works(tmp_path):
            assert _sh("chattr", "+i", f"{db}-shm")
            result = run_python(script, db)
    finally:
        holder.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
    assert len([ln for ln in result.stderr.splitlines() if ln.startswith("spyglass:")]) == 1
    assert scalar(db, "SELECT count(*) FROM spans") == 102


def test_close_safely_closes_a_connection_whose_shm_is_writable(tmp_path: Path) -> None:
    from spyglass.tracer._db import close_safely, open_for_write

    conn = open_for_write(tmp_path / "t.db")
    close_safely(conn, tmp_path / "t.db")
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")
    assert not Path(f"{tmp_path / 't.db'}-wal").exists()  # closed normally: WAL checkpointed
