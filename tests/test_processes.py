"""Spans ended in multiprocessing children are stored, exactly once, whatever the start method.

Each test runs a script file in a subprocess (spawn and forkserver children re-import the main
module, so it cannot be ``-c``), with its own process group so that nothing outlives a hang,
and reads the real SQLite file afterwards. A child ends through ``os._exit`` (fork, forkserver)
or ``sys.exit`` (spawn), ``Pool.terminate()`` (what ``with Pool(...)`` does) sends SIGTERM:
every one of these paths is taken, with processes, pools used each way, and
``ProcessPoolExecutor``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spyglass.tracer._processor import BlockingBatchProcessor

TIMEOUT = 180.0  # generous: a shared 2-core machine; a hang still fails
METHODS = ["fork", "spawn", "forkserver"]
SPANS = 150  # per task; four tasks per pattern
METADATA = """json_extract(attributes, '$."spyglass.metadata"')"""
INPUT = """json_extract(attributes, '$."spyglass.input"')"""


def run_script(tmp_path: Path, code: str, *args: object) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(code))
    proc = subprocess.Popen(
        [sys.executable, str(script), *map(str, args)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # a hang shows every process's stacks
    )
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        signals = _signal_state(proc.pid)
        os.killpg(proc.pid, signal.SIGABRT)  # faulthandler prints each thread's stack
        try:
            stdout, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        pytest.fail(f"hung for {TIMEOUT} s\n{signals}\nstdout:\n{stdout}\nstderr:\n{stderr}")
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _signal_state(group: int) -> str:
    """Each thread of each process in ``group``: its state and signal masks (Linux)."""
    lines = []
    for status in Path("/proc").glob("[0-9]*/task/*/status"):
        with contextlib.suppress(OSError):
            if os.getpgid(int(status.parts[2])) != group:
                continue
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
            keys = ("Name", "State", "SigPnd", "ShdPnd", "SigBlk", "SigCgt")
            lines.append(
                f"{status.parts[2]}/{status.parts[4]} "
                + " ".join(f"{key}={fields.get(key, '?').strip()}" for key in keys)
            )
    return "\n".join(sorted(lines))


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


PATTERNS = """
import concurrent.futures, json, multiprocessing, os, signal, sys, time
import spyglass

SPANS = int(sys.argv[3])


def work(pattern, task):
    for step in range(SPANS):
        with spyglass.trace(pattern, metadata={"task": task, "step": step}):
            pass
    return os.getpid()


def work_args(args):
    return work(*args)


def work_then_wait(pattern, task, ready):
    work(pattern, task)
    ready.set()
    time.sleep(120)  # until terminated


def own_handler_then_wait(pattern, task, ready):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(7))  # the program's own, kept
    work_then_wait(pattern, task, ready)


def run(ctx, pattern):
    tasks = [(pattern, task) for task in range(4)]
    if pattern == "process":
        procs = [ctx.Process(target=work, args=args) for args in tasks]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        return [proc.exitcode for proc in procs]
    if pattern in ("terminated", "own-handler"):
        target = work_then_wait if pattern == "terminated" else own_handler_then_wait
        events = [ctx.Event() for _ in tasks]
        procs = [ctx.Process(target=target, args=(*args, ev)) for args, ev in zip(tasks, events)]
        for proc in procs:
            proc.start()
        for event in events:
            assert event.wait(60)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join()
        return [proc.exitcode for proc in procs]
    if pattern == "pool-with-map":
        with ctx.Pool(2) as pool:
            pool.map(work_args, tasks)
            workers = list(pool._pool)
    elif pattern == "pool-with-imap":
        with ctx.Pool(2) as pool:
            list(pool.imap(work_args, tasks))
            workers = list(pool._pool)
    elif pattern == "pool-with-apply-async":
        with ctx.Pool(2) as pool:
            results = [pool.apply_async(work, args) for args in tasks]
            [result.get(60) for result in results]
            workers = list(pool._pool)
    elif pattern == "pool-close-join":
        pool = ctx.Pool(2)
        pool.map(work_args, tasks)
        workers = list(pool._pool)
        pool.close()
        pool.join()
    elif pattern == "executor":
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as executor:
            list(executor.map(work, *zip(*tasks)))
        return [0]
    for worker in workers:
        worker.join()
    return sorted({worker.exitcode for worker in workers})


if __name__ == "__main__":
    method, db = sys.argv[1], sys.argv[2]
    spyglass.autolog(db=db, integrations=())
    ctx = multiprocessing.get_context(method)
    codes = {}
    with spyglass.trace("job"):  # open in the parent while every child runs
        for pattern in json.loads(sys.argv[4]):
            codes[pattern] = run(ctx, pattern)
    print(json.dumps(codes))
"""

ALL_PATTERNS = [
    "process",
    "terminated",
    "own-handler",
    "pool-with-map",
    "pool-with-imap",
    "pool-with-apply-async",
    "pool-close-join",
    "executor",
]


@pytest.mark.parametrize("method", METHODS)
def test_every_span_a_child_ended_is_stored_once(tmp_path: Path, method: str) -> None:
    db = tmp_path / "children.db"
    result = run_script(tmp_path, PATTERNS, method, db, SPANS, json.dumps(ALL_PATTERNS))
    assert result.returncode == 0, result.stderr
    assert "spyglass" not in result.stderr.replace(str(db), ""), result.stderr
    codes = json.loads(result.stdout)

    stored = dict(query(db, "SELECT name, count(*) FROM spans GROUP BY name"))
    expected = {pattern: 4 * SPANS for pattern in ALL_PATTERNS}
    assert stored == {**expected, "job": 1}
    # Exactly once each: every (task, step) of every pattern, no span twice.
    distinct = query(
        db, f"SELECT name, count(DISTINCT {METADATA}), count(DISTINCT span_id) FROM spans "
        "WHERE name != 'job' GROUP BY name",
    )  # fmt: skip
    assert sorted(distinct) == sorted((p, 4 * SPANS, 4 * SPANS) for p in ALL_PATTERNS)
    assert query(db, "SELECT sum(span_count) FROM traces") == [(4 * SPANS * len(ALL_PATTERNS) + 1,)]

    # Tracing did not change how any child ended.
    assert codes["process"] == [0, 0, 0, 0]
    assert codes["terminated"] == [-signal.SIGTERM] * 4  # killed by SIGTERM, as untraced
    assert codes["own-handler"] == [7] * 4  # the program's handler ran, not spyglass's
    assert codes["pool-close-join"] == [0]
    for pattern in ("pool-with-map", "pool-with-imap", "pool-with-apply-async"):
        # terminate() kills the idle workers; one that took the stop sentinel first exits 0.
        assert set(codes[pattern]) <= {0, -signal.SIGTERM}, codes


MISSED_SIGTERM = """
import json, multiprocessing, signal, sys, threading, time
import spyglass


def child():
    for _ in range(100):
        with spyglass.trace("before-the-signal"):
            pass

    def send():
        time.sleep(0.5)  # the main thread is blocked on the lock by then
        # Sent to this thread, the SIGTERM trips the handler here and wakes nothing: the main
        # thread stays blocked, as when a signal arrives just before a wait begins.
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    threading.Thread(target=send).start()
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()  # forever, but for a signal


if __name__ == "__main__":
    method, db = sys.argv[1], sys.argv[2]
    spyglass.autolog(db=db, integrations=())
    proc = multiprocessing.get_context(method).Process(target=child)
    proc.start()
    proc.join(30)
    alive = proc.is_alive()
    if alive:
        proc.kill()
        proc.join()
    print(json.dumps({"outlived_30_s": alive, "exitcode": proc.exitcode}))
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_sigterm_that_wakes_no_python_code_still_ends_the_child(
    tmp_path: Path, method: str
) -> None:
    db = tmp_path / "missed.db"
    result = run_script(tmp_path, MISSED_SIGTERM, method, db)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"outlived_30_s": False, "exitcode": -signal.SIGTERM}
    assert query(db, "SELECT count(*) FROM spans") == [(100,)]  # flushed, then ended


GRANDCHILD = """
import json, multiprocessing, os, signal, sys
import spyglass


def child(queue):
    with spyglass.trace("child"):
        pass  # the child's SIGTERM handling is installed now
    own = signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    pid = os.fork()
    if pid == 0:  # the program's own fork: the default action and no wakeup fd, as before
        default = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        os._exit(0 if default and signal.set_wakeup_fd(-1) == -1 else 1)
    _, status = os.waitpid(pid, 0)
    queue.put({"child_handles_sigterm": own, "grandchild": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    spyglass.autolog(db=sys.argv[1], integrations=())
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=child, args=(queue,))
    proc.start()
    print(json.dumps(queue.get(timeout=60)))
    proc.join()
"""


def test_a_fork_of_a_traced_child_gets_the_default_sigterm_back(tmp_path: Path) -> None:
    result = run_script(tmp_path, GRANDCHILD, tmp_path / "grandchild.db")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"child_handles_sigterm": True, "grandchild": 0}


SETTINGS = """
import multiprocessing, os, re, subprocess, sys
import spyglass

SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz012345"


def work(task):
    with spyglass.trace("child-work") as span:
        span.set_input(f"customer cust-{task:06d} with key {SECRET}")
    return task


def scrub(text):
    return text.replace("customer", "[someone]")


if __name__ == "__main__":
    method, db, redact = sys.argv[1], sys.argv[2], sys.argv[3]
    redact = scrub if redact == "callable" else [re.compile(r"CUST-\\d{6}", re.IGNORECASE)]
    spyglass.autolog(db=db, project="billing", redact=redact, integrations=())
    with multiprocessing.get_context(method).Pool(2) as pool:
        pool.map(work, range(4))
    # A process that is not a multiprocessing child keeps its own defaults.
    subprocess.run([sys.executable, "-c", "import spyglass\\n"
                    "with spyglass.trace('not-a-child'):\\n    pass"], check=True)
    spyglass.autolog(disable=True)
    print(os.environ.get("SPYGLASS_CHILD_SETTINGS"))
"""


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawned_children_record_with_the_parents_settings(
    tmp_path: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "settings.db"
    env_db = tmp_path / "from-env.db"
    monkeypatch.setenv("SPYGLASS_DB", str(env_db))  # where a process of its own writes
    result = run_script(tmp_path, SETTINGS, method, db, "patterns")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "None\n"  # disable took the variable away again
    assert "spyglass" not in result.stderr.replace(str(db), ""), result.stderr

    rows = query(db, f"SELECT {INPUT}, project FROM spans JOIN traces USING (trace_id)")
    assert len(rows) == 4
    for text, project in rows:
        assert project == "billing"
        assert "cust-" not in str(text) and "sk-proj" not in str(text)  # the parent's patterns
        assert "[REDACTED]" in str(text)
    assert not (tmp_path / "spyglass.db").exists()
    assert query(env_db, "SELECT name FROM spans") == [("not-a-child",)]


def test_a_redact_callable_cannot_reach_a_spawned_child_which_keeps_no_content(
    tmp_path: Path,
) -> None:
    db = tmp_path / "callable.db"
    result = run_script(tmp_path, SETTINGS, "spawn", db, "callable")
    assert result.returncode == 0, result.stderr
    rows = query(db, f"SELECT name, {INPUT} FROM spans WHERE name = 'child-work'")
    assert rows == [("child-work", None)] * 4  # stored, without the text
    warnings = [line for line in result.stderr.splitlines() if "records no content" in line]
    assert 1 <= len(warnings) <= 2, result.stderr  # once per worker that traced


class _MaskRecorder(SpanExporter):
    """Records the signal mask of the thread that exports."""

    def __init__(self) -> None:
        self.masks: list[set[signal.Signals]] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.masks.append(signal.pthread_sigmask(signal.SIG_BLOCK, []))
        return SpanExportResult.SUCCESS


def test_spyglass_threads_leave_the_programs_signals_to_the_main_thread() -> None:
    # A SIGTERM the kernel handed to the exporter's thread would never run the handler on the
    # main thread: a Pool worker blocked on its queue then outlived terminate() (a hang).
    exporter = _MaskRecorder()
    processor = BlockingBatchProcessor(exporter, min_batch_size=1)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    with provider.get_tracer("test").start_as_current_span("one"):
        pass
    assert processor.force_flush(timeout_millis=30_000)
    processor.shutdown()
    assert exporter.masks and {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD} <= exporter.masks[0]
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # not this one
