"""The machinery both SDK integrations share (``_sdk_common``, ``_sdk_streams``), tested with
small stand-in classes and an in-memory span exporter: patches, exact restore, exceptions
passed through as the same object, spyglass failures kept from the caller, stream proxies."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator, Mapping
from types import TracebackType

import pytest
import wrapt
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from spyglass.integrations._sdk_common import (
    Instrumentation,
    Operation,
    Pairs,
    async_call,
    sync_call,
)
from spyglass.integrations._sdk_streams import end_open_streams
from spyglass.tracer._integration import IntegrationContext


class Recorder:
    """Counts items; hides the ones equal to "hidden"."""

    def __init__(self, caller: Mapping[str, object], sent: Mapping[str, object]) -> None:
        self.items: list[object] = []

    def observe(self, item: object) -> bool:
        self.items.append(item)
        return item != "hidden"

    def snapshot(self) -> object:
        return {"items": list(self.items)}


def items(result: object, capture: bool) -> Pairs:
    yield "test.items", str(result["items"] if isinstance(result, dict) else result)


def model(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    yield "test.model", str(kwargs.get("model"))


OP = Operation("fake", "fake", "chat", "LLM", (model,), (items,), recorder=Recorder)


class Stream:
    """Shaped like an SDK stream: iterator, context manager, close()."""

    def __init__(self, values: list[object], fail_at: int | None = None) -> None:
        self.values = iter(values)
        self.fail_at = fail_at
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[object]:
        while True:
            try:
                yield self.__next__()
            except StopIteration:
                return

    def __next__(self) -> object:
        if self.fail_at is not None and self.read == self.fail_at:
            raise ConnectionError("dropped")
        self.read += 1
        return next(self.values)

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True


class AsyncStream:
    def __init__(self, values: list[object]) -> None:
        self.values = iter(values)

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> object:
        try:
            return next(self.values)
        except StopIteration:
            raise StopAsyncIteration from None

    async def close(self) -> None:
        return


class Resource:
    def create(self, **kwargs: object) -> object:
        if kwargs.get("fail"):
            raise kwargs["fail"]  # type: ignore[misc]
        if kwargs.get("stream"):
            return Stream(list(kwargs.get("values", ["a", "b"])))  # type: ignore[call-overload]
        return kwargs.get("result", "plain")

    def delegate(self, **kwargs: object) -> object:
        """An SDK method that calls another traced one (as parse helpers do)."""
        return self.create(**kwargs)

    async def acreate(self, **kwargs: object) -> object:
        if kwargs.get("fail"):
            raise kwargs["fail"]  # type: ignore[misc]
        if kwargs.get("stream"):
            return AsyncStream(["a", "hidden", "b"])
        return kwargs.get("result", "plain")


ORIGINALS = {name: Resource.__dict__[name] for name in ("create", "delegate", "acreate")}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def inst(exporter: InMemorySpanExporter) -> Iterator[Instrumentation]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    inst = Instrumentation("fake", IntegrationContext(provider.get_tracer("t"), True))
    inst.wrap(Resource, "create", sync_call(inst, OP))
    inst.wrap(Resource, "delegate", sync_call(inst, OP))
    inst.wrap(Resource, "acreate", async_call(inst, OP))
    yield inst
    inst.uninstall()
    assert all(Resource.__dict__[name] is fn for name, fn in ORIGINALS.items())


def finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return list(exporter.get_finished_spans())


def test_results_and_exceptions_pass_through_unchanged(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    sentinel = object()
    assert Resource().create(model="m", result=sentinel) is sentinel
    error = KeyError("boom")
    with pytest.raises(KeyError) as raised:
        Resource().create(model="m", fail=error)
    assert raised.value is error
    ok, failed = finished(exporter)
    assert ok.status.status_code is StatusCode.OK
    assert ok.attributes["test.items"] == str(sentinel)  # type: ignore[index]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["error.type"] == "KeyError"  # type: ignore[index]
    assert failed.events[0].name == "exception"


def test_async_results_and_exceptions_pass_through(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    sentinel, error = object(), ValueError("x")

    async def main() -> None:
        assert await Resource().acreate(model="m", result=sentinel) is sentinel
        with pytest.raises(ValueError) as raised:
            await Resource().acreate(model="m", fail=error)
        assert raised.value is error

    asyncio.run(main())
    assert [span.status.status_code for span in finished(exporter)] == [
        StatusCode.OK,
        StatusCode.ERROR,
    ]


def test_a_method_calling_another_is_traced_once(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    Resource().delegate(model="m")
    assert len(finished(exporter)) == 1


def test_a_broken_tracer_costs_a_warning_not_the_call(
    exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenTracer:
        def start_span(self, *args: object, **kwargs: object) -> object:
            raise RuntimeError("tracer down")

    inst = Instrumentation("fake", IntegrationContext(BrokenTracer(), True))  # type: ignore[arg-type]
    inst.wrap(Resource, "create", sync_call(inst, OP))
    try:
        with caplog.at_level(logging.WARNING, logger="spyglass"):
            assert Resource().create(model="m", result=5) == 5
            assert list(Resource().create(model="m", stream=True)) == ["a", "b"]
    finally:
        inst.uninstall()
    assert "could not start a fake span" in caplog.text
    assert Resource.__dict__["create"] is ORIGINALS["create"]


def test_installing_again_replaces_the_stale_patch(exporter: InMemorySpanExporter) -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    ctx = IntegrationContext(provider.get_tracer("t"), True)
    first, second = Instrumentation("fake", ctx), Instrumentation("fake", ctx)
    first.wrap(Resource, "create", sync_call(first, OP))
    second.wrap(Resource, "create", sync_call(second, OP))
    try:
        assert Resource.__dict__["create"].__wrapped__ is ORIGINALS["create"]
        Resource().create(model="m")
        assert len(finished(exporter)) == 1
    finally:
        first.uninstall()  # no longer on top: leaves the class alone
        assert Resource.__dict__["create"].__wrapped__ is ORIGINALS["create"]
        second.uninstall()
    assert Resource.__dict__["create"] is ORIGINALS["create"]


def test_a_wrapper_added_on_top_of_ours_survives_uninstall(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    calls: list[str] = []

    def theirs(wrapped: object, instance: object, args: object, kwargs: object) -> object:
        calls.append("theirs")
        return wrapped(*args, **kwargs)  # type: ignore[operator]

    ours = Resource.__dict__["create"]
    wrapt.wrap_function_wrapper(Resource, "create", theirs)
    inst.uninstall()
    assert Resource().create(model="m") == "plain"
    assert calls == ["theirs"] and finished(exporter) == []  # ours passes through now
    Resource.create = ours.__wrapped__  # type: ignore[method-assign]  # undo theirs for the fixture


# -- streams -------------------------------------------------------------------------------------


def test_stream_proxy_is_the_stream_and_ends_the_span(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    stream = Resource().create(model="m", stream=True, values=["a", "hidden", "b"])
    assert isinstance(stream, Stream)
    with stream as entered:
        assert entered is stream  # the proxy, not the bare stream
        assert list(entered) == ["a", "b"]  # the hidden item never reaches the caller
    (span,) = finished(exporter)
    assert span.attributes["spyglass.stream.end"] == "done"  # type: ignore[index]
    assert span.attributes["test.items"] == "['a', 'hidden', 'b']"  # type: ignore[index]
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0  # type: ignore[index,operator]


def test_next_close_error_and_garbage_collection(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    closed = Resource().create(model="closed", stream=True)
    assert next(closed) == "a"
    closed.close()
    assert closed.__wrapped__.closed
    failing = Resource().create(model="failing", stream=True)
    failing.__wrapped__.fail_at = 1
    with pytest.raises(ConnectionError):
        list(failing)
    dropped = Resource().create(model="dropped", stream=True)
    next(dropped)
    del dropped
    gc.collect()
    ends = {
        span.attributes["test.model"]: (
            span.attributes["spyglass.stream.end"],
            span.status.status_code,
        )  # type: ignore[index]
        for span in finished(exporter)
    }
    assert ends == {
        "closed": ("closed", StatusCode.OK),
        "failing": ("error", StatusCode.ERROR),
        "dropped": ("abandoned", StatusCode.OK),
    }


def test_end_open_streams_sweeps_one_integration(
    inst: Instrumentation, exporter: InMemorySpanExporter
) -> None:
    stream = Resource().create(model="m", stream=True)
    next(stream)
    assert end_open_streams("other") == 0
    assert end_open_streams("fake") == 1
    assert end_open_streams() == 0
    assert list(stream) == ["b"]  # still readable; the span ended once
    (span,) = finished(exporter)
    assert span.attributes["test.items"] == "['a']"  # type: ignore[index]


def test_async_stream_proxy(inst: Instrumentation, exporter: InMemorySpanExporter) -> None:
    async def main() -> list[object]:
        first = await Resource().acreate(model="m", stream=True)
        seen = [item async for item in first]
        second = await Resource().acreate(model="m", stream=True)
        seen.append(await second.__anext__())
        await second.close()
        return seen

    assert asyncio.run(main()) == ["a", "b", "a"]
    assert [span.attributes["spyglass.stream.end"] for span in finished(exporter)] == [  # type: ignore[index]
        "done",
        "closed",
    ]


def test_uninstall_ends_open_streams(inst: Instrumentation, exporter: InMemorySpanExporter) -> None:
    stream = Resource().create(model="m", stream=True)
    next(stream)
    inst.uninstall()
    assert [span.attributes["spyglass.stream.end"] for span in finished(exporter)] == [  # type: ignore[index]
        "abandoned"
    ]
