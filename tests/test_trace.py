"""spyglass.trace as context manager and decorator, stored through the real SQLite pipeline."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import spyglass
from spyglass.errors import ConfigurationError
from spyglass.tracer import attributes as A


def stored(db: Path) -> spyglass.Store:
    assert spyglass.flush()
    return spyglass.Store(db)


def only_trace(db: Path) -> spyglass.tracer.Trace:  # type: ignore[name-defined]
    store = stored(db)
    (summary,) = store.traces()
    return store.trace(summary.trace_id)


def test_context_manager_records_nesting_input_output(traced: Path) -> None:
    with spyglass.trace("outer") as outer:
        assert outer is not None
        outer.set_input({"q": "hello"})
        with spyglass.trace("inner", kind="retriever"):
            pass
        outer.set_output("world")
    trace = only_trace(traced)
    assert [s.name for s in trace.spans] == ["outer", "inner"]
    root, inner = trace.spans
    assert trace.root == root and root.parent_id is None
    assert inner.parent_id == root.span_id and inner.kind == "RETRIEVER"
    assert json.loads(root.attributes[A.SPYGLASS_INPUT]) == {"q": "hello"}  # type: ignore[arg-type]
    assert json.loads(root.attributes[A.SPYGLASS_OUTPUT]) == "world"  # type: ignore[arg-type]
    assert trace.summary.name == "outer" and trace.summary.span_count == 2


def test_decorator_records_arguments_and_result(traced: Path) -> None:
    class Service:
        @spyglass.trace
        def answer(self, question: str, k: int = 2) -> dict[str, object]:
            return {"answer": question.upper(), "k": k}

    assert Service().answer("why", k=3) == {"answer": "WHY", "k": 3}
    (span,) = only_trace(traced).spans
    assert span.name.endswith("Service.answer")
    assert json.loads(span.attributes[A.SPYGLASS_INPUT]) == {"question": "why", "k": 3}  # type: ignore[arg-type]
    assert json.loads(span.attributes[A.SPYGLASS_OUTPUT]) == {"answer": "WHY", "k": 3}  # type: ignore[arg-type]


def test_exception_is_recorded_and_reraised_unchanged(traced: Path) -> None:
    class Boom(Exception):
        pass

    error = Boom("bad input")

    @spyglass.trace("fails")
    def fails() -> None:
        raise error

    with pytest.raises(Boom) as caught:
        fails()
    assert caught.value is error
    (span,) = only_trace(traced).spans
    assert span.status == "ERROR"
    assert span.attributes[A.ERROR_TYPE].endswith("Boom")  # type: ignore[union-attr]
    assert "bad input" in (span.status_message or "")
    (event,) = span.events
    assert event["name"] == "exception"
    assert "Traceback" in event["attributes"]["exception.stacktrace"]  # type: ignore[index]


async def test_async_function_and_concurrent_tasks_are_separate_traces(traced: Path) -> None:
    @spyglass.trace("job")
    async def job(n: int) -> int:
        await asyncio.sleep(0.01)
        with spyglass.trace("step"):
            await asyncio.sleep(0.001)
        return n * 2

    assert await asyncio.gather(*(job(i) for i in range(5))) == [0, 2, 4, 6, 8]
    store = stored(traced)
    summaries = store.traces()
    assert len(summaries) == 5
    for summary in summaries:
        trace = store.trace(summary.trace_id)
        job_span, step = trace.spans
        assert step.parent_id == job_span.span_id


def test_generator_span_covers_iteration_and_collects_items(traced: Path) -> None:
    @spyglass.trace("numbers")
    def numbers(n: int) -> Iterator[int]:
        for i in range(n):
            with spyglass.trace(f"make-{i}"):
                pass
            yield i

    gen = numbers(3)
    with spyglass.trace("between"):
        pass  # not under the generator's span: a separate trace
    assert list(gen) == [0, 1, 2]
    store = stored(traced)
    assert len(store.traces()) == 2
    (numbers_summary,) = [s for s in store.traces() if s.name == "numbers"]
    trace = store.trace(numbers_summary.trace_id)
    root = trace.root
    assert root is not None
    assert [c.name for c in trace.children(root)] == ["make-0", "make-1", "make-2"]
    assert json.loads(root.attributes[A.SPYGLASS_OUTPUT]) == [0, 1, 2]  # type: ignore[arg-type]


def test_generator_send_throw_and_early_close(traced: Path) -> None:
    @spyglass.trace("echo")
    def echo() -> Iterator[object]:
        received = yield "ready"
        while True:
            try:
                received = yield f"got {received}"
            except ValueError as exc:
                received = yield f"handled {exc}"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("a") == "got a"
    assert gen.throw(ValueError("x")) == "handled x"
    gen.close()
    (span,) = only_trace(traced).spans
    assert span.status != "ERROR"
    assert json.loads(span.attributes[A.SPYGLASS_OUTPUT]) == ["ready", "got a", "handled x"]  # type: ignore[arg-type]


async def test_async_generator(traced: Path) -> None:
    @spyglass.trace("stream")
    async def stream() -> AsyncIterator[str]:
        for word in ("a", "b"):
            await asyncio.sleep(0)
            with spyglass.trace("tok"):
                pass
            yield word

    assert [w async for w in stream()] == ["a", "b"]
    trace = only_trace(traced)
    assert trace.root is not None and len(trace.children(trace.root)) == 2
    assert json.loads(trace.root.attributes[A.SPYGLASS_OUTPUT]) == ["a", "b"]  # type: ignore[arg-type]


def test_generator_error_is_recorded(traced: Path) -> None:
    @spyglass.trace("broken")
    def broken() -> Iterator[int]:
        yield 1
        raise KeyError("missing")

    with pytest.raises(KeyError):
        list(broken())
    (span,) = only_trace(traced).spans
    assert span.status == "ERROR" and span.attributes[A.ERROR_TYPE] == "KeyError"


def test_session_user_tags_metadata_are_inherited(traced: Path) -> None:
    with (
        spyglass.trace(
            "outer", session_id="s-1", user_id="u-7", tags=["a"], metadata={"env": "test"}
        ),
        spyglass.trace("inner", tags=["b"], metadata={"step": 2}),
    ):
        pass
    store = stored(traced)
    trace = only_trace(traced)
    outer, inner = trace.spans
    assert inner.attributes[A.GEN_AI_CONVERSATION_ID] == "s-1"
    assert inner.attributes[A.SPYGLASS_USER_ID] == "u-7"
    assert inner.attributes[A.SPYGLASS_TAGS] == ["a", "b"]
    assert json.loads(inner.attributes[A.SPYGLASS_METADATA]) == {"env": "test", "step": 2}  # type: ignore[arg-type]
    assert outer.attributes[A.SPYGLASS_TAGS] == ["a"]
    assert trace.summary.session_id == "s-1" and trace.summary.user_id == "u-7"
    assert [s.trace_id for s in store.traces(session_id="s-1")] == [trace.trace_id]
    assert store.traces(session_id="other") == []


def test_nests_under_the_users_own_otel_span(traced: Path) -> None:
    user_tracer = TracerProvider().get_tracer("app")
    with user_tracer.start_as_current_span("user-request") as user_span, spyglass.trace("ours"):
        pass
    trace = only_trace(traced)
    (span,) = trace.spans
    ctx = user_span.get_span_context()
    assert trace.trace_id == format(ctx.trace_id, "032x")
    assert span.parent_id is None  # the user's span is not in the file: ours is the root
    assert span.attributes[A.SPYGLASS_EXTERNAL_PARENT] == format(ctx.span_id, "016x")
    assert trace.summary.name == "ours"


def test_odd_objects_are_stored_safely(traced: Path) -> None:
    @dataclasses.dataclass
    class Node:
        name: str
        children: list[object]

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    node = Node("root", [])
    node.children.append(node)

    @spyglass.trace("odd")
    def odd(a: object, b: object, c: object) -> object:
        return {"bytes": b"\x00\xff", "self": node}

    odd(node, Hostile(), "x" * 200_000)
    (span,) = only_trace(traced).spans
    stored_input = span.attributes[A.SPYGLASS_INPUT]
    assert isinstance(stored_input, str) and "<cycle>" in stored_input
    assert "unrepresentable" in stored_input and "truncated" in stored_input
    json.loads(stored_input)
    assert "<cycle>" in str(span.attributes[A.SPYGLASS_OUTPUT])


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="kind must be one of"):
        spyglass.trace("x", kind="BANANA")
    with pytest.raises(ConfigurationError, match="non-empty"):
        spyglass.trace("  ")
    with pytest.raises(ConfigurationError, match="metadata must be a mapping"):
        spyglass.trace("x", metadata=[1, 2])  # type: ignore[arg-type]


def test_capture_content_false_keeps_structure_not_text(db: Path) -> None:
    spyglass.autolog(db=db, integrations=(), capture_content=False)
    with spyglass.trace("secret-work") as span:
        assert span is not None
        span.set_input("the user's private question")
        span.set_output("a private answer")
    (only,) = only_trace(db).spans
    assert only.name == "secret-work"
    assert A.SPYGLASS_INPUT not in only.attributes and A.SPYGLASS_OUTPUT not in only.attributes


def test_env_no_content_turns_capture_off(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(A.ENV_CAPTURE_CONTENT, "NO_CONTENT")
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("w") as span:
        assert span is not None
        span.set_output("text")
    assert A.SPYGLASS_OUTPUT not in only_trace(db).spans[0].attributes


def test_trace_without_autolog_uses_default_database(tmp_path: Path) -> None:
    with spyglass.trace("no-autolog"):
        pass
    assert spyglass.flush()
    store = spyglass.Store(tmp_path / "default.db")
    assert [t.name for t in store.traces()] == ["no-autolog"]
