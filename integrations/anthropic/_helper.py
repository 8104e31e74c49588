"""``messages.stream``: the helper that streams without going through ``messages.create``.

``Messages.stream`` (a plain ``def`` on the async class too) returns a ``MessageStreamManager``
that sends the request only when entered, then wraps the SDK's raw event stream in a
``MessageStream`` that accumulates the message. So the wrapper returns the manager inside a
proxy whose ``__enter__`` / ``__aenter__`` starts the span, runs the request, and swaps the
``MessageStream``'s raw stream for spyglass's traced one before anything has been read. Every
way of reading the helper (iteration, ``text_stream``, ``get_final_message``, ``until_done``)
and of closing it ends up on that raw stream, so the span ends with it.

``_raw_stream`` is a private attribute of the SDK's helper; if it is ever missing the span ends
at once with the request only, and the helper works as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

import wrapt

from spyglass.integrations._sdk_common import Instrumentation, LLMCall, Operation, Wrapper

logger = logging.getLogger("spyglass")


def stream_helper(inst: Instrumentation, op: Operation) -> Wrapper:
    """The wrapper of ``(Async)Messages.stream``."""

    def wrapper(
        wrapped: Callable[..., object],
        instance: object,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> object:
        manager = wrapped(*args, **kwargs)
        if not inst.enabled:
            return manager
        return _TracedManager(manager, lambda: inst.begin(op, instance, kwargs))

    return wrapper


def _attach(call: LLMCall, stream: object) -> object:
    """Put the traced raw stream under the SDK's ``MessageStream``."""
    try:
        raw = getattr(stream, "_raw_stream", None)
        if raw is None:
            call.end()
        else:
            stream._raw_stream = call.traced_stream(raw)  # type: ignore[attr-defined]
    except Exception:
        logger.warning("spyglass could not trace an anthropic stream", exc_info=True)
    return stream


class _TracedManager(wrapt.ObjectProxy):
    """A ``MessageStreamManager`` whose request is traced when it is entered."""

    def __init__(self, manager: object, begin: Callable[[], LLMCall | None]) -> None:
        super().__init__(manager)
        self._self_begin = begin

    def __enter__(self) -> object:
        call: LLMCall | None = self._self_begin()
        if call is None:
            return self.__wrapped__.__enter__()
        try:
            with call.active():
                stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            call.fail(exc)
            raise
        return _attach(call, stream)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self.__wrapped__.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> object:
        call: LLMCall | None = self._self_begin()
        if call is None:
            return await self.__wrapped__.__aenter__()
        try:
            with call.active():
                stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            call.fail(exc)
            raise
        return _attach(call, stream)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return await self.__wrapped__.__aexit__(exc_type, exc, tb)
