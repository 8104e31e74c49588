"""Flushing where a process ends without atexit: multiprocessing's children.

A multiprocessing child (every start method) ends through ``os._exit`` once its target
returns, after ``multiprocessing.util._exit_function``: that runs the finalizers registered with
``multiprocessing.util.Finalize``, but not atexit, where the pipeline's own flush is. And
``Pool.terminate()``, which ``with Pool(...)`` calls on the way out, ends the workers with
SIGTERM, whose default action kills at once, queued spans and all.

So in a multiprocessing child, once a processor runs there, this module registers one
finalizer and, if the program has left SIGTERM to its default action, one handler. Both flush
every processor of the process, bounded in time; the handler then puts the default action back
and sends SIGTERM again, so the process ends exactly as it would have, a moment later. (Like
any Python signal handler it runs when the main thread next runs Python code; a handler the
program installed is never replaced.)

A child's finalizer registry is cleared as it starts (``BaseProcess._bootstrap``), which for
spawn and forkserver is after the main module was imported, where a top-level ``autolog()``
builds its pipeline: a processor started before then is handed to
``multiprocessing.util.register_after_fork``, whose callbacks run right after the clearing.
A process that has not imported multiprocessing is not touched.

spyglass's own threads block the signals a program handles (``quiet_thread``). The kernel gives
a signal sent to the process to any thread that does not block it; one that lands on a
spyglass thread runs no Python handler there and wakes nothing, so a main thread blocked in
``Pool``'s queue would never run the SIGTERM handler, and ``terminate()`` would wait for that
worker forever (seen once in ~50 runs of the Pool tests).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import weakref
from typing import Protocol

#: Bound on the flush when a multiprocessing child ends normally, in seconds.
CHILD_EXIT_TIMEOUT = 5.0
#: Bound on the flush when a multiprocessing child is sent SIGTERM (``Pool.terminate()``).
TERMINATE_TIMEOUT = 2.0


#: Signals that programs handle in Python, which must reach the main thread.
_PROGRAM_SIGNALS = frozenset(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM",
                 "SIGCHLD", "SIGWINCH")
    if hasattr(signal, name)
)  # fmt: skip


class Flushable(Protocol):
    def running_here(self) -> bool: ...

    def flush_for_exit(self, timeout: float) -> None: ...


_watched: weakref.WeakSet[Flushable] = weakref.WeakSet()
_hooked_pid = 0  # the process the hooks were installed in


def watch(processor: Flushable) -> None:
    """Flush ``processor`` when this process ends as a multiprocessing child."""
    _watched.add(processor)
    process = sys.modules.get("multiprocessing.process")
    if process is None:
        return  # multiprocessing not in use: atexit is how this process ends
    if process.parent_process() is not None:
        _install()  # a multiprocessing child, started
        return
    util = sys.modules.get("multiprocessing.util")
    if util is not None:  # in a spawn child importing the main module, or a parent
        util.register_after_fork(processor, _child_started)


def quiet_thread() -> None:
    """Block, in the calling thread (a spyglass worker), the signals meant for the program."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _PROGRAM_SIGNALS)


def _child_started(processor: Flushable) -> None:
    # In every child's start; a processor a fork child inherited runs in the parent, not here.
    if processor.running_here():
        _install()


def _install() -> None:
    global _hooked_pid
    pid = os.getpid()
    if _hooked_pid == pid:
        return
    _hooked_pid = pid
    from multiprocessing import util

    util.Finalize(None, _flush_all, args=(CHILD_EXIT_TIMEOUT,), exitpriority=0)
    if (
        threading.current_thread() is threading.main_thread()  # only there can it be set
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the program's own is kept
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)


def _flush_all(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for processor in list(_watched):
        if processor.running_here():
            processor.flush_for_exit(max(0.0, deadline - time.monotonic()))


def _on_sigterm(signum: int, frame: object) -> None:
    try:
        _flush_all(TERMINATE_TIMEOUT)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
