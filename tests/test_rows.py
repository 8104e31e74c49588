"""span_to_row: what a finished span becomes, whatever mapping its attributes come in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping

import orjson
import pytest
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import Attributes, AttributeValue

from spyglass.tracer import attributes as A
from spyglass.tracer._redact import REDACTED, Redactor
from spyglass.tracer._rows import SPAN_COLUMNS, SpanRow, span_to_row

R = REDACTED
KEY = "sk-AbCdEfGhIjKlMnOpQrStUv012345"
MESSAGES = [
    {"role": "user", "parts": [{"type": "text", "content": f"use {KEY} to reach the refund api"}]}
]
ATTRIBUTES: dict[str, AttributeValue] = {
    A.SPYGLASS_KIND: "LLM",
    A.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
    A.GEN_AI_USAGE_INPUT_TOKENS: 12,
    A.GEN_AI_INPUT_MESSAGES: json.dumps(MESSAGES),
    A.SPYGLASS_OUTPUT: "plain answer, not JSON: password=hunter22",
    "app.keys": (KEY, "public"),
    "app.ratio": 0.5,
    "app.flag": True,
    "app.counts": (1, 2),
}
STORED = {
    **ATTRIBUTES,
    A.GEN_AI_INPUT_MESSAGES: json.dumps(MESSAGES).replace(KEY, R),
    A.SPYGLASS_OUTPUT: f"plain answer, not JSON: password={R}",
    "app.keys": [R, "public"],
    "app.counts": [1, 2],
}


@pytest.fixture
def sdk_span() -> Iterator[ReadableSpan]:
    """A span as the OTel SDK ends it: attributes in a proxy over BoundedAttributes."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    span = provider.get_tracer("test").start_span(f"call {KEY}", attributes=ATTRIBUTES)
    span.add_event("exception", {"exception.message": f"denied for {KEY}", "exception.n": 3})
    span.set_status(Status(StatusCode.ERROR, f"401 with {KEY}"))
    span.end()
    yield memory.get_finished_spans()[0]
    provider.shutdown()


def _stored(row: SpanRow) -> dict[str, object]:
    return dict(zip(SPAN_COLUMNS, row.values, strict=True))


def test_everything_stored_is_scrubbed(sdk_span: ReadableSpan) -> None:
    row = span_to_row(sdk_span, Redactor())
    stored = _stored(row)
    assert orjson.loads(str(stored["attributes"])) == STORED
    assert stored["name"] == row.name == f"call {R}"
    assert stored["status"] == "ERROR"
    assert stored["status_message"] == f"401 with {R}"
    events = orjson.loads(str(stored["events"]))
    assert events[0]["attributes"] == {"exception.message": f"denied for {R}", "exception.n": 3}
    assert (stored["kind"], stored["model"], stored["input_tokens"]) == ("LLM", "gpt-4o-mini", 12)
    assert row.project == "shop"
    assert KEY not in repr(row)


def test_search_text_is_built_from_scrubbed_values(sdk_span: ReadableSpan) -> None:
    row = span_to_row(sdk_span, Redactor())
    assert row.search_text.split("\n") == [
        f"use {R} to reach the refund api",  # the message's text, not its role or part type
        f"plain answer, not JSON: password={R}",  # not JSON: indexed whole
        f"401 with {R}",
    ]


def test_without_a_redactor_values_are_stored_as_they_are(sdk_span: ReadableSpan) -> None:
    row = span_to_row(sdk_span, None)
    stored = _stored(row)
    expected = {**ATTRIBUTES, "app.keys": [KEY, "public"], "app.counts": [1, 2]}
    assert orjson.loads(str(stored["attributes"])) == expected
    assert stored["name"] == f"call {KEY}"
    assert stored["status_message"] == f"401 with {KEY}"


class _PlainMapping(Mapping[str, AttributeValue]):
    """A read-only mapping with no ``copy()``."""

    def __init__(self, data: dict[str, AttributeValue]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> AttributeValue:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _GivenAttributesSpan(ReadableSpan):
    """A copy of ``span`` whose ``attributes`` is the mapping given, as a lighter span class's
    may be (a plain dict, say)."""

    def __init__(self, span: ReadableSpan, attributes: Mapping[str, AttributeValue]) -> None:
        super().__init__(
            name=span.name,
            context=span.context,
            resource=span.resource,
            events=[Event(e.name, e.attributes, e.timestamp) for e in span.events],
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
        )
        self._given = attributes

    @property
    def attributes(self) -> Attributes:
        return self._given


@pytest.mark.parametrize(
    "make",
    [
        dict,
        lambda data: BoundedAttributes(attributes=data, immutable=True),
        _PlainMapping,
    ],
    ids=["dict", "BoundedAttributes", "Mapping"],
)
def test_any_attribute_mapping_gives_the_same_row(
    sdk_span: ReadableSpan,
    make: Callable[[dict[str, AttributeValue]], Mapping[str, AttributeValue]],
) -> None:
    attributes = make(dict(sdk_span.attributes or {}))
    span = _GivenAttributesSpan(sdk_span, attributes)
    before = dict(attributes)
    assert span_to_row(span, Redactor()) == span_to_row(sdk_span, Redactor())
    assert dict(attributes) == before  # the span's own mapping is left alone
