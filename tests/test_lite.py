"""Light spans (``tracer/_lite.py``): the framework integrations' spans, read like SDK spans.

Each test drives a real pipeline (no exporter, or an in-memory one) and checks what a
``LiteSpan`` hands to the processors: ids and parents, inherited attributes, the external
parent mark, status and exception events, attribute cleaning, and that a second ``end`` is a
no-op. The LangChain, LlamaIndex and OTLP suites cover them end to end.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.context import get_current
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from spyglass.tracer import attributes as A
from spyglass.tracer._context import inherit
from spyglass.tracer._lite import LiteSpan, collect, snapshot
from spyglass.tracer._pipeline import Pipeline, Settings


@pytest.fixture
def exported() -> Iterator[tuple[Pipeline, InMemorySpanExporter]]:
    memory = InMemorySpanExporter()
    pipeline = Pipeline(Settings(db=None), exporters=[memory])
    yield pipeline, memory
    pipeline.shutdown()


def _finished(pipeline: Pipeline, memory: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    assert pipeline.flush(10)
    return {span.name: span for span in memory.get_finished_spans()}


def test_a_root_and_its_child_share_a_trace_and_reach_the_exporters(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    root = pipeline.lite.start_span("chain", None, {A.SPYGLASS_KIND: "CHAIN"})
    child = pipeline.lite.start_child("model", root, {A.SPYGLASS_KIND: "LLM", "n": 3})
    assert child.is_recording()
    child.end()
    assert not child.is_recording()
    root.end()
    spans = _finished(pipeline, memory)
    assert set(spans) == {"chain", "model"}
    chain, model = spans["chain"], spans["model"]
    assert isinstance(chain, LiteSpan)
    assert chain.parent is None
    assert model.parent is not None and model.parent.span_id == chain.context.span_id
    assert model.context.trace_id == chain.context.trace_id
    assert model.context.span_id != chain.context.span_id
    assert dict(model.attributes) == {A.SPYGLASS_KIND: "LLM", "n": 3}
    assert chain.resource is pipeline.resource
    assert chain.start_time is not None and chain.end_time is not None
    assert chain.end_time >= chain.start_time


def test_a_root_nests_under_the_current_span_of_our_pipeline_without_an_external_mark(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    with pipeline.tracer.start_as_current_span("block") as block:
        run = pipeline.lite.start_span("chain", get_current(), {})
        run.end()
    spans = _finished(pipeline, memory)
    chain = spans["chain"]
    assert chain.parent is not None
    assert chain.parent.span_id == block.get_span_context().span_id
    assert chain.context.trace_id == block.get_span_context().trace_id
    assert A.SPYGLASS_EXTERNAL_PARENT not in chain.attributes


def test_a_root_under_someone_elses_span_names_that_parent(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    theirs = TracerProvider().get_tracer("app")
    with theirs.start_as_current_span("request") as request:
        run = pipeline.lite.start_span("chain", None, {})
        run.end()
    chain = _finished(pipeline, memory)["chain"]
    parent_id = request.get_span_context().span_id
    assert chain.parent is not None and chain.parent.span_id == parent_id
    assert chain.attributes[A.SPYGLASS_EXTERNAL_PARENT] == format(parent_id, "016x")


def test_sdk_spans_under_a_light_span_count_it_as_ours(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    run = pipeline.lite.start_span("model", None, {})
    with pipeline.tracer.start_as_current_span(
        "sdk call", context=otel_trace.set_span_in_context(run)
    ):
        pass
    run.end()
    spans = _finished(pipeline, memory)
    sdk = spans["sdk call"]
    assert sdk.parent is not None and sdk.parent.span_id == run.context.span_id
    assert A.SPYGLASS_EXTERNAL_PARENT not in sdk.attributes


def test_inherited_attributes_are_stamped_at_start(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    with inherit(session_id="s-9", user_id="u-1", tags=["beta"]):
        root = pipeline.lite.start_span("chain", None, {})
        child = pipeline.lite.start_child("tool", root, {})
    outside = pipeline.lite.start_child("late", root, {})
    for span in (outside, child, root):
        span.end()
    spans = _finished(pipeline, memory)
    for name in ("chain", "tool"):
        assert spans[name].attributes[A.GEN_AI_CONVERSATION_ID] == "s-9"
        assert spans[name].attributes[A.SPYGLASS_USER_ID] == "u-1"
        assert spans[name].attributes[A.SPYGLASS_TAGS] == ("beta",)
    assert A.GEN_AI_CONVERSATION_ID not in spans["late"].attributes


def test_attribute_values_are_cleaned_like_the_sdk_does(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    span = pipeline.lite.start_span("chain", None, {"list": ["a", "b"], "none": None, "ok": 1.5})
    span.set_attribute("later", [1, 2])
    span.set_attribute("mixed", [1, "x"])
    span.set_attribute("object", object())
    span.set_attributes({"flag": True, "dropped": None})
    span.end()
    span.set_attribute("after end", "ignored")
    attributes = dict(_finished(pipeline, memory)["chain"].attributes)
    assert attributes == {"list": ("a", "b"), "ok": 1.5, "later": (1, 2), "flag": True}


def test_errors_record_status_and_an_exception_event(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    span = pipeline.lite.start_span("tool", None, {})
    try:
        raise KeyError("missing")
    except KeyError as exc:
        span.set_status(Status(StatusCode.ERROR, "KeyError: 'missing'"))
        span.record_exception(exc)
    span.end()
    span.end()  # a second end changes nothing and exports nothing
    assert pipeline.flush(10)
    finished = memory.get_finished_spans()
    assert len(finished) == 1
    tool = finished[0]
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.status.description == "KeyError: 'missing'"
    (event,) = tool.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes[A.EXCEPTION_TYPE] == "KeyError"
    assert event.attributes[A.EXCEPTION_MESSAGE] == "'missing'"
    assert "raise KeyError" in str(event.attributes[A.EXCEPTION_STACKTRACE])


def test_ok_is_final_and_unset_changes_nothing(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    span = pipeline.lite.start_span("chain", None, {})
    span.set_status(StatusCode.UNSET)
    assert span.status.status_code is StatusCode.UNSET
    span.set_status(StatusCode.OK)
    span.set_status(Status(StatusCode.ERROR, "too late"))
    span.update_name("renamed")
    span.end()
    spans = _finished(pipeline, memory)
    assert spans["renamed"].status.status_code is StatusCode.OK


def test_a_shut_down_pipeline_takes_no_more_spans() -> None:
    memory = InMemorySpanExporter()
    pipeline = Pipeline(Settings(db=None), exporters=[memory])
    span = pipeline.lite.start_span("late", None, {})
    pipeline.shutdown()
    span.end()  # must not raise
    assert memory.get_finished_spans() == ()


def test_the_sdk_in_memory_processor_reads_a_light_span() -> None:
    """Any SDK processor works with them: here the SDK's own simple processor."""
    memory = InMemorySpanExporter()
    pipeline = Pipeline(Settings(db=None))
    pipeline._add(SimpleSpanProcessor(memory))
    span = pipeline.lite.start_span("chain", None, {"k": "v"})
    span.end()
    (finished,) = memory.get_finished_spans()
    assert finished.name == "chain" and finished.attributes == {"k": "v"}
    assert finished.to_json()  # the SDK's own serializer reads every field
    pipeline.shutdown()


def _pairs(key: str, value: object) -> Iterator[tuple[str, object]]:
    yield key, f"seen {value}"


def _broken(_: object) -> Iterator[tuple[str, object]]:
    yield "before.failure", "kept"
    raise RuntimeError("extractor bug")


def test_deferred_attributes_are_computed_when_first_read(
    exported: tuple[Pipeline, InMemorySpanExporter],
) -> None:
    pipeline, memory = exported
    calls: list[object] = []

    def counting(value: object) -> Iterator[tuple[str, object]]:
        calls.append(value)
        yield "deferred", value
        yield "skipped", None

    span = pipeline.lite.start_span("chain", None, {"eager": 1})
    span.defer(counting, 7)
    span.defer(_pairs, "late", "x")
    span.end()
    span.defer(_pairs, "after.end", "ignored")
    assert pipeline.flush(10)
    (finished,) = memory.get_finished_spans()
    assert dict(finished.attributes) == {"eager": 1, "deferred": 7, "late": "seen x"}
    assert dict(finished.attributes) == {"eager": 1, "deferred": 7, "late": "seen x"}
    assert calls == [7]  # resolved once, however often it is read


def test_a_failing_extractor_loses_only_its_own_attributes(
    exported: tuple[Pipeline, InMemorySpanExporter], caplog: pytest.LogCaptureFixture
) -> None:
    pipeline, memory = exported
    for _ in range(2):
        span = pipeline.lite.start_span("chain", None, {})
        span.defer(_broken, None)
        span.defer(_pairs, "after", 1)
        span.end()
    assert pipeline.flush(10)
    with caplog.at_level("DEBUG", logger="spyglass"):
        attributes = [dict(span.attributes) for span in memory.get_finished_spans()]
    assert attributes == [{"before.failure": "kept", "after": "seen 1"}] * 2
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "_broken" in warnings[0].getMessage()


def test_snapshot_keeps_what_the_run_saw() -> None:
    history = ["hi"]
    value = {"history": history, "question": "q", "nested": {"k": 1}}
    copied = snapshot(value)
    history.append("later")
    value["extra"] = True
    value["nested"]["k"] = 2  # type: ignore[index]
    assert copied == {"history": ["hi"], "question": "q", "nested": {"k": 1}}
    items = [["a"], "b"]
    listed = snapshot(items)
    items[0].append("c")  # type: ignore[union-attr]
    assert listed == [["a"], "b"]
    text = "unchanged"
    assert snapshot(text) is text


def test_collect_warns_once_per_extractor_then_logs_debug(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Iterator[tuple[str, object]]:
        yield "a", "kept"
        yield "skipped", None
        raise ValueError("odd field")

    out: dict[str, object] = {}
    with caplog.at_level(logging.DEBUG, logger="spyglass"):
        collect(out, broken)
        collect(out, broken)
    assert out == {"a": "kept"}
    levels = [r.levelno for r in caplog.records if "broken" in r.getMessage()]
    assert levels == [logging.WARNING, logging.DEBUG]


@pytest.mark.parametrize(
    "module",
    [
        "spyglass.integrations._sdk_common",
        "spyglass.integrations.langchain._extract",
        "spyglass.integrations.langchain._handler",
        "spyglass.integrations.llama_index._events",
        "spyglass.integrations.llama_index._tracker",
    ],
)
def test_every_integration_guards_extractors_with_the_one_collect(module: str) -> None:
    """One guard, one logging rule: no integration keeps a copy of its own."""
    assert importlib.import_module(module).collect is collect
