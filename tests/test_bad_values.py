"""One bad value costs at most that value: never its span, never the spans after it.

A lone surrogate (what ``os.listdir`` returns for a Latin-1 file name) used to make SQLite
refuse the whole batch, which was then retried forever ahead of every later span; a huge int
dropped its span; a 50 MB string was stored whole. Each case here writes a real SQLite file and
checks the bad value is replaced visibly (U+FFFD, ``…[truncated N chars]``, ``<int with N
bits>``) while everything else is stored.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags
from test_reliability import query, scalar, spyglass_warnings

import spyglass
from spyglass.tracer import _runtime
from spyglass.tracer import attributes as A
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._limits import MAX_ATTRIBUTE_CHARS, MAX_STRING, valid_text
from spyglass.tracer._serialize import to_json
from spyglass.tracer._trace import SpanHandle

BAD = "caf\udce9.txt"  # os.fsdecode(b"caf\xe9.txt"): a Latin-1 name on a UTF-8 system
SHOWN = "caf\ufffd.txt"


@dataclass(frozen=True)
class Stored:
    name: str
    attributes: dict[str, object]
    status_message: str | None
    events: list[dict[str, object]]


def _spans(db: Path) -> list[Stored]:
    rows = query(db, "SELECT name, attributes, status_message, events FROM spans ORDER BY id")
    return [
        Stored(str(name), json.loads(str(attrs)), message, json.loads(str(events or "[]")))
        for name, attrs, message, events in rows
    ]


@contextlib.contextmanager
def _handle(**inherited: dict[str, object]) -> Iterator[SpanHandle]:
    with spyglass.trace("bad", **inherited) as handle:
        assert handle is not None
        yield handle


def _bad_name() -> None:
    with spyglass.trace(BAD):
        pass


def _bad_value() -> None:
    with _handle() as handle:
        handle.set_attribute("file", BAD)


def _bad_key() -> None:
    with _handle() as handle:
        handle.set_attribute(BAD, 1)


def _bad_list_item() -> None:
    with _handle() as handle:
        handle.otel_span.set_attribute("files", [BAD, "ok"])


def _bad_metadata() -> None:
    with _handle(metadata={"file": BAD}):
        pass


def _bad_exception() -> None:
    with contextlib.suppress(ValueError), _handle():
        raise ValueError(BAD)


def _bad_event() -> None:
    with _handle() as handle:
        handle.otel_span.add_event(BAD, {BAD: BAD})


def _event_attributes(stored: Stored) -> dict[str, object]:
    attributes = stored.events[0]["attributes"]
    assert isinstance(attributes, dict)
    return attributes


#: Each puts the surrogate somewhere else; the check finds SHOWN where BAD was.
PLACES: dict[str, tuple[Callable[[], None], Callable[[Stored], bool]]] = {
    "span name": (_bad_name, lambda s: s.name == SHOWN),
    "attribute value": (_bad_value, lambda s: s.attributes["file"] == SHOWN),
    "attribute key": (_bad_key, lambda s: s.attributes[SHOWN] == 1),
    "list item": (_bad_list_item, lambda s: s.attributes["files"] == [SHOWN, "ok"]),
    "metadata": (
        _bad_metadata,
        lambda s: json.loads(str(s.attributes[A.SPYGLASS_METADATA])) == {"file": SHOWN},
    ),
    "exception message": (
        _bad_exception,
        lambda s: (
            s.status_message == f"ValueError: {SHOWN}"
            and _event_attributes(s)["exception.message"] == SHOWN
        ),
    ),
    "event": (
        _bad_event,
        lambda s: [(e["name"], e["attributes"]) for e in s.events] == [(SHOWN, {SHOWN: SHOWN})],
    ),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_a_lone_surrogate_costs_only_that_value(
    traced: Path, caplog: pytest.LogCaptureFixture, place: str
) -> None:
    make_bad_span, shown = PLACES[place]
    make_bad_span()
    for i in range(1000):
        with spyglass.trace("good") as span:
            assert span is not None
            span.set_input(i)
    assert spyglass.flush(timeout=30) is True
    spans = _spans(traced)
    assert len(spans) == 1001
    assert [s.name for s in spans[1:]] == ["good"] * 1000
    assert shown(spans[0]), spans[0]
    assert spyglass_warnings(caplog) == []  # a replaced value is no fault worth a warning


def test_a_surrogate_project_name_is_stored_replaced(db: Path) -> None:
    spyglass.autolog(db=db, project=BAD, integrations=())
    with spyglass.trace("t"):
        pass
    assert spyglass.flush() is True
    assert query(db, "SELECT project FROM traces") == [(SHOWN,)]


def test_surrogate_pairs_become_their_character_and_text_stays_searchable(traced: Path) -> None:
    with spyglass.trace("pair") as span:
        assert span is not None
        span.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, "smile \ud83d\ude00 " + BAD)
    assert spyglass.flush() is True
    assert _spans(traced)[0].attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "smile 😀 " + SHOWN
    assert len(spyglass.Store(traced).search("smile")) == 1


def test_valid_text_leaves_good_text_alone() -> None:
    for text in ("", "plain", "déjà vu", "😀", "\ufffd"):
        assert valid_text(text) is text
    assert valid_text("\udc80\ud800") == "\ufffd\ufffd"


# --- size and integers --------------------------------------------------------------------------


def test_set_attribute_cuts_a_long_string_as_set_input_does(traced: Path) -> None:
    long = "x" * 1_000_000
    with spyglass.trace("big") as span:
        assert span is not None
        span.set_attribute("blob", long)
        span.set_input(long)
    assert spyglass.flush() is True
    (stored,) = _spans(traced)
    attrs = stored.attributes
    assert attrs["blob"] == "x" * MAX_STRING + f"…[truncated {1_000_000 - MAX_STRING} chars]"
    assert json.loads(str(attrs[A.SPYGLASS_INPUT])) == attrs["blob"]  # the same cut


def test_a_light_span_cuts_a_string_past_the_bound(tmp_path: Path) -> None:
    pipeline_spans: list[ReadableSpan] = []
    spyglass.autolog(db=tmp_path / "lite.db", integrations=())
    pipeline = _runtime.active()
    assert pipeline is not None
    lite = pipeline.lite
    lite.on_end = pipeline_spans.append
    over = MAX_ATTRIBUTE_CHARS + 10
    span = lite.start_span("lite", None, {"start": "s" * over})
    span.set_attribute("set", "y" * over)
    span.set_attribute("items", ["a" * over, "b"])
    span.set_attributes({"many": "z" * over})
    span.end()
    (ended,) = pipeline_spans
    marker = "…[truncated 10 chars]"
    attrs = ended.attributes
    assert attrs["start"] == "s" * MAX_ATTRIBUTE_CHARS + marker
    assert attrs["set"] == "y" * MAX_ATTRIBUTE_CHARS + marker
    assert attrs["items"] == ("a" * MAX_ATTRIBUTE_CHARS + marker, "…[1 more items]")
    assert attrs["many"] == "z" * MAX_ATTRIBUTE_CHARS + marker


def test_the_exporter_cuts_what_the_users_own_sdk_span_carries(traced: Path) -> None:
    with spyglass.trace("sdk") as span:
        assert span is not None
        span.otel_span.set_attribute("blob", "x" * (MAX_ATTRIBUTE_CHARS + 5))
        span.otel_span.set_attribute("small", "kept")
    assert spyglass.flush() is True
    (stored,) = _spans(traced)
    attrs = stored.attributes
    assert attrs["blob"] == "x" * MAX_ATTRIBUTE_CHARS + "…[truncated 5 chars]"
    assert attrs["small"] == "kept"
    assert scalar(traced, "SELECT max(length(attributes)) FROM spans") < MAX_ATTRIBUTE_CHARS + 200


def test_an_int_too_big_for_json_loses_only_its_value(traced: Path) -> None:
    with spyglass.trace("huge") as span:
        assert span is not None
        span.set_attribute("n", 10**5000)
        span.set_attribute("other", "kept")
    assert spyglass.flush() is True
    (stored,) = _spans(traced)
    attrs = stored.attributes
    assert stored.name == "huge"
    assert attrs["n"] == to_json(10**5000).strip('"') == "<int with 16610 bits>"
    assert attrs["other"] == "kept"


def test_token_counts_past_64_bits_stay_in_the_json_but_not_in_the_columns(
    traced: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with spyglass.trace("tokens", kind="llm") as span:
        assert span is not None
        span.set_attribute(A.GEN_AI_USAGE_INPUT_TOKENS, 2**70)
        span.set_attribute(A.GEN_AI_USAGE_OUTPUT_TOKENS, 7)
    for _ in range(100):
        with spyglass.trace("after"):
            pass
    assert spyglass.flush() is True
    assert scalar(traced, "SELECT count(*) FROM spans") == 101
    assert query(traced, "SELECT input_tokens, output_tokens FROM spans WHERE name = 'tokens'") == [
        (None, 7)
    ]
    assert _spans(traced)[0].attributes[A.GEN_AI_USAGE_INPUT_TOKENS] == 2**70
    assert spyglass_warnings(caplog) == []


# --- a span that still cannot be stored ---------------------------------------------------------


def _readable(name: str, start: int, i: int) -> ReadableSpan:
    """A span as the user's own SDK code (a processor, a test harness) may build one."""
    return ReadableSpan(
        name=name,
        context=SpanContext(i + 1, i + 1, False, TraceFlags(TraceFlags.SAMPLED)),
        resource=Resource.create({"service.name": "shop"}),
        attributes={"i": i},
        start_time=start,
        end_time=start + 1,
    )


def test_a_span_sqlite_refuses_is_dropped_alone_not_retried_forever(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "bad-row.db"
    exporter = SQLiteSpanExporter(db)
    assert exporter.open()
    spans = [_readable(f"good {i}", 1_000 + i, i) for i in range(600)]
    spans.insert(300, _readable("bad", 2**64, 999_999))  # no SQLite INTEGER holds that
    caplog.clear()
    exporter.export(spans)
    assert exporter.pending_count() == 0
    assert exporter.rejected_count() == 1
    exporter.export([_readable("later", 5_000, 5_000)])
    assert exporter.force_flush() is True
    exporter.shutdown()
    names = [row[0] for row in query(db, "SELECT name FROM spans ORDER BY start_ns")]
    assert names == [f"good {i}" for i in range(600)] + ["later"]
    assert scalar(db, "SELECT sum(span_count) FROM traces") == 601
    warnings = spyglass_warnings(caplog)
    assert len(warnings) == 1 and "'bad'" in warnings[0], warnings


def test_a_span_that_cannot_be_converted_is_dropped_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text for you")

    db = tmp_path / "bad-convert.db"
    exporter = SQLiteSpanExporter(db)
    bad = ReadableSpan(
        name="odd",
        context=SpanContext(7, 7, False, TraceFlags(TraceFlags.SAMPLED)),
        attributes={"odd": Unprintable()},  # what the SDK's own checks would have refused
        start_time=10,
        end_time=11,
    )
    caplog.clear()
    exporter.export([_readable("a", 1, 1), bad, _readable("b", 2, 2)])
    assert exporter.rejected_count() == 1
    exporter.shutdown()
    assert [row[0] for row in query(db, "SELECT name FROM spans ORDER BY id")] == ["a", "b"]
    assert len(spyglass_warnings(caplog)) == 1
