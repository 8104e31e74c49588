"""A batch span processor that never drops a span and keeps memory bounded.

The OTel SDK's ``BatchSpanProcessor`` drops spans once its queue is full (2,048 by default).
Here a full queue makes the producing thread wait for the writer instead (backpressure), so a
burst of any size is stored whole while at most ``max_queue_size`` spans wait in memory. The
wait only happens when the program outruns SQLite, which takes tens of thousands of spans a
second.

The worker exports when ``min_batch`` spans are waiting or the oldest has waited
``schedule_delay``, whichever comes first (or at once for a flush). Exporting each span as it
ends would cost a transaction per handful of spans and keep the worker competing for the GIL
with the traced program the whole time; a batch costs one transaction and one burst of work.

``force_flush`` returns once everything that ended before the call is in the exporter. After
``fork()`` the child starts its own worker with an empty queue (the parent exports its own), and
drops the spans it ends that the parent started: a child that unwinds an inherited ``with``
block must not store the parent's span a second time, with the child's end and status.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger("spyglass")

_forked_at_ns = 0  # when this process was forked; 0 if it was not (or not through os.fork)
_forks = 0  # how many forks led to this process: cheaper to compare than os.getpid(), a syscall
_hook_registered = False


def _record_fork() -> None:
    global _forked_at_ns, _forks
    _forked_at_ns = time.time_ns()
    _forks += 1


def _register_fork_hook() -> None:
    global _hook_registered
    if not _hook_registered and hasattr(os, "register_at_fork"):
        _hook_registered = True
        os.register_at_fork(after_in_child=_record_fork)


class BlockingBatchProcessor(SpanProcessor):
    """Queue finished spans and export them in batches from one worker thread per process."""

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int = 8_000,
        max_batch_size: int = 2_000,
        min_batch_size: int = 500,
        schedule_delay: float = 0.25,
    ) -> None:
        self._exporter = exporter
        self._max_queue = max_queue_size
        self._max_batch = max_batch_size
        self._min_batch = min_batch_size
        self._delay = schedule_delay
        self._shutdown = False
        _register_fork_hook()
        self._start()

    def _start(self) -> None:
        self._generation = _forks
        self._queue: deque[ReadableSpan] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._ended = 0  # spans queued so far
        self._done = 0  # spans handed to the exporter so far
        self._flush_wanted = False
        self._stopping = False
        self._first_at = 0.0  # time.monotonic() when the oldest queued span arrived
        self._worker = threading.Thread(target=self._run, name="spyglass-exporter", daemon=True)
        self._worker.start()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return

    def on_end(self, span: ReadableSpan) -> None:
        if self._shutdown:
            return
        if self._generation != _forks:
            self._start()
        if _forked_at_ns and (span.start_time or 0) < _forked_at_ns:
            return  # started before the fork: the parent's span, which the parent exports
        with self._cond:
            while len(self._queue) >= self._max_queue and self._worker.is_alive():
                self._cond.notify_all()
                self._cond.wait(0.05)
            if not self._queue:
                self._first_at = time.monotonic()  # the batch's schedule delay starts now
            self._queue.append(span)
            self._ended += 1
            if len(self._queue) == self._min_batch:
                self._cond.notify_all()

    def _batch_ready(self) -> bool:
        return len(self._queue) >= self._min_batch or self._flush_wanted or self._stopping

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._stopping:
                    self._cond.wait(self._delay)  # until a span (or a flush) arrives
                if self._queue and not self._batch_ready():
                    # A batch has begun: the rest has until the first span's delay is up.
                    deadline = self._first_at + self._delay
                    while not self._batch_ready():
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._cond.wait(left)
                if not self._queue and not self._flush_wanted:
                    if self._stopping:
                        return
                    continue
                count = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(count)]
                self._cond.notify_all()  # producers waiting on a full queue
            self._export(batch)
            with self._cond:
                self._done += len(batch)
                if not self._queue:
                    self._flush_wanted = False
                self._cond.notify_all()

    def _export(self, batch: list[ReadableSpan]) -> None:
        if not batch:
            return
        try:
            self._exporter.export(batch)
        except Exception:  # an exporter must not raise, but if one does the worker lives on
            logger.warning("spyglass exporter failed", exc_info=True)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        if self._generation != _forks:
            return True
        with self._cond:
            target = self._ended
            if self._worker.is_alive():
                self._flush_wanted = True
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._done >= target, timeout_millis / 1000)
            else:  # interpreter shutting down, or the worker died: export here
                self._drain_inline()
            flushed = self._done >= target
        return flushed and self._exporter.force_flush(timeout_millis)

    def _drain_inline(self) -> None:
        while self._queue:
            count = min(len(self._queue), self._max_batch)
            batch = [self._queue.popleft() for _ in range(count)]
            self._export(batch)
            self._done += len(batch)

    def shutdown(self) -> None:
        if self._shutdown:
            return
        if self._generation == _forks:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._worker.join(timeout=30)
            with self._cond:
                self._drain_inline()
        self._shutdown = True
        self._exporter.shutdown()
