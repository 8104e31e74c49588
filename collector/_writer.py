"""The receiver's queue and its one writer thread: bounded, never dropping what it accepted.

The HTTP side must not wait on SQLite, so a request's spans are queued (``offer``) and the
request answered at once; a full queue refuses the request instead (the server answers 503 with
``Retry-After``, and OTLP exporters retry), which is how backpressure reaches the senders while
memory stays bounded. The bound counts the batch being written too.

The writer converts a batch to ``ReadableSpan``s (``_spans``) and hands it to the SQLite
exporter. When the database refuses a write (locked past its busy timeout, read-only, full) the
exporter keeps the batch and the writer retries it, backing off, before it takes anything new:
the queue then fills up to its bound and senders are told to wait, rather than spans being
dropped past the exporter's own retry bound. ``close`` writes out everything queued, then shuts
the exporter down; spans still unwritten after its deadline are reported as lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from opentelemetry.sdk.trace import ReadableSpan

from spyglass.collector._decode import Decoded
from spyglass.collector._logs import EventJoin
from spyglass.collector._spans import batch_scope, sdk_resource, to_readable
from spyglass.tracer._exporter import SQLiteSpanExporter

logger = logging.getLogger("spyglass")

#: Spans written per exporter call: one transaction each.
BATCH_SPANS = 2_000
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 1.0


class SpanWriter:
    """Queue decoded requests; one thread converts and stores them in order."""

    def __init__(
        self,
        exporter: SQLiteSpanExporter,
        joins: EventJoin,
        *,
        max_queued_spans: int = 20_000,
    ) -> None:
        self._exporter = exporter
        self._joins = joins
        self._max = max_queued_spans
        self._queue: deque[Decoded] = deque()
        self._queued = 0  # spans queued or being written
        self._cond = threading.Condition()
        self._stopping = False
        self._give_up_at = float("inf")
        self.stored = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="spyglass-collect", daemon=True)
        self._thread.start()

    @property
    def queued(self) -> int:
        return self._queued

    def offer(self, decoded: Decoded) -> bool:
        """Queue a request's spans whole, or refuse them (False) when the queue is full.

        A request larger than the bound is taken when the queue is empty: otherwise it could
        never be, and the body size limit bounds it already.
        """
        count = decoded.accepted
        if count == 0:
            return True
        with self._cond:
            if self._stopping or (self._queued and self._queued + count > self._max):
                return False
            self._queue.append(decoded)
            self._queued += count
            self._cond.notify()
        return True

    def _take(self) -> list[Decoded] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            taken: list[Decoded] = []
            count = 0
            while self._queue and (not taken or count + self._queue[0].accepted <= BATCH_SPANS):
                item = self._queue.popleft()
                taken.append(item)
                count += item.accepted
            return taken

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            spans = self._convert(taken)
            written = self._write(spans)
            with self._cond:
                self._queued -= sum(item.accepted for item in taken)
                self.stored += written
                self.failed += len(spans) - written
                self._cond.notify_all()

    def _convert(self, taken: list[Decoded]) -> list[ReadableSpan]:
        spans = []
        for decoded in taken:
            for batch in decoded.batches:
                resource, scope = sdk_resource(batch.resource), batch_scope(batch)
                for span in batch.spans:
                    try:
                        joined = self._joins.take(span.span_id)
                        spans.append(to_readable(span, resource, scope, joined))
                    except Exception:  # one span the SDK will not build costs that span
                        logger.warning("spyglass collect: could not convert a span", exc_info=True)
        return spans

    def _write(self, spans: list[ReadableSpan]) -> int:
        """Store ``spans``, retrying while the database refuses; how many were stored."""
        exporter = self._exporter
        exporter.export(spans)
        delay = _RETRY_FIRST_S
        while exporter.pending_count():
            if time.monotonic() > self._give_up_at:
                return len(spans) - exporter.pending_count()
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)
            exporter.force_flush()
        return len(spans)

    def close(self, timeout: float = 30.0) -> int:
        """Write out what is queued (for at most ``timeout`` seconds once the database refuses),
        shut the exporter down, and return how many accepted spans were lost."""
        with self._cond:
            self._stopping = True
            self._give_up_at = time.monotonic() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + 5)
        with self._cond:
            lost = self.failed + self._queued
        self._exporter.shutdown()  # logs the spans it still holds, if any
        return lost
