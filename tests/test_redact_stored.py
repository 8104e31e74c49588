"""No secret reaches the disk or the wire: the raw bytes of the SQLite file, its WAL, and the
OTLP requests a collector receives, for secrets in the places the redactor used to miss.

- After a JSON escape: content attributes are JSON strings, so a key typed after a newline is
  stored as ``...?\\nsk-proj-...``; sent through the real LangChain integration (a fake chat
  model from langchain-core) as a user message and as the model's reply.
- In attribute keys, event names and event attribute keys (a program can name an attribute
  after a token); and in link attributes, which only the OTLP copy carries. The OTLP copy is
  scrubbed exactly as the row is.

Each test also finds a harmless word from the same text in the bytes it scans, so the check
cannot pass because the data was somewhere else.
"""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from test_otlp import Collector, collector  # noqa: F401  (the collector fixture)

import spyglass
from spyglass.tracer import attributes as A
from spyglass.tracer._pipeline import _RedactingExporter
from spyglass.tracer._records import SpanRecord
from spyglass.tracer._redact import Redactor
from spyglass.tracer._rows import span_to_row

OPENAI = "sk-proj-Zq8wVb3NcT1yRkH6mLd0PfXa9SgUe2JiYo5KtWr7"
GITHUB = "ghp_k3Jd9QmZx7Lw2RtYb8NvC5aHs1EpU4oGf6Ti"
AWS = "AKIAZ4X7Q2M5W3R6T9YB"
SLACK = "xoxb-482910573618-5820193746501-Kd8sJw2QmZx7Lv3RtYb9NcA1"
SECRETS = (OPENAI, GITHUB, AWS, SLACK)


def _file_bytes(db: Path) -> dict[str, bytes]:
    """The database and its WAL, byte for byte, read while the exporter still has them open
    (so the new pages are in the WAL, not yet checkpointed into the file)."""
    files = {name: Path(f"{db}{name}") for name in ("", "-wal")}
    return {name or "db": path.read_bytes() for name, path in files.items() if path.exists()}


def _assert_absent(blobs: dict[str, bytes], marker: str) -> None:
    joined = b"".join(blobs.values())
    assert marker.encode() in joined, f"{marker!r} should be stored: nothing was scanned"
    for where, blob in blobs.items():
        for secret in SECRETS:
            assert secret.encode() not in blob, f"{secret[:8]}... stored in clear in {where}"
            # also no long piece of it (a rule that stopped early would leave a tail)
            assert secret[-12:].encode() not in blob, f"tail of {secret[:8]}... in {where}"


def test_keys_after_json_escapes_never_reach_disk_or_wire_through_langchain(
    collector: Collector,  # noqa: F811
    db: Path,
) -> None:
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    spyglass.autolog(db=db, otlp_endpoint=collector.url, integrations=["langchain"])
    reply = f"Found these:\n{GITHUB}\n\t{AWS}\r\n{SLACK}"
    chain = (
        ChatPromptTemplate.from_messages([("human", "{question}")])
        | FakeListChatModel(responses=[reply])
        | StrOutputParser()
    )
    question = f"Can you check this?\n{OPENAI}"
    # The program itself still gets its own text back unchanged.
    assert chain.invoke({"question": question}) == reply
    assert spyglass.flush() is True

    stored = _file_bytes(db)
    assert "-wal" in stored
    _assert_absent(stored, "Can you check this?")
    _assert_absent({"otlp": b"".join(collector.bodies)}, "Can you check this?")
    llm = next(span for span in collector.spans if span.name == "FakeListChatModel")
    assert "?\\n[REDACTED]" in str(llm.attributes[A.GEN_AI_INPUT_MESSAGES])
    assert "\\t[REDACTED]" in str(llm.attributes[A.GEN_AI_OUTPUT_MESSAGES])


def test_attribute_keys_and_event_names_are_scrubbed_on_disk_and_wire(
    collector: Collector,  # noqa: F811
    db: Path,
) -> None:
    spyglass.autolog(db=db, otlp_endpoint=collector.url, integrations=())
    with spyglass.trace("outer") as outer:
        assert outer is not None
        outer_context = outer.otel_span.get_span_context()
    with spyglass.trace("keys") as span:
        assert span is not None
        span.set_attribute(f"auth.{OPENAI}", "visible-value")
        span.set_attribute(f"cache.{GITHUB}.hits", 3)
        span.set_attribute(f"token={AWS}", True)
        otel = span.otel_span  # events and links: the OTel span's own API
        otel.add_event(f"rotated {SLACK}", {f"old.{GITHUB}": "x", "reason": "scheduled"})
        otel.add_link(outer_context, {f"from {OPENAI}": "link-value"})
    assert spyglass.flush() is True

    stored = _file_bytes(db)
    _assert_absent(stored, "visible-value")
    _assert_absent({"otlp": b"".join(collector.bodies)}, "link-value")

    record = _span(db, "keys")
    assert record.attributes["auth.[REDACTED]"] == "visible-value"
    assert record.attributes["cache.[REDACTED].hits"] == 3
    ((event_name, event_attributes),) = [(e["name"], e["attributes"]) for e in record.events]
    assert event_name == "rotated [REDACTED]"
    assert event_attributes == {"old.[REDACTED]": "x", "reason": "scheduled"}
    sent = collector.by_name()["keys"]
    assert sent.attributes["auth.[REDACTED]"] == "visible-value"
    assert sent.events == [("rotated [REDACTED]", event_attributes)]


def test_keys_that_differ_only_in_their_secret_stay_two_keys(db: Path) -> None:
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("two") as span:
        assert span is not None
        span.set_attribute(f"user.{OPENAI}", 1)
        span.set_attribute(f"user.{GITHUB}", 2)
    assert spyglass.flush() is True
    record = _span(db, "two")
    stored = {k: v for k, v in record.attributes.items() if k.startswith("user.")}
    assert stored == {"user.[REDACTED]": 1, "user.[REDACTED] (2)": 2}


def _span(db: Path, name: str) -> SpanRecord:
    store = spyglass.Store(db)
    (summary,) = (s for s in store.traces() if s.name == name)
    (record,) = store.trace(summary.trace_id).spans
    return record


def test_the_otlp_copy_is_scrubbed_exactly_as_the_row() -> None:
    redactor = Redactor()
    sent = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_RedactingExporter(sent, redactor)))
    messages = [{"role": "user", "parts": [{"type": "text", "content": f"ok?\n{OPENAI}"}]}]
    attributes = {
        A.GEN_AI_INPUT_MESSAGES: json.dumps(messages),
        f"auth.{GITHUB}": f"token={AWS}\tnext",
        f"user.{SLACK}": 1,
        f"user.{OPENAI}": 2,
        "list": ("plain", f"Bearer {GITHUB}"),
    }
    with provider.get_tracer("t").start_as_current_span(
        f"call {SLACK}", attributes=attributes
    ) as s:
        s.add_event(f"retry {GITHUB}", {f"key {AWS}": f"x\\n{OPENAI}"})
    provider.shutdown()
    (copy,) = sent.get_finished_spans()

    row = span_to_row(copy, None)  # the copy as it is, next to the original scrubbed
    scrubbed = span_to_row(_original(copy, attributes), redactor)
    assert row.values[3] == scrubbed.values[3]  # name
    assert json.loads(str(row.values[15])) == json.loads(str(scrubbed.values[15]))
    events = json.loads(str(row.values[16]))
    assert [(e["name"], e["attributes"]) for e in events] == [
        (e["name"], e["attributes"]) for e in json.loads(str(scrubbed.values[16]))
    ]
    assert not any(secret in repr(row.values) for secret in SECRETS)


def _original(copy: ReadableSpan, attributes: dict[str, object]) -> ReadableSpan:
    """The span before scrubbing: the copy's context and times with the original values."""
    return ReadableSpan(
        name=f"call {SLACK}",
        context=copy.context,
        parent=copy.parent,
        resource=copy.resource,
        attributes=attributes,  # type: ignore[arg-type]
        events=[
            Event(f"retry {GITHUB}", {f"key {AWS}": f"x\\n{OPENAI}"}, copy.events[0].timestamp)
        ],
        status=copy.status,
        start_time=copy.start_time,
        end_time=copy.end_time,
    )


def test_a_secret_key_among_keys_seen_clean_before_is_still_scrubbed() -> None:
    redactor = Redactor()
    sent = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(sent))
    tracer = provider.get_tracer("t")
    for attributes in ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"a": 1, f"b.{GITHUB}": "x"}):
        tracer.start_span("s", attributes=attributes).end()
    provider.shutdown()
    stored = [
        json.loads(str(span_to_row(s, redactor).values[15])) for s in sent.get_finished_spans()
    ]
    assert stored == [{"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"a": 1, "b.[REDACTED]": "x"}]
