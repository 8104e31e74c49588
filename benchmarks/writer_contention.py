"""How fast the SQLite writer gets through a batch beside a busy program: one row per statement
against 64.

    python benchmarks/writer_contention.py [--spans 1000] [--repeats 3]

Python's sqlite3 lets go of the GIL around each statement step and must win it back afterwards;
while the program's own thread is running Python, every win waits for the interpreter's switch
interval (5 ms). Row by row, the writer then crawls: the queue fills, and a program that never
waits ends up blocked on it (backpressure) at the writer's pace. This script writes the same
pre-built rows (RAG-shaped spans from ``throughput.py``, converted beforehand) on a worker
thread while the main thread counts in a tight loop, and reports how long the write took, the
writer's CPU time, and the spans per second that makes, for one row per statement and for the
exporter's setting. Medians of ``--repeats`` interleaved runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from throughput import emit_light, make_shapes

from spyglass.tracer import _statements
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._pipeline import Pipeline, Settings
from spyglass.tracer._redact import Redactor
from spyglass.tracer._rows import SpanRow, span_to_row


class _Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def build_rows(count: int) -> list[SpanRow]:
    keep = _Keep()
    pipeline = Pipeline(Settings(db=None), exporters=[keep])
    emit_light(pipeline.lite, make_shapes(with_text=True), count)
    pipeline.shutdown()
    redactor = Redactor()
    return [span_to_row(span, redactor) for span in keep.spans]


def busy_loop(done: list[bool]) -> int:
    """The program: count until ``done[0]`` (the same loop, alone and beside the writer)."""
    count = 0
    while not done[0]:
        count += 1
    return count


def contended(exporter: SQLiteSpanExporter, rows: list[SpanRow]) -> tuple[float, float]:
    """(wall seconds, writer CPU seconds) of one write of ``rows`` beside the busy loop."""
    cpu: list[float] = []
    done = [False]

    def write() -> None:
        start = time.thread_time()
        exporter._write(rows)
        cpu.append(time.thread_time() - start)
        done[0] = True

    worker = threading.Thread(target=write)
    start = time.perf_counter()
    worker.start()
    busy_loop(done)
    elapsed = time.perf_counter() - start
    worker.join()
    return elapsed, cpu[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spans", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = build_rows(args.spans)
    default = _statements.ROWS_PER_STATEMENT
    settings = {"1 row per statement": 1, "64 rows per statement": 64}
    settings[f"{default} rows (the exporter's)"] = default
    cpu: dict[str, list[float]] = {name: [] for name in settings}
    wall: dict[str, list[float]] = {name: [] for name in settings}
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        for repeat in range(args.repeats):
            for name, per_statement in settings.items():
                exporter = SQLiteSpanExporter(Path(tmp) / f"{repeat}-{per_statement}.db")
                exporter.open()
                _statements.ROWS_PER_STATEMENT = per_statement
                try:
                    elapsed, used = contended(exporter, rows)
                finally:
                    _statements.ROWS_PER_STATEMENT = default
                    exporter.shutdown()
                cpu[name].append(used)
                wall[name].append(elapsed)
    print(f"{len(rows):,} spans written on a worker thread while the main thread runs Python;")
    print(f"medians of {args.repeats} interleaved runs.\n")
    print(f"| {'':<24} | write took | writer CPU | spans / s |")
    print(f"|{'-' * 26}|------------|------------|-----------|")
    for name in settings:
        took, used = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"| {name:<24} | {took * 1e3:7.0f} ms | {used * 1e3:7.0f} ms "
            f"| {len(rows) / took:9,.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
