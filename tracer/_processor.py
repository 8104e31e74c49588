"""A batch span processor: bounded memory, and the program never waits on a stuck exporter.

The OTel SDK's ``BatchSpanProcessor`` drops spans once its queue is full (2,048 by default).
Here a full queue (``max_queue_size``) makes the producing thread wait for the worker instead,
as long as the worker is making progress: a burst of any size is stored whole, the program
running at the exporter's pace meanwhile. A call into the exporter that has run four times as
long as calls have been taking (at least ``stall_after``, 0.5 s, at most four times that: a
batch of 2,000 spans takes 0.1 s, or 0.3-0.9 s beside a busy program on a loaded machine), or
that failed, means the exporter is stuck rather than slow (another process holds the database's
write lock and SQLite waits out its 10 s busy timeout; a collector does not answer). Then
nobody waits: spans are held up to ``max_backlog`` (50,000), and past that new ones are
dropped, counted and reported (one warning, a ``False`` from the next ``force_flush``, the
total at shutdown). Once a call succeeds the program waits again, but only to keep the backlog
from growing: it is not made to wait for it to drain.

The worker exports when ``min_batch`` spans are waiting or the oldest has waited
``schedule_delay``, whichever comes first (or at once for a flush). Exporting each span as it
ends would cost a transaction per handful of spans and keep the worker competing for the GIL
with the traced program the whole time; a batch costs one transaction and one burst of work.

Every call into the exporter (export, force_flush, shutdown) is made by the worker, so waits
for the database or the network are never the caller's: ``force_flush`` and ``shutdown`` wait
for the worker at most their timeout. After ``fork()`` the child starts its own worker with an
empty queue (the parent exports its own), and drops the spans it ends that the parent started:
a child that unwinds an inherited ``with`` block must not store the parent's span a second
time, with the child's end and status. ``_lifecycle`` flushes processors in multiprocessing
children, which end without running atexit.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spyglass.tracer import _lifecycle
from spyglass.tracer._warn import reason as _reason
from spyglass.tracer._warn import warn

logger = logging.getLogger("spyglass")

#: An exporter call running longer than this, in seconds, means the exporter is stuck.
STALL_AFTER = 0.5
#: Spans held while the exporter is stuck (the exporter's own retry bound is the same).
MAX_BACKLOG = 50_000
#: How long ``shutdown`` waits for the worker to write what is queued, by default.
EXIT_TIMEOUT = 5.0

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
        target: str = "the exporter",
        max_queue_size: int = 8_000,
        max_backlog: int = MAX_BACKLOG,
        max_batch_size: int = 2_000,
        min_batch_size: int = 500,
        schedule_delay: float = 0.25,
        stall_after: float = STALL_AFTER,
        exit_timeout: float = EXIT_TIMEOUT,
    ) -> None:
        self._exporter = exporter
        self._target = target  # where the spans go, for messages: a path, a collector's URL
        self._max_queue = max_queue_size
        self._max_backlog = max(max_backlog, max_queue_size)
        self._max_batch = max_batch_size
        self._min_batch = min_batch_size
        self._delay = schedule_delay
        self._stall_after = stall_after
        self.exit_timeout = exit_timeout
        self._shutdown = False
        _register_fork_hook()
        self._start()

    def _start(self) -> None:
        self._generation = _forks
        self._queue: deque[ReadableSpan] = deque()
        # Re-entrant: a SIGTERM handler (``_lifecycle``) flushes on the main thread, which the
        # signal may have caught holding this lock (in on_end, or in an exit flush under way).
        self._cond = threading.Condition(threading.RLock())
        self._limit = self._max_queue  # producers wait past this; raised while exports are stuck
        self._ended = 0  # spans queued so far
        self._done = 0  # spans handed to the exporter so far
        self._in_flight = 0  # spans of the exporter call under way
        self._busy_since = 0.0  # time.monotonic() when that call began; 0.0 when idle
        self._failing = False  # the last exporter call failed
        self._typical = 0.0  # how long a successful export takes (moving average, seconds)
        self._last_ok = time.monotonic()  # when an exporter call last succeeded
        self._dropped = 0  # spans dropped because the exporter was stuck and the backlog full
        self._dropped_seen = 0  # of those, how many a force_flush has reported
        self._flush_asked = 0  # force_flush requests so far
        self._flush_target = 0  # spans queued before the latest request
        self._flushed = 0  # requests answered
        self._flush_ok = True
        self._stopping = False
        self._finished = False  # the worker has shut the exporter down and ended
        self._first_at = 0.0  # time.monotonic() when the oldest queued span arrived
        self._worker = threading.Thread(target=self._run, name="spyglass-exporter", daemon=True)
        self._worker.start()
        _lifecycle.watch(self)

    def running_here(self) -> bool:
        """Whether this processor's worker belongs to this process (not to a forked parent)."""
        return self._generation == _forks and not self._shutdown

    # --- the producing threads -------------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return

    def on_end(self, span: ReadableSpan) -> None:
        if self._shutdown:
            return
        if self._generation != _forks:
            self._start()
        elif self._stopping:
            return  # shutting down: the worker is draining what it has, and then ends
        if _forked_at_ns and (span.start_time or 0) < _forked_at_ns:
            return  # started before the fork: the parent's span, which the parent exports
        with self._cond:
            queue = self._queue
            if len(queue) < self._limit or self._room():
                if not queue:
                    self._first_at = time.monotonic()  # the batch's schedule delay starts now
                queue.append(span)
                self._ended += 1
                if len(queue) == self._min_batch:
                    self._cond.notify_all()
                return
            self._dropped += 1
            if self._dropped > 1:
                return
            stuck_for = time.monotonic() - self._last_ok
        warn(
            "spyglass is dropping spans: %s has taken none for %.1f s and %d are waiting "
            "(spyglass.flush() returns False; the total is logged at exit)",
            self._target,
            stuck_for,
            len(queue),
        )

    def _room(self) -> bool:
        """Wait (lock held) while the worker makes room; False if the span must be dropped."""
        while len(self._queue) >= self._limit:
            if self._stuck():
                # Hold spans rather than wait for an exporter that is not taking any.
                self._limit = self._max_backlog
                return len(self._queue) < self._limit
            self._cond.notify_all()
            self._cond.wait(0.05)
        return True

    def _stuck(self) -> bool:
        if self._failing or not self._worker.is_alive():
            return True
        busy = self._busy_since
        if busy == 0.0:
            return False
        patience = min(max(self._stall_after, 4 * self._typical), 4 * self._stall_after)
        return time.monotonic() - busy > patience

    # --- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        _lifecycle.quiet_thread()
        try:
            while self._next():
                pass
        finally:
            self._call(self._exporter.shutdown)
            with self._cond:
                self._finished = True
                self._flushed = self._flush_asked  # nobody waits on a worker that has ended
                self._flush_ok = not self._queue and not self._failing
                self._cond.notify_all()

    def _wait_for_batch(self) -> None:
        """(Lock held.) Until ``min_batch`` spans wait, the oldest's delay is up, a flush is
        asked for, or the processor stops."""
        while not (
            len(self._queue) >= self._min_batch
            or self._flush_asked > self._flushed
            or self._stopping
        ):
            if not self._queue:
                self._cond.wait(self._delay)  # until a span arrives (on_end does not notify)
                continue
            left = self._first_at + self._delay - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _next(self) -> bool:
        """Export one batch and answer flush requests; False once stopped with nothing left."""
        with self._cond:
            self._wait_for_batch()
            if not self._queue and self._flush_asked <= self._flushed:
                return not self._stopping
            count = min(len(self._queue), self._max_batch)
            batch = [self._queue.popleft() for _ in range(count)]
            asked, target = self._flush_asked, self._flush_target
            self._in_flight, self._busy_since = count, time.monotonic()
            self._cond.notify_all()  # producers waiting for room
        ok = self._export(batch)
        flushing = asked > self._flushed and self._done + count >= target
        flush_ok = self._call(self._exporter.force_flush) if flushing else True
        with self._cond:
            self._done += count
            self._failing = not (ok and flush_ok)
            if not self._failing:
                self._succeeded(count)
            self._in_flight, self._busy_since = 0, 0.0
            if flushing:
                self._flushed, self._flush_ok = asked, flush_ok
            self._cond.notify_all()
        return True

    def _succeeded(self, count: int) -> None:
        """(Lock held.) Bookkeeping after an exporter call that worked."""
        self._last_ok = time.monotonic()
        if count:
            took = self._last_ok - self._busy_since
            self._typical = 0.8 * self._typical + 0.2 * took if self._typical else took
        if self._limit > self._max_queue:
            # Recovered: keep the backlog from growing, but do not make the program wait for
            # it to drain; the bound comes back down as the queue does.
            self._limit = max(self._max_queue, min(self._limit, len(self._queue)))

    def _export(self, batch: list[ReadableSpan]) -> bool:
        if not batch:
            return True
        return self._call(lambda: self._exporter.export(batch) == SpanExportResult.SUCCESS)

    def _call(self, call: Callable[[], object]) -> bool:
        try:
            return call() is not False
        except Exception:  # an exporter must not raise, but if one does the worker lives on
            warn("spyglass exporter failed: %s", _reason(), traceback=True)
            return False

    # --- flush and shutdown ----------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Wait (at most the timeout) until every span ended before the call is exported.

        False if the timeout passed first, the exporter failed, or spans were dropped since
        the previous flush.
        """
        if self._generation != _forks:
            return True
        with self._cond:
            return self._flush_locked(timeout_millis / 1000)

    def _flush_locked(self, timeout: float) -> bool:
        if not self._finished:
            self._flush_asked += 1
            ticket = self._flush_asked
            self._flush_target = self._ended
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._flushed >= ticket, max(0.0, timeout))
            flushed = self._flushed >= ticket and self._flush_ok
        else:
            flushed = not self._queue
        dropped = self._dropped - self._dropped_seen
        self._dropped_seen = self._dropped
        if dropped:
            logger.debug("spyglass dropped %d spans since the last flush", dropped)
        return flushed and not dropped

    def flush_for_exit(self, timeout: float) -> None:
        """Flush for a process that is ending, at most ``timeout`` seconds, warning if that
        was not enough (it may run in a signal handler: the lock is re-entrant)."""
        if not self.running_here():
            return
        with self._cond:
            flushed = self._flush_locked(timeout)
            unsent = self._unsent()
        if not flushed and unsent:
            self._gave_up(unsent, timeout)

    def stop(self) -> None:
        """Ask the worker to export what is queued and end; ``shutdown`` waits for it."""
        if self._generation == _forks:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()

    def shutdown(self, timeout: float | None = None) -> None:
        """Export what is queued (at most ``timeout`` seconds, default ``exit_timeout``) and
        shut the exporter down; nothing is taken from here on."""
        if self._shutdown:
            return
        self._shutdown = True
        if self._generation != _forks:  # a fork child that never ended a span: nothing queued
            self._call(self._exporter.shutdown)
            return
        wait = self.exit_timeout if timeout is None else timeout
        self.stop()
        self._worker.join(wait)
        if self._worker.is_alive():
            with self._cond:
                unsent = self._unsent()
            if unsent:
                self._gave_up(unsent, wait)
        if self._dropped:
            warn(
                "spyglass dropped %d spans in all: %s was not taking them",
                self._dropped,
                self._target,
            )

    def _unsent(self) -> int:
        """(Lock held.) Spans not yet stored: queued, being exported, or held by the exporter
        for a retry (the SQLite exporter keeps a batch the database refused)."""
        pending = getattr(self._exporter, "pending_count", None)
        held = pending() if callable(pending) else 0
        return len(self._queue) + self._in_flight + (held if isinstance(held, int) else 0)

    def _gave_up(self, unsent: int, waited: float) -> None:
        warn(
            "spyglass gave up on %d spans at shutdown: %s did not take them within %g s",
            unsent,
            self._target,
            waited,
        )
