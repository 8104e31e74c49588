"""Streamed SDK calls: the proxy that keeps a call's span open until its stream ends.

A streamed result comes back inside ``TracedStream`` / ``AsyncTracedStream``, a
``wrapt.ObjectProxy`` (``isinstance(result, openai.Stream)`` still holds; every attribute but
iteration, ``close`` and the context-manager methods goes straight to the stream). Each item
passes through the operation's ``Recorder``, which accumulates a snapshot shaped like the
non-streamed result so the same response extractors read it, and may hide an item the caller
did not ask for (the usage chunk spyglass requested). ``__enter__`` returns the proxy, as the
stream's own returns the bare stream.

The span ends exactly once (``StreamState.end``), with what was received so far, when the
stream is exhausted (``done``), fails (``error``), is closed or exited (``closed``), or is
garbage-collected or swept by ``end_open_streams()`` (``abandoned``). Breaking out of a
``for`` loop alone ends nothing: the caller may go on reading. Open states sit in a set
that ``end_open_streams`` sweeps (uninstall and exit call it); a state leaves the set when it
ends, and the ``weakref.finalize`` on the proxy guarantees that it ends.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import wrapt

from spyglass.tracer import attributes as A

if TYPE_CHECKING:
    from spyglass.integrations._sdk_common import LLMCall

logger = logging.getLogger("spyglass")


class Recorder(Protocol):
    """Accumulates one stream."""

    def observe(self, item: object) -> bool:
        """Take one streamed item; False hides it from the caller."""
        ...

    def snapshot(self) -> object:
        """What was received so far, shaped like the non-streamed result."""
        ...


# Re-entrant locks: a finalizer may run, through garbage collection, in the middle of any code
# of the same thread, including code holding these locks.
_open_lock = threading.RLock()
_open_streams: set[StreamState] = set()


def register(state: StreamState, proxy: object) -> None:
    """Track ``state`` until it ends; end it as ``abandoned`` when ``proxy`` is collected."""
    state.finalizer = weakref.finalize(proxy, state.end, "abandoned")
    with _open_lock:
        _open_streams.add(state)


def end_open_streams(integration: str | None = None) -> int:
    """End the span of every stream still open (of one integration, or all) with what it has
    received so far, marked ``abandoned``; returns how many. Safe to call at any time."""
    with _open_lock:
        snapshot = _open_streams.copy()  # in C: a finalizer cannot change it mid-copy
    states = [s for s in snapshot if integration in (None, s.call.op.integration)]
    for state in states:
        state.end("abandoned")
    return len(states)


class StreamState:
    """The open span of one stream: first-chunk time, the recorder, and ending exactly once."""

    __slots__ = ("call", "ended", "finalizer", "first", "lock", "recorder")

    def __init__(self, call: LLMCall, recorder: Recorder) -> None:
        self.call = call
        self.recorder = recorder
        self.first = True
        self.ended = False
        self.lock = threading.RLock()
        self.finalizer: weakref.finalize[..., object] | None = None

    def observe(self, item: object) -> bool:
        """Record one item; False to hide it from the caller. Never raises."""
        if self.ended:
            return True
        try:
            if self.first:
                self.first = False
                elapsed = time.monotonic() - self.call.started
                self.call.span.set_attribute(A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, elapsed)
            return self.recorder.observe(item)
        except Exception:
            logger.debug("spyglass could not record a streamed item", exc_info=True)
            return True

    def end(self, reason: str, error: BaseException | None = None) -> None:
        """End the span once, with the snapshot so far. Never raises."""
        with self.lock:
            if self.ended:
                return
            self.ended = True
        with _open_lock:
            _open_streams.discard(self)
        if self.finalizer is not None:
            self.finalizer.detach()
        try:
            self.call.record(self.recorder.snapshot())
            self.call.span.set_attribute(A.SPYGLASS_STREAM_END, reason)
            if error is not None:
                self.call.fail(error)
            else:
                self.call.end()
        except Exception:
            logger.warning("spyglass could not end a stream's span", exc_info=True)


class TracedStream(wrapt.ObjectProxy):
    """A sync SDK stream whose items are recorded and whose end ends the span."""

    def __init__(self, wrapped: object, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_state = state

    def __iter__(self) -> Iterator[object]:
        state: StreamState = self._self_state
        iterator = iter(self.__wrapped__)
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                state.end("done")
                return
            except BaseException as exc:
                state.end("error", exc)
                raise
            if state.observe(item):
                yield item

    def __next__(self) -> object:
        state: StreamState = self._self_state
        while True:
            try:
                item = self.__wrapped__.__next__()
            except StopIteration:
                state.end("done")
                raise
            except BaseException as exc:
                state.end("error", exc)
                raise
            if state.observe(item):
                return item

    def __enter__(self) -> TracedStream:
        self.__wrapped__.__enter__()
        return self  # the stream's own __enter__ returns the unwrapped stream

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._self_state.end("closed")

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_state.end("closed")


class AsyncTracedStream(wrapt.ObjectProxy):
    """The async twin of ``TracedStream``."""

    def __init__(self, wrapped: object, state: StreamState) -> None:
        super().__init__(wrapped)
        self._self_state = state

    async def __aiter__(self) -> AsyncIterator[object]:
        state: StreamState = self._self_state
        iterator = self.__wrapped__.__aiter__()
        while True:
            try:
                item = await iterator.__anext__()
            except StopAsyncIteration:
                state.end("done")
                return
            except BaseException as exc:
                state.end("error", exc)
                raise
            if state.observe(item):
                yield item

    async def __anext__(self) -> object:
        state: StreamState = self._self_state
        while True:
            try:
                item = await self.__wrapped__.__anext__()
            except StopAsyncIteration:
                state.end("done")
                raise
            except BaseException as exc:
                state.end("error", exc)
                raise
            if state.observe(item):
                return item

    async def __aenter__(self) -> AsyncTracedStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._self_state.end("closed")

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_state.end("closed")
