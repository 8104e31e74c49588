"""Running the receiver: open the file, listen, stop on SIGINT / SIGTERM after a full flush.

``run`` is the whole life of one receiver on the running event loop, so tests can drive it in
a thread with their own ``stop`` event; ``serve`` is what ``spyglass collect`` calls. Shutdown
goes in order: stop listening, let requests in flight finish, write out the queue, close the
file. Nothing accepted (answered 200) is lost unless the database refuses writes for the whole
``drain_timeout``, and then the report says how many.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass

from spyglass.collector._logs import EventJoin
from spyglass.collector._server import CollectorSettings, Counts, Receiver, make_app
from spyglass.collector._writer import SpanWriter
from spyglass.errors import CollectorError
from spyglass.tracer._db import open_for_write
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._redact import Redactor


@dataclass(frozen=True)
class Report:
    """How a receiver's run went."""

    counts: Counts
    stored: int
    lost: int
    late_events: int


def _exporter(settings: CollectorSettings) -> SQLiteSpanExporter:
    try:  # a file that cannot be used is an error now, not a warning at the first request
        open_for_write(settings.db).close()
    except (OSError, sqlite3.Error) as exc:
        raise CollectorError(f"cannot write to {settings.db}: {exc}") from None
    exporter = SQLiteSpanExporter(settings.db, Redactor())
    exporter.open()
    return exporter


async def run(
    settings: CollectorSettings,
    ready: Callable[[str], None] = lambda url: None,
    stop: asyncio.Event | None = None,
) -> Report:
    """Serve until ``stop`` is set (or SIGINT / SIGTERM, in the main thread); then flush."""
    from aiohttp import web

    exporter = _exporter(settings)
    joins = EventJoin()
    writer = SpanWriter(exporter, joins, max_queued_spans=settings.max_queued_spans)
    receiver = Receiver(settings, writer, joins)
    runner = web.AppRunner(
        make_app(receiver),
        handle_signals=False,
        access_log=None,
        auto_decompress=False,  # gzip is inflated by _server, within the size limit
        keepalive_timeout=settings.idle_timeout,
        shutdown_timeout=5.0,
    )
    stop = stop or asyncio.Event()
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await asyncio.to_thread(writer.close, 0)
        raise
    _on_signals(stop)
    host, port = runner.addresses[0][:2]
    ready(f"http://{_bracket(host)}:{port}")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # stop listening; requests in flight finish
        lost = await asyncio.to_thread(writer.close, settings.drain_timeout)
    return Report(receiver.counts, writer.stored, lost, joins.late)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _on_signals(stop: asyncio.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers: Ctrl-C raises KeyboardInterrupt there instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def serve(settings: CollectorSettings, ready: Callable[[str], None]) -> Report:
    """Run a receiver in this thread until SIGINT / SIGTERM; the report once all is flushed."""
    try:
        return asyncio.run(run(settings, ready))
    except OSError as exc:  # the port is taken, the address is not ours, ...
        raise CollectorError(f"cannot listen on {settings.host}:{settings.port}: {exc}") from None
