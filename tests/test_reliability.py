"""The reliability rules of DESIGN.md, checked with real processes and real SQLite files.

Nothing finished is lost (concurrent writers, exit without flush, a 100,000-span burst), a killed
writer leaves a consistent file, a fork gets its own connection, and a database that fails
(locked, read-only, full, corrupt) costs the traced program one warning and nothing else.

Subprocess tests run ``sys.executable -c SCRIPT`` in their own session, so a hung grandchild
(a fork, a lock holder) is killed with its group rather than left behind. Read-only and full
disks are made real: as root (where chmod stops nothing) a read-only bind mount and a tiny
tmpfs; otherwise chmod. No assertion depends on timing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import spyglass
from spyglass.tracer import _runtime
from spyglass.tracer import attributes as A
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._processor import BlockingBatchProcessor

SUBPROCESS_TIMEOUT = 120.0  # generous: a shared 2-core machine; a hang still fails, not stalls

# --- helpers ------------------------------------------------------------------------------------


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str


def _start(code: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: forks and helpers die with it
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _finish(proc: subprocess.Popen[str], timeout: float = SUBPROCESS_TIMEOUT) -> Finished:
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        pytest.fail(f"subprocess hung for {timeout} s\nstdout:\n{stdout}\nstderr:\n{stderr}")
    _kill_group(proc)  # anything it left running
    return Finished(proc.returncode, stdout, stderr)


def run_python(code: str, *args: object, timeout: float = SUBPROCESS_TIMEOUT) -> Finished:
    return _finish(_start(code, *args), timeout)


def query(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def scalar(db: Path, sql: str) -> int:
    value = query(db, sql)[0][0]
    assert isinstance(value, int), value
    return value


def counts_by_name(db: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, n in query(db, "SELECT name, count(*) FROM spans GROUP BY name"):
        assert isinstance(name, str) and isinstance(n, int)
        counts[name] = n
    return counts


def assert_consistent(db: Path) -> None:
    """The file is sound, and the per-trace roll-up agrees with the spans it sums."""
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    conn = sqlite3.connect(db)
    try:  # the contentless FTS index agrees with itself
        conn.execute("INSERT INTO search (search) VALUES ('integrity-check')")
    finally:
        conn.close()
    assert scalar(db, "SELECT coalesce(sum(span_count), 0) FROM traces") == scalar(
        db, "SELECT count(*) FROM spans"
    )
    mismatched = query(
        db,
        "SELECT trace_id FROM traces t WHERE span_count != "
        "(SELECT count(*) FROM spans s WHERE s.trace_id = t.trace_id)",
    )
    assert mismatched == []
    orphans = (
        "SELECT count(*) FROM spans WHERE trace_id NOT IN (SELECT trace_id FROM traces)",
        "SELECT count(*) FROM documents WHERE span_row NOT IN (SELECT id FROM spans)",
    )
    assert [scalar(db, sql) for sql in orphans] == [0, 0]


def spyglass_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "spyglass" and record.levelno >= logging.WARNING
    ]


# --- several processes, one file ----------------------------------------------------------------

WRITER = """
import pathlib, sys, time
import spyglass

db, name, barrier = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
(barrier / f"{name}.ready").touch()
deadline = time.monotonic() + 60
while not (barrier / "go").exists():  # all four open the new file and write at once
    if time.monotonic() > deadline:
        sys.exit("never got the go signal")
    time.sleep(0.002)
spyglass.autolog(db=db, project=name, integrations=())
for t in range(100):
    with spyglass.trace(f"{name}-request", session_id=f"{name}-session") as root:
        root.set_input({"writer": name, "request": t})
        for c in range(4):
            with spyglass.trace("step", kind="retriever" if c == 0 else "chain") as step:
                step.set_output(f"{name} wrote {t}.{c}")
    if t % 10 == 9:
        assert spyglass.flush(timeout=60)
print("done")
"""


def test_four_processes_write_one_file_at_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    names = [f"writer{i}" for i in range(4)]
    procs = [_start(WRITER, db, name, barrier) for name in names]
    try:
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT
        while not all((barrier / f"{name}.ready").exists() for name in names):
            assert time.monotonic() < deadline, "writers did not start"
            assert all(proc.poll() is None for proc in procs), "a writer died before the barrier"
            time.sleep(0.01)
        (barrier / "go").touch()
        results = [_finish(proc) for proc in procs]
    finally:
        for proc in procs:
            _kill_group(proc)
    for result in results:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "done"
        assert "spyglass" not in result.stderr  # no warning, no traceback

    assert scalar(db, "SELECT count(*) FROM spans") == 2000
    assert scalar(db, "SELECT count(DISTINCT trace_id || span_id) FROM spans") == 2000
    assert scalar(db, "SELECT count(*) FROM traces") == 400
    assert scalar(db, "SELECT sum(span_count) FROM traces") == 2000
    assert_consistent(db)
    per_writer = query(
        db,
        "SELECT project, count(*), sum(span_count), count(root_span_id), min(name), max(name) "
        "FROM traces GROUP BY project ORDER BY project",
    )
    assert per_writer == [(name, 100, 500, 100, f"{name}-request", f"{name}-request")
                          for name in names]  # fmt: skip
    store = spyglass.Store(db)
    for name in names:  # the search index has every writer's rows, at the right span ids
        hits = store.search(name, limit=1000)
        assert len(hits) == 500
        assert {hit.trace_name for hit in hits} == {f"{name}-request"}


# --- exit without flush -------------------------------------------------------------------------

NO_FLUSH = """
import sys
import spyglass

spyglass.autolog(db=sys.argv[1], integrations=())
for t in range(1000):
    with spyglass.trace("request") as root:
        root.set_input(t)
        with spyglass.trace("retrieve", kind="retriever"):
            pass
        with spyglass.trace("generate", kind="llm") as llm:
            llm.set_attribute("gen_ai.usage.input_tokens", 3)
print("traced", flush=True)
"""


@pytest.mark.parametrize(
    ("ending", "returncode"),
    [
        ("", 0),  # the script just ends
        ("sys.exit(3)", 3),
        ("raise RuntimeError('the app crashed')", 1),  # an uncaught exception
    ],
)
def test_a_script_that_never_flushes_keeps_every_span(
    tmp_path: Path, ending: str, returncode: int
) -> None:
    db = tmp_path / "exit.db"
    result = run_python(NO_FLUSH + ending + "\n", db)
    assert result.returncode == returncode, result.stderr
    assert result.stdout == "traced\n"
    assert "spyglass" not in result.stderr.replace(str(db), "")
    assert scalar(db, "SELECT count(*) FROM spans") == 3000
    assert scalar(db, "SELECT count(*) FROM traces WHERE root_span_id IS NOT NULL") == 1000
    assert scalar(db, "SELECT sum(input_tokens) FROM traces") == 3000
    assert_consistent(db)


# --- a writer killed mid-write ------------------------------------------------------------------

ENDLESS = """
import json, sys
import spyglass

spyglass.autolog(db=sys.argv[1], integrations=())
docs = json.dumps([{"id": f"d{i}", "score": 0.5, "content": f"passage {i} " * 40}
                   for i in range(4)])
written = 0
while True:
    for _ in range(20):
        with spyglass.trace("request") as root:
            root.set_input({"question": "what survives a kill?" * 10})
            with spyglass.trace("retrieve", kind="retriever") as retrieve:
                retrieve.set_attribute("gen_ai.retrieval.documents", docs)
            with spyglass.trace("generate", kind="llm") as llm:
                llm.set_output("an answer " * 50)
        written += 3
    assert spyglass.flush(timeout=60)
    print(written, flush=True)
"""


def test_sigkill_mid_write_leaves_a_consistent_readable_file(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    proc = _start(ENDLESS, db)
    flushed = 0
    try:
        assert proc.stdout is not None
        while flushed < 3000:  # committed spans the writer has reported
            line = proc.stdout.readline()
            assert line, f"writer stopped: {proc.stderr.read() if proc.stderr else ''}"
            flushed = int(line)
        os.kill(proc.pid, signal.SIGKILL)  # it keeps writing until here: the kill lands mid-work
        proc.wait(timeout=SUBPROCESS_TIMEOUT)
    finally:
        _kill_group(proc)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    assert_consistent(db)
    spans = scalar(db, "SELECT count(*) FROM spans")
    assert spans >= flushed  # nothing committed was lost
    retrievers = scalar(db, "SELECT count(*) FROM spans WHERE kind = 'RETRIEVER'")
    assert scalar(db, "SELECT count(*) FROM documents") == 4 * retrievers  # batches are atomic
    with spyglass.Store(db) as store:  # the read API works on the file as it was left
        (latest,) = store.traces(limit=1)
        assert store.trace(latest.trace_id).spans
        assert store.search("survives kill", limit=5)

    # And the next writer carries on from it.
    again = run_python(
        "import sys, spyglass\n"
        "spyglass.autolog(db=sys.argv[1], integrations=())\n"
        "for _ in range(10):\n"
        "    with spyglass.trace('after'):\n"
        "        pass\n",
        db,
    )
    assert again.returncode == 0, again.stderr
    assert scalar(db, "SELECT count(*) FROM spans") == spans + 10
    assert_consistent(db)


# --- fork ---------------------------------------------------------------------------------------

FORK = """
import os, sqlite3, sys
import spyglass

db = sys.argv[1]
spyglass.autolog(db=db, integrations=())
with spyglass.trace("job") as job:
    for i in range(50):
        with spyglass.trace("parent-before"):
            pass
    assert spyglass.flush()
    pid = os.fork()
    if pid == 0:  # the child: its spans join the same trace, through its own connection
        for i in range(100):
            with spyglass.trace("child-step"):
                pass
        ok = spyglass.flush(timeout=60)
        print("child flushed", ok, flush=True)
        sys.exit(0 if ok else 3)  # a normal exit: atexit shutdown runs in the child too
    for i in range(100):
        with spyglass.trace("parent-step"):
            pass
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
print("parent flushed", spyglass.flush(timeout=60), flush=True)
"""


def test_fork_child_writes_through_its_own_connection(tmp_path: Path) -> None:
    db = tmp_path / "fork.db"
    result = run_python(FORK, db)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split("\n")) == ["", "child flushed True", "parent flushed True"]
    assert "spyglass" not in result.stderr.replace(str(db), "")
    counts = counts_by_name(db)
    assert counts == {"job": 1, "parent-before": 50, "child-step": 100, "parent-step": 100}
    assert query(db, "SELECT name, span_count FROM traces") == [("job", 251)]
    assert_consistent(db)


FORK_WHILE_WRITING = """
import os, subprocess, sys, time
import spyglass

db = sys.argv[1]
spyglass.autolog(db=db, integrations=())
with spyglass.trace("warm-up"):
    pass
assert spyglass.flush()
# Another process takes the write lock for a while, so the parent's exporter is caught in the
# middle of a write (waiting on the lock) when the program forks.
holder = subprocess.Popen([sys.executable, "-c", '''
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(1.5)
conn.execute("COMMIT")
''', db], stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline() == "locked\\n"
for i in range(100):
    with spyglass.trace("parent-before"):
        pass
spyglass.flush(timeout=0.3)  # returns False: the write is now waiting on the lock
pid = os.fork()
if pid == 0:
    for i in range(100):
        with spyglass.trace("child"):
            pass
    ok = spyglass.flush(timeout=60)
    print("child flushed", ok, flush=True)
    sys.exit(0 if ok else 3)
for i in range(100):
    with spyglass.trace("parent-after"):
        pass
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
holder.wait()
print("parent flushed", spyglass.flush(timeout=60), flush=True)
"""


def test_fork_during_a_write_does_not_hang_the_child(tmp_path: Path) -> None:
    db = tmp_path / "fork-busy.db"
    result = run_python(FORK_WHILE_WRITING, db)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split("\n")) == ["", "child flushed True", "parent flushed True"]
    counts = counts_by_name(db)
    assert counts == {"warm-up": 1, "parent-before": 100, "child": 100, "parent-after": 100}
    assert_consistent(db)


def test_a_span_exported_twice_is_stored_and_counted_once(tmp_path: Path) -> None:
    # A retried batch, or two pipelines on one file, can hand the exporter a span it stored.
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "twice"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("root"):
        with tracer.start_as_current_span("child") as child:
            child.set_attribute(A.GEN_AI_USAGE_INPUT_TOKENS, 5)
            child.set_attribute(A.GEN_AI_RETRIEVAL_DOCUMENTS, '[{"id": "a", "content": "doc"}]')
        first = list(memory.get_finished_spans())
        with tracer.start_as_current_span("later"):
            pass
    spans = list(memory.get_finished_spans())
    db = tmp_path / "twice.db"
    exporter = SQLiteSpanExporter(db)
    try:
        assert exporter.export(first) == SpanExportResult.SUCCESS
        assert exporter.export(spans) == SpanExportResult.SUCCESS  # child again, plus two new
        assert exporter.export(spans) == SpanExportResult.SUCCESS  # all again
    finally:
        exporter.shutdown()
    assert query(db, "SELECT name, span_count, input_tokens FROM traces") == [("root", 3, 5)]
    assert scalar(db, "SELECT count(*) FROM documents") == 1
    assert_consistent(db)
    assert len(spyglass.Store(db).search("doc")) == 1


# --- a database that fails ----------------------------------------------------------------------


def _seed(db: Path) -> None:
    """A spyglass file with one trace of two spans, written and closed."""
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("seed"), spyglass.trace("seed-child"):
        pass
    assert spyglass.flush()
    spyglass.autolog(disable=True)


def _sh(*command: str) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


@contextlib.contextmanager
def _read_only(directory: Path) -> Iterator[Callable[[], None]]:
    """Make ``directory`` really read-only; yields a function that makes it writable again.

    chmod binds nobody as root, so root gets a read-only bind mount of the directory onto
    itself (SQLite then cannot write the file nor create its -wal), or failing that the
    immutable attribute.
    """
    undo: list[Callable[[], object]] = []

    def restore() -> None:
        while undo:
            undo.pop()()

    if os.geteuid() != 0:

        def writable() -> None:
            directory.chmod(0o700)
            for path in directory.iterdir():
                path.chmod(0o600)

        for path in directory.iterdir():
            path.chmod(0o400)
        directory.chmod(0o500)
        undo.append(writable)
    elif _sh("mount", "--bind", str(directory), str(directory)):
        undo.append(lambda: _sh("umount", "-l", str(directory)))
        if not _sh("mount", "-o", "remount,bind,ro", str(directory)):
            restore()
            pytest.skip("cannot remount a bind mount read-only here")
    elif shutil.which("chattr") and _sh("chattr", "+i", str(directory)):
        undo.append(lambda: _sh("chattr", "-i", str(directory)))
    else:
        pytest.skip("running as root without mount or chattr: cannot make a file read-only")
    try:
        (directory / "probe").touch()
    except OSError:
        pass
    else:
        restore()
        pytest.skip("the read-only directory still accepts new files")
    try:
        yield restore
    finally:
        spyglass.autolog(disable=True)  # release the files before unmounting
        restore()


@contextlib.contextmanager
def _small_disk(directory: Path) -> Iterator[None]:
    """A 4 MB tmpfs at ``directory`` (root only), unmounted afterwards."""
    directory.mkdir()
    if os.geteuid() != 0 or not _sh("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                                     str(directory)):  # fmt: skip
        pytest.skip("a full disk needs root to mount a small tmpfs")
    try:
        yield
    finally:
        spyglass.autolog(disable=True)
        _sh("umount", "-l", str(directory))


def _fill(directory: Path) -> Path:
    """Fill the file system until a write fails; returns the filler file."""
    filler = directory / "filler"
    chunk = b"\0" * 4096
    with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(chunk)
    with contextlib.suppress(OSError), open(directory / "filler-tail", "wb", buffering=0) as tail:
        while True:
            tail.write(b"\0")
    return filler


class AppError(Exception):
    """The traced program's own exception."""


def _traced_program(rounds: int) -> int:
    """Traced code with decorated functions, an exception and flushes; asserts its own
    results are what they would be untraced, and returns the number of spans it made."""

    @spyglass.trace
    def double(x: int) -> int:
        return 2 * x

    error = AppError("the program's own failure")

    @spyglass.trace("fails")
    def fails() -> None:
        raise error

    results = []
    for i in range(rounds):
        with spyglass.trace("step", metadata={"i": i}) as span:
            assert span is not None
            span.set_output("x" * 500)  # enough text that a full disk is reached
            results.append(double(i))
        if i % 100 == 99:
            spyglass.flush(timeout=30)  # fails (False), but quietly: many failed exports
    assert results == [2 * i for i in range(rounds)]
    with pytest.raises(AppError) as caught:
        fails()
    assert caught.value is error
    return 2 * rounds + 1


@pytest.fixture
def quick_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A locked database gives up after 0.2 s instead of 10 s, so failed writes are quick."""
    monkeypatch.setattr("spyglass.tracer._db.BUSY_TIMEOUT_MS", 200)


@pytest.mark.usefixtures("quick_busy_timeout")
def test_locked_database_warns_once_then_writes_what_it_held(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "locked.db"
    _seed(db)
    spyglass.autolog(db=db, integrations=())
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # held far past the busy timeout
    try:
        caplog.clear()
        made = _traced_program(500)
        assert spyglass.flush(timeout=30) is False
        warnings = spyglass_warnings(caplog)
        assert len(warnings) == 1, warnings
        assert "locked" in warnings[0]
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert spyglass.flush(timeout=30) is True  # the held spans go in on the next flush
    assert scalar(db, "SELECT count(*) FROM spans") == 2 + made
    assert_consistent(db)
    assert len(spyglass_warnings(caplog)) == 1


def test_read_only_database_warns_once_then_writes_when_writable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    db = directory / "traces.db"
    _seed(db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with _read_only(directory) as make_writable:
        caplog.clear()
        spyglass.autolog(db=db, integrations=())
        made = _traced_program(500)
        assert spyglass.flush(timeout=30) is False
        warnings = spyglass_warnings(caplog)
        assert len(warnings) == 1, warnings
        assert str(db) in warnings[0]
        assert hashlib.sha256(db.read_bytes()).hexdigest() == before
        make_writable()
        assert spyglass.flush(timeout=30) is True  # held, not lost
        assert scalar(db, "SELECT count(*) FROM spans") == 2 + made
        assert len(spyglass_warnings(caplog)) == 1
    assert_consistent(db)


def test_full_disk_warns_once_then_writes_when_space_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "small"
    with _small_disk(directory):
        db = directory / "traces.db"
        spyglass.autolog(db=db, integrations=())  # connection, -wal and -shm exist before
        with spyglass.trace("seed"), spyglass.trace("seed-child"):
            pass
        assert spyglass.flush() is True
        filler = _fill(directory)
        caplog.clear()
        made = _traced_program(1000)
        assert spyglass.flush(timeout=30) is False
        warnings = spyglass_warnings(caplog)
        assert len(warnings) == 1, warnings
        assert "full" in warnings[0]
        filler.unlink()
        assert spyglass.flush(timeout=30) is True
        assert scalar(db, "SELECT count(*) FROM spans") == 2 + made
        assert_consistent(db)
        assert len(spyglass_warnings(caplog)) == 1


def _corrupt(db: Path) -> None:
    """Garbage over every page but the first (the header stays, so SQLite opens the file)."""
    size = db.stat().st_size
    page = int.from_bytes(db.read_bytes()[16:18], "big")
    assert size > page
    with open(db, "r+b") as handle:
        handle.seek(page)
        handle.write(random.Random(1234).randbytes(size - page))


def test_corrupt_database_warns_once_and_is_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "corrupt.db"
    _seed(db)
    _corrupt(db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    caplog.clear()
    spyglass.autolog(db=db, integrations=())
    _traced_program(500)
    assert spyglass.flush(timeout=30) is False
    warnings = spyglass_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "corrupt" in warnings[0]
    spyglass.autolog(disable=True)  # shutting down does not raise either
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # never written into


def test_spans_held_for_a_failing_database_are_bounded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("spyglass.tracer._exporter.MAX_PENDING_SPANS", 50)
    db = tmp_path / "corrupt.db"
    _seed(db)
    _corrupt(db)
    caplog.clear()
    spyglass.autolog(db=db, integrations=())
    _traced_program(1000)
    assert spyglass.flush(timeout=30) is False
    pipeline = _runtime.active()
    assert pipeline is not None and pipeline.sqlite is not None
    assert pipeline.sqlite.pending_count() == 50  # the newest, and no more
    # One warning for the database, one for the first drop: not one per batch.
    warnings = spyglass_warnings(caplog)
    assert len(warnings) == 2, warnings
    assert "corrupt" in warnings[0] and "dropped" in warnings[1]


# --- a burst ------------------------------------------------------------------------------------


class _HighWaterDeque(deque[ReadableSpan]):
    """The processor's queue, remembering the longest it has been."""

    high_water = 0

    def append(self, span: ReadableSpan) -> None:
        super().append(span)
        self.high_water = max(self.high_water, len(self))


def test_burst_of_100000_spans_is_stored_whole_in_bounded_memory(traced: Path) -> None:
    pipeline = _runtime.active()
    assert pipeline is not None
    (processor,) = (
        p
        for p in pipeline.provider._active_span_processor._span_processors
        if isinstance(p, BlockingBatchProcessor)
    )
    queue = _HighWaterDeque()
    with processor._cond:
        queue.extend(processor._queue)
        processor._queue = queue

    for i in range(100_000):  # as fast as the program can end spans
        with spyglass.trace("burst") as span:
            assert span is not None
            if i % 1000 == 0:
                span.set_attribute(A.SPYGLASS_INPUT, f"marker {i}")
    assert spyglass.flush(timeout=120) is True

    assert scalar(traced, "SELECT count(*) FROM spans") == 100_000  # none dropped
    assert scalar(traced, "SELECT count(*) FROM traces") == 100_000
    # Memory bounded: by the queue while the writer keeps up; if one batch ever took so long
    # that the writer looked stuck, by the backlog bound, and back to the queue's afterwards.
    assert 0 < queue.high_water <= processor._max_backlog
    assert processor._limit == processor._max_queue
    assert len(spyglass.Store(traced).search("marker", limit=1000)) == 100
