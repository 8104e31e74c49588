"""The decorator side of ``spyglass.trace``: wrappers for each kind of function.

A wrapper asks its spec for a started span (``spec.start()`` gives the entered span, or None
when spyglass could not start one, and the context token) and finishes it however the function
ends. Generators keep their span open while iterated and make it current only while their body
runs, so the caller's own spans between two ``next`` calls do not nest under it.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Protocol, cast

from opentelemetry import context as otel_context

from spyglass.tracer._warn import reason, warn

logger = logging.getLogger("spyglass")

#: Items of a traced generator kept as its output; the rest are counted, not stored.
MAX_GENERATOR_ITEMS = 100


class _Handle(Protocol):
    def set_input(self, value: object) -> None: ...
    def set_output(self, value: object) -> None: ...


class Entered(Protocol):
    """A started span as the wrappers see it."""

    @property
    def handle(self) -> _Handle: ...
    def activate(self) -> object: ...
    def finish(self, exc: BaseException | None) -> None: ...


class Spec(Protocol):
    """What ``spyglass.trace(...)`` is to a wrapper."""

    def start(self) -> tuple[Entered | None, object]: ...


def finish(active: Entered | None, token: object, exc: BaseException | None) -> None:
    if active is None:
        return
    try:
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]
        active.finish(exc)
    except Exception:
        warn("spyglass could not end a span: %s", reason(), traceback=True)


def _inputs(
    fn: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, object]
) -> object:
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return {"args": list(args), "kwargs": kwargs}
    values = dict(bound.arguments)
    for first in ("self", "cls"):
        values.pop(first, None)
    return values


def _safely(action: Callable[[], None]) -> None:
    try:
        action()
    except Exception:
        logger.debug("spyglass could not record a value", exc_info=True)


def wrap_function(spec: Spec, fn: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        active, token = spec.start()
        if active is not None:
            _safely(lambda: active.handle.set_input(_inputs(fn, args, kwargs)))
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            finish(active, token, exc)
            raise
        if active is not None:
            _safely(lambda: active.handle.set_output(result))
        finish(active, token, None)
        return result

    return wrapper


def wrap_coroutine(spec: Spec, fn: Callable[..., object]) -> Callable[..., object]:
    @functools.wraps(fn)
    async def wrapper(*args: object, **kwargs: object) -> object:
        active, token = spec.start()
        if active is not None:
            _safely(lambda: active.handle.set_input(_inputs(fn, args, kwargs)))
        try:
            result = await fn(*args, **kwargs)  # type: ignore[misc]
        except BaseException as exc:
            finish(active, token, exc)
            raise
        if active is not None:
            _safely(lambda: active.handle.set_output(result))
        finish(active, token, None)
        return result

    return wrapper


class _Collected:
    """Items a traced generator yielded, kept up to a bound."""

    def __init__(self) -> None:
        self.items: list[object] = []
        self.count = 0

    def add(self, item: object) -> None:
        self.count += 1
        if len(self.items) < MAX_GENERATOR_ITEMS:
            self.items.append(item)

    def output(self) -> object:
        if self.count > len(self.items):
            return {"items": self.items, "total": self.count}
        return self.items


def _detach(token: object) -> None:
    if token is not None:
        try:
            otel_context.detach(token)  # type: ignore[arg-type]
        except Exception:
            logger.debug("spyglass could not detach a context", exc_info=True)


def _step(active: Entered | None, step: Callable[[], object]) -> object:
    """Run one resumption of the wrapped generator with its span current."""
    token = active.activate() if active is not None else None
    try:
        return step()
    finally:
        _detach(token)


def wrap_generator(
    spec: Spec, fn: Callable[..., Generator[object, object, object]]
) -> Callable[..., object]:
    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> Generator[object, object, object]:
        active, token = spec.start()
        if token is not None:
            _detach(token)
        if active is not None:
            _safely(lambda: active.handle.set_input(_inputs(fn, args, kwargs)))
        collected = _Collected()
        error: BaseException | None = None
        try:
            gen = cast(
                Generator[object, object, object], _step(active, lambda: fn(*args, **kwargs))
            )
            send: Callable[[], object] = functools.partial(next, gen)
            while True:
                try:
                    item = _step(active, send)
                except StopIteration as stop:
                    return stop.value
                collected.add(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    _step(active, gen.close)
                    raise
                except BaseException as exc:  # thrown in by the caller: pass it on
                    send = functools.partial(gen.throw, exc)
                else:
                    send = functools.partial(gen.send, sent)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if active is not None:
                _safely(lambda: active.handle.set_output(collected.output()))
            finish(active, None, error)

    return wrapper


def wrap_async_generator(
    spec: Spec, fn: Callable[..., AsyncGenerator[object, object]]
) -> Callable[..., object]:
    @functools.wraps(fn)
    async def wrapper(*args: object, **kwargs: object) -> AsyncGenerator[object, object]:
        active, token = spec.start()
        if token is not None:
            _detach(token)
        if active is not None:
            _safely(lambda: active.handle.set_input(_inputs(fn, args, kwargs)))
        collected = _Collected()
        error: BaseException | None = None
        try:
            agen = fn(*args, **kwargs)
            resume: Callable[[], Awaitable[object]] = agen.__anext__
            while True:
                step_token = active.activate() if active is not None else None
                try:
                    item = await resume()
                except StopAsyncIteration:
                    return
                finally:
                    _detach(step_token)
                collected.add(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:
                    resume = functools.partial(agen.athrow, exc)
                else:
                    resume = functools.partial(agen.asend, sent)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if active is not None:
                _safely(lambda: active.handle.set_output(collected.output()))
            finish(active, None, error)

    return wrapper
