"""Streams that keep their query open: wrappers for a ``StreamingResponse.response_gen``.

With ``streaming=True`` a query engine returns at once; the model runs later, while the caller
iterates ``response_gen``. The wrapper keeps the spans that returned the stream (the
synthesizer, then the query engine: its *owners*) open, makes the innermost owner current
while each chunk is produced (the OTel context, and LlamaIndex's own ``active_span_id``, so
the model call nests under it exactly as it would without streaming), gathers the text, and
ends the owners when the stream is exhausted, fails, is closed, or is garbage collected.

The wrappers subclass ``collections.abc.Generator`` / ``AsyncGenerator`` so code that checks
for a generator still sees one. Tracing failures are logged; the caller's iteration, and
every exception it raises, pass through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from llama_index.core.instrumentation.span import active_span_id
from opentelemetry import context as otel_context

from spyglass.integrations.llama_index._extract import MAX_STREAM_CHARS

if TYPE_CHECKING:
    from spyglass.integrations.llama_index._records import Record
    from spyglass.integrations.llama_index._tracker import Tracker

logger = logging.getLogger("spyglass")


class _Owned:
    """What both wrappers share: the owners, the text so far, and ending them once."""

    def _setup(self, tracker: Tracker, owner: Record) -> None:
        self.tracker = tracker
        self.owners: list[Record] = [owner]
        self._parts: list[str] = []
        self._size = 0
        self._done = False

    def _collect(self, item: object) -> None:
        if isinstance(item, str) and self._size < MAX_STREAM_CHARS:
            self._parts.append(item)
            self._size += len(item)

    def _finish(self, err: BaseException | None) -> None:
        if self._done:
            return
        self._done = True
        try:
            text = "".join(self._parts)
            self.tracker.finish_streaming_below(self.owners, err)
            for owner in self.owners:
                self.tracker.finish(owner, text, err)
        except Exception:
            logger.warning("spyglass could not end a LlamaIndex stream's spans", exc_info=True)

    def _enter(self) -> tuple[object, object]:
        owner = self.owners[0]
        return otel_context.attach(owner.ctx), active_span_id.set(owner.id)

    @staticmethod
    def _leave(tokens: tuple[object, object]) -> None:
        otel_token, li_token = tokens
        active_span_id.reset(li_token)  # type: ignore[arg-type]
        otel_context.detach(otel_token)  # type: ignore[arg-type]

    def __del__(self) -> None:  # dropped unconsumed: the owners must still end
        if not getattr(self, "_done", True):
            self._finish(None)


class SyncStream(_Owned, Generator[object, object, None]):
    """Wraps a sync token generator."""

    def __init__(self, tracker: Tracker, inner: Generator[Any, Any, Any], owner: Record) -> None:
        self._setup(tracker, owner)
        self._inner = inner

    def send(self, value: object) -> object:
        if self._done:
            return self._inner.send(value)
        tokens = self._enter()
        try:
            item = self._inner.send(value)
        except StopIteration:
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        finally:
            self._leave(tokens)
        self._collect(item)
        return item

    def throw(
        self,
        typ: type[BaseException] | BaseException,
        val: object = None,
        tb: TracebackType | None = None,
    ) -> object:
        try:
            return self._inner.throw(typ, val, tb)  # type: ignore[arg-type]
        except BaseException as exc:
            self._finish(None if isinstance(exc, (StopIteration, GeneratorExit)) else exc)
            raise

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._finish(None)


class AsyncStream(_Owned, AsyncGenerator[object, object]):
    """Wraps an async token generator; each step runs in the awaiting task's context."""

    def __init__(self, tracker: Tracker, inner: AsyncGenerator[Any, Any], owner: Record) -> None:
        self._setup(tracker, owner)
        self._inner = inner

    async def asend(self, value: object) -> object:
        if self._done:
            return await self._inner.asend(value)
        tokens = self._enter()
        try:
            item = await self._inner.asend(value)
        except StopAsyncIteration:
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(exc)
            raise
        finally:
            self._leave(tokens)
        self._collect(item)
        return item

    async def athrow(
        self,
        typ: type[BaseException] | BaseException,
        val: object = None,
        tb: TracebackType | None = None,
    ) -> object:
        try:
            return await self._inner.athrow(typ, val, tb)  # type: ignore[arg-type]
        except BaseException as exc:
            self._finish(None if isinstance(exc, (StopAsyncIteration, GeneratorExit)) else exc)
            raise

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._finish(None)
