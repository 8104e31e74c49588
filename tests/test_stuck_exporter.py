"""The traced program never waits on an exporter that is stuck.

A full queue makes the program wait only while the exporter is making progress (which keeps a
burst lossless, see test_reliability); when an export hangs (another process holds the
database's write lock, and SQLite waits out its 10 s busy timeout) the program carries on:
spans are held up to a bound, past it dropped, counted and reported once.

The first test is the real thing (a subprocess, a second process holding ``BEGIN IMMEDIATE``
on the file for 12 s); its only time bound is loose (a span end under 5 s, where it took 9 s).
The others use an exporter held on an event, so the counts are exact.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spyglass.tracer._processor import BlockingBatchProcessor

LOCKED_LOOP = """
import json, logging, sqlite3, subprocess, sys, time
import spyglass

logging.basicConfig(format="%(name)s %(levelname)s %(message)s")
db = sys.argv[1]
spyglass.autolog(db=db, integrations=())
with spyglass.trace("warm-up"):
    pass
assert spyglass.flush()
holder = subprocess.Popen([sys.executable, "-c", '''
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(12)
conn.execute("COMMIT")
''', db], stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline() == "locked\\n"
worst = 0.0
for _ in range(20):  # the program's loop: work, and spans as it goes
    for _ in range(1000):
        start = time.perf_counter()
        with spyglass.trace("step"):
            pass
        worst = max(worst, time.perf_counter() - start)
    time.sleep(0.01)
locked = holder.poll() is None  # the loop ended while the lock was still held
holder.wait()
flushed = spyglass.flush(timeout=60)
print(json.dumps({"worst": worst, "locked_throughout": locked, "flushed": flushed}))
"""


def test_a_span_end_does_not_wait_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOCKED_LOOP), str(db)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["worst"] < 5.0, outcome  # before: one span end waited ~9 s
    assert outcome["locked_throughout"], outcome  # else the test proved nothing
    assert outcome["flushed"] is True
    conn = sqlite3.connect(db)
    try:
        stored = dict(conn.execute("SELECT name, count(*) FROM spans GROUP BY name").fetchall())
    finally:
        conn.close()
    assert stored == {"warm-up": 1, "step": 20_000}  # held, not dropped: under the bound
    warnings = [line for line in result.stderr.splitlines() if line.startswith("spyglass ")]
    assert len(warnings) == 1 and "locked" in warnings[0], result.stderr


class GatedExporter(SpanExporter):
    """Takes spans only once ``gate`` is set: an exporter stuck until the test lets it go."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.spans: list[ReadableSpan] = []
        self.calls = threading.Semaphore(0)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls.release()
        self.gate.wait()
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.gate.set()


@pytest.fixture
def gated() -> Iterator[GatedExporter]:
    exporter = GatedExporter()
    yield exporter
    exporter.gate.set()


def _processor(exporter: SpanExporter) -> BlockingBatchProcessor:
    # Batches of 10, no timed export; the queue holds 100 spans, 500 while the exporter is stuck.
    return BlockingBatchProcessor(
        exporter,
        target="the gated exporter",
        max_queue_size=100,
        max_backlog=500,
        max_batch_size=10,
        min_batch_size=10,
        schedule_delay=60.0,
        stall_after=0.05,
    )


def _end_spans(processor: BlockingBatchProcessor, count: int) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "stuck"}))
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("test")
    for i in range(count):
        with tracer.start_as_current_span(f"span-{i}"):
            pass


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "spyglass" and r.levelno >= 30]


def test_spans_past_the_backlog_are_dropped_counted_and_reported_once(
    gated: GatedExporter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="spyglass")
    processor = _processor(gated)
    _end_spans(processor, 1000)  # returns: the program is not held by the stuck exporter
    # 10 in the export that hangs, 500 held, the other 490 dropped.
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "dropping spans" in warnings[0], warnings
    assert "the gated exporter" in warnings[0]
    assert processor.force_flush(timeout_millis=100) is False  # stuck, and spans were dropped

    gated.gate.set()
    assert processor.force_flush(timeout_millis=30_000) is True  # the drops were reported
    assert len(gated.spans) == 510
    assert [s.name for s in gated.spans] == [f"span-{i}" for i in range(510)]  # oldest kept
    processor.shutdown()
    warnings = _warnings(caplog)
    assert len(warnings) == 2 and "dropped 490 spans in all" in warnings[1], warnings


def test_nothing_is_dropped_while_the_backlog_has_room(
    gated: GatedExporter, caplog: pytest.LogCaptureFixture
) -> None:
    processor = _processor(gated)
    _end_spans(processor, 400)  # past the queue (100), within the backlog (500)
    gated.gate.set()
    assert processor.force_flush(timeout_millis=30_000) is True
    assert len(gated.spans) == 400
    processor.shutdown()
    assert _warnings(caplog) == []


def test_shutdown_waits_for_a_stuck_exporter_only_its_timeout(
    gated: GatedExporter, caplog: pytest.LogCaptureFixture
) -> None:
    processor = _processor(gated)
    _end_spans(processor, 50)
    assert gated.calls.acquire(timeout=30)  # an export is under way, and hangs
    processor.shutdown(timeout=0.2)  # returns, with the export still hanging
    warnings = _warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "gave up on 50 spans" in warnings[0] and "the gated exporter" in warnings[0]
