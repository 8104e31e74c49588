"""Flushing where a process ends without atexit: multiprocessing's children.

Once its target returns, a multiprocessing child runs ``multiprocessing.util._exit_function``
(the finalizers registered with ``multiprocessing.util.Finalize``) and ends through
``os._exit`` (fork, forkserver: atexit, where the pipeline's own flush is, never runs) or
``sys.exit`` (spawn). And ``Pool.terminate()``, which ``with Pool(...)`` calls on the way out,
ends the workers with SIGTERM, whose default action kills at once, queued spans and all.

So in a multiprocessing child, once a processor runs there, this module registers one
finalizer and, if the program has left SIGTERM to its default action, one handler (a handler
the program installed is never replaced). Both flush every processor of the process, bounded
in time; the handler then puts the default action back and sends SIGTERM again, so the process
ends exactly as it would have, a moment later.

A child's finalizer registry is cleared as it starts (``BaseProcess._bootstrap``), which for
spawn and forkserver is after the main module was imported, where a top-level ``autolog()``
builds its pipeline: a processor started before then is handed to
``multiprocessing.util.register_after_fork``, whose callbacks run right after the clearing.
A process that has not imported multiprocessing is not touched.

A Python-level handler runs only when the main thread next runs Python code, and a signal can
miss waking it: one that lands on another thread, or that arrives as the main thread is about
to block (in ``sem_wait``, say), trips the handler and wakes nothing. A Pool worker blocked on
its queue would then never run the handler, never die, and ``terminate()`` would wait for it
forever (seen in about one run in ten of tests/test_processes.py), where the default action
would have killed it. So, where the program has no wakeup fd of its own, the handler comes
with a small thread reading one (``signal.set_wakeup_fd``, which the C-level handler writes to
whichever thread it runs on): a SIGTERM whose handler has not started shortly after is sent
again to the main thread itself, which interrupts its wait. spyglass's threads also block the
signals a program handles (``quiet_thread``), so that none lands there. A fork child gets the
default action back (and no wakeup fd) until it traces: the handler and the reader are this
process's, not its children's.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import weakref
from typing import Protocol

logger = logging.getLogger("spyglass")

#: Bound on the flush when a multiprocessing child ends normally, in seconds.
CHILD_EXIT_TIMEOUT = 5.0
#: Bound on the flush when a multiprocessing child is sent SIGTERM (``Pool.terminate()``).
TERMINATE_TIMEOUT = 2.0
#: How long a SIGTERM's handler may take to start before the signal is sent to the main thread.
RESEND_AFTER = 0.2


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
_fork_hook_registered = False
_sigterm_started = threading.Event()  # the handler has begun, in this process
_wakeup: tuple[int, int] | None = None  # the wakeup pipe (read, write) set here, if any


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
    global _hooked_pid, _fork_hook_registered
    pid = os.getpid()
    if _hooked_pid == pid:
        return
    _hooked_pid = pid
    from multiprocessing import util

    util.Finalize(None, _flush_all, args=(CHILD_EXIT_TIMEOUT,), exitpriority=0)
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        _fork_hook_registered = True
        os.register_at_fork(after_in_child=_after_fork_in_child)
    if (
        threading.current_thread() is threading.main_thread()  # only there can it be set
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the program's own is kept
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
        _read_wakeups()


def _read_wakeups() -> None:
    """(Main thread.) Set a wakeup fd, unless the program has one, and read it on a thread."""
    global _wakeup
    read_fd, write_fd = os.pipe()  # not inherited by exec'd children
    os.set_blocking(write_fd, False)
    previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    if previous != -1:  # the program's own (asyncio's): its reader wakes the main thread
        signal.set_wakeup_fd(previous)
        os.close(read_fd)
        os.close(write_fd)
        return
    _wakeup = (read_fd, write_fd)
    reader = threading.Thread(
        target=_resend_missed_sigterm, args=(read_fd,), name="spyglass-signals", daemon=True
    )
    reader.start()


def _resend_missed_sigterm(read_fd: int) -> None:
    quiet_thread()
    main = threading.main_thread().ident
    while True:
        try:
            received = os.read(read_fd, 64)
        except OSError:
            return
        if not received:
            return
        if signal.SIGTERM not in received:
            continue
        started = _sigterm_started
        for _ in range(25):  # a few seconds; each send that finds the thread awake is enough
            if started.wait(RESEND_AFTER) or signal.getsignal(signal.SIGTERM) is not _on_sigterm:
                break
            if main is not None:
                signal.pthread_kill(main, signal.SIGTERM)


def _after_fork_in_child() -> None:
    """The handler and the wakeup reader belong to the parent; a child installs its own."""
    global _wakeup, _sigterm_started
    _sigterm_started = threading.Event()  # the parent's may have been mid-wait at the fork
    try:
        if _wakeup is not None:
            read_fd, write_fd = _wakeup
            _wakeup = None
            current = signal.set_wakeup_fd(-1)
            if current != write_fd:  # the program has set its own since: keep it
                signal.set_wakeup_fd(current)
            os.close(read_fd)
            os.close(write_fd)
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):  # not the main thread (cannot be, after a fork), or closed
        logger.debug("spyglass could not undo its SIGTERM handling in a fork child", exc_info=True)


def _flush_all(timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for processor in list(_watched):
        if processor.running_here():
            processor.flush_for_exit(max(0.0, deadline - time.monotonic()))


def _on_sigterm(signum: int, frame: object) -> None:
    _sigterm_started.set()
    try:
        _flush_all(TERMINATE_TIMEOUT)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
