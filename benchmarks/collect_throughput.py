"""`spyglass collect`: spans/s received over loopback, beside the in-process exporter's rate,
and the receiver's memory under a burst of 100,000 spans.

The spans are the RAG-shaped traces of ``throughput.py`` (a chain, a retriever with four
documents, an LLM span with ~1 KB of messages, a parser), made by the OTel SDK and encoded
ahead of time as OTLP/protobuf requests of 512 spans (the SDK's default export batch), so the
senders cost little. A real ``spyglass collect`` process receives them on 127.0.0.1; senders
are threads of this process, each with its own kept-alive connection, retrying a 503 after a
short pause as OTLP exporters do. A run is timed from the first request to the receiver's exit
after SIGINT, which comes once every request is answered and the queue is written out, so the
rate is spans stored per second, not spans queued.

Beside it: ``SQLiteSpanExporter.export`` alone on the same spans in-process (what autolog's
writer does), and the same spans sent with the OTLP ``Content-Encoding: gzip`` most exporters
use. The burst: four senders push 100,000 spans as fast as the receiver lets them; the table
shows the receiver's peak RSS over its RSS when idle, the 503s it answered, and how many spans
are in the file at the end (all of them, or the run says so).

    python benchmarks/collect_throughput.py [--spans 20000] [--repeats 3] [--burst 100000]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from throughput import SPANS_PER_TRACE, make_shapes, prebuilt_spans, sustained_exporter

BATCH = 512
PB = "application/x-protobuf"


def encode(spans: list, gzipped: bool = False) -> list[bytes]:
    bodies = [
        encode_spans(spans[i : i + BATCH]).SerializeToString() for i in range(0, len(spans), BATCH)
    ]
    return [gzip.compress(b, 1) for b in bodies] if gzipped else bodies


@dataclass
class Receiver:
    process: subprocess.Popen[str]
    host: str
    port: int
    db: Path

    @classmethod
    def start(cls, db: Path) -> Receiver:
        process = subprocess.Popen(
            [sys.executable, "-m", "spyglass.cli", "collect", "--db", str(db), "--port", "0"],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        line = process.stderr.readline()
        address = line.split("listening on http://", 1)[1].split("/v1/traces")[0]
        host, port = address.rsplit(":", 1)
        return cls(process, host, int(port), db)

    def rss_kb(self, field: str) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=600)
        assert self.process.returncode == 0, err
        return err

    def stored(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])


def send(receiver: Receiver, bodies: list[bytes], gzipped: bool, refused: list[int]) -> None:
    headers = {"Content-Type": PB, **({"Content-Encoding": "gzip"} if gzipped else {})}
    conn = http.client.HTTPConnection(receiver.host, receiver.port, timeout=120)
    for body in bodies:
        while True:
            conn.request("POST", "/v1/traces", body, headers)
            reply = conn.getresponse()
            reply.read()
            if reply.status == 200:
                break
            assert reply.status == 503, reply.status
            refused.append(1)
            time.sleep(0.05)
    conn.close()


def run(
    directory: Path, bodies: list[bytes], senders: int, gzipped: bool = False
) -> dict[str, float]:
    """Spans stored per second with ``senders`` concurrent senders, and what the run cost."""
    receiver = Receiver.start(directory / f"collect-{time.monotonic_ns()}.db")
    idle_kb = receiver.rss_kb("VmRSS")
    refused: list[int] = []
    shares = [bodies[i::senders] for i in range(senders)]
    threads = [threading.Thread(target=send, args=(receiver, s, gzipped, refused)) for s in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak_kb = receiver.rss_kb("VmHWM")
    receiver.stop()
    elapsed = time.perf_counter() - started
    stored = receiver.stored()
    return {
        "rate": stored / elapsed,
        "stored": stored,
        "refused": len(refused),
        "growth_mb": (peak_kb - idle_kb) / 1024,
        "idle_mb": idle_kb / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--burst", type=int, default=100_000)
    args = parser.parse_args()
    shapes = make_shapes(with_text=True)
    spans = prebuilt_spans(shapes, args.spans // SPANS_PER_TRACE * SPANS_PER_TRACE)
    bodies, zipped = encode(spans), encode(spans, gzipped=True)
    print(f"{len(spans):,} spans in {len(bodies)} requests of {BATCH} "
          f"({sum(map(len, bodies)) / len(spans):.0f} B/span protobuf)")  # fmt: skip
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for _ in range(args.repeats):  # variants interleaved, medians reported
            rows.setdefault("in-process exporter (SQLiteSpanExporter.export)", []).append(
                sustained_exporter(directory, spans).wall
            )
            for senders in (1, 4):
                result = run(directory, bodies, senders)
                assert result["stored"] == len(spans), result
                rows.setdefault(f"collect, {senders} sender(s)", []).append(result["rate"])
            result = run(directory, zipped, 4, gzipped=True)
            assert result["stored"] == len(spans), result
            rows.setdefault("collect, 4 senders, gzip bodies", []).append(result["rate"])
        base = statistics.median(rows["in-process exporter (SQLiteSpanExporter.export)"])
        print(f"\n{'what':<52} {'spans/s':>10} {'runs':>22} {'vs exporter':>12}")
        for name, rates in rows.items():
            runs = "/".join(f"{r / 1000:.1f}k" for r in rates)
            median = statistics.median(rates)
            print(f"{name:<52} {median:>10,.0f} {runs:>22} {median / base:>12.2f}")
        burst_spans = prebuilt_spans(shapes, args.burst)
        burst = run(directory, encode(burst_spans), 4)
        print(
            f"\nburst of {len(burst_spans):,} spans, 4 senders: {burst['stored']:,} stored "
            f"({len(burst_spans) - burst['stored']:,} dropped), {burst['refused']:,} requests "
            f"told to retry (503), receiver RSS {burst['idle_mb']:.0f} MB idle, "
            f"+{burst['growth_mb']:.0f} MB at peak, {burst['rate']:,.0f} spans/s"
        )


if __name__ == "__main__":
    main()
