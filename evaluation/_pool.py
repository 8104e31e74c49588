"""The worker pool of ``evaluate``: N threads pulling examples from one queue.

Not ``ThreadPoolExecutor``: submitting a thousand futures while the first ones already run
makes the calling thread fight the workers for the GIL on every ``submit`` (a code-only run of
a fast target spent most of its time there). Here the workers take items from a queue and
put results on another; the caller only blocks on ``get``, which releases the GIL.

Each item runs in its own copy of the *caller's* context (``contextvars``), taken once when the
pool starts: the caller's inherited attributes reach every task, and nothing one task sets
(an OTel context attached, a pending prompt) leaks into the next task of the same thread.
Results come back as they finish. An exception in a task is re-raised in the caller, which
stops the workers after their current item; so does the caller leaving early.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Done:
    pass


class _Pool(Generic[T, R]):
    def __init__(self, items: Sequence[T], work: Callable[[T], R]) -> None:
        self.todo: queue.SimpleQueue[T] = queue.SimpleQueue()
        for item in items:
            self.todo.put(item)
        self.results: queue.SimpleQueue[R | _Failure | _Done] = queue.SimpleQueue()
        self.work = work
        self.stop = threading.Event()
        self.go = threading.Event()
        self.context = contextvars.copy_context()

    def worker(self) -> None:
        self.go.wait()
        try:
            while not self.stop.is_set():
                try:
                    item = self.todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    self.results.put(self.context.copy().run(self.work, item))
                except BaseException as exc:  # handed to the caller, which decides
                    self.results.put(_Failure(exc))
                    return
        finally:
            self.results.put(_Done())


def pooled(items: Sequence[T], work: Callable[[T], R], concurrency: int) -> Iterator[R]:
    """``work(item)`` for every item on ``concurrency`` threads; results as they finish."""
    pool: _Pool[T, R] = _Pool(items, work)
    threads = [
        threading.Thread(target=pool.worker, name=f"spyglass-eval-{i}", daemon=True)
        for i in range(min(concurrency, len(items)))
    ]
    for thread in threads:
        thread.start()
    # Workers wait for every thread to have started: a worker already busy would hold the GIL
    # while the next ``start()`` waits for its thread to come up.
    pool.go.set()
    running = len(threads)
    try:
        while running:
            result = pool.results.get()
            if isinstance(result, _Done):
                running -= 1
            elif isinstance(result, _Failure):
                raise result.error
            else:
                yield result
    finally:
        pool.stop.set()
        pool.go.set()
        for thread in threads:
            thread.join()
