"""One tracing pipeline: spyglass's own TracerProvider, its processors and its exporters.

spyglass never touches the global provider (``set_tracer_provider`` works once per process and
belongs to the application). Spans still nest under the application's current OTel span,
because parenting comes from the shared OTel context, not from the provider.

The pipeline is a plain object built from ``Settings``; ``spyglass.autolog`` keeps the active
one. Tests build their own with whatever exporter they like.

Every exporter, the OTLP one included, sits behind a ``BlockingBatchProcessor``: the SDK's
``BatchSpanProcessor`` flushes on the caller's thread without a bound (each OTLP batch may
retry for 10 s against a collector that is down), which made exit take 30 s. Here the workers
do the exporting, and exit waits for them at most ``EXIT_TIMEOUT`` in all: they are stopped
together and waited for against one deadline, then whatever was not taken is logged once.
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import (
    Event,
    ReadableSpan,
    SpanLimits,
    SpanProcessor,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import Attributes, AttributeValue

from spyglass import __version__
from spyglass.tracer import attributes as A
from spyglass.tracer._context import ContextAttributesProcessor
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._limits import valid_text, valid_value
from spyglass.tracer._lite import LiteTracer
from spyglass.tracer._processor import EXIT_TIMEOUT, BlockingBatchProcessor
from spyglass.tracer._redact import Redactor
from spyglass.tracer._rows import distinct_key
from spyglass.tracer._warn import reason, warn

logger = logging.getLogger("spyglass")

TRACER_NAME = "spyglass"

#: How long exit waits for a collector, in seconds (the local file gets ``EXIT_TIMEOUT``).
OTLP_EXIT_TIMEOUT = 3.0

#: Raised from the SDK's default of 128: a retriever span may carry many attributes.
MAX_SPAN_ATTRIBUTES = 1_000


@dataclass(frozen=True)
class Settings:
    """Everything that decides what a pipeline records and where."""

    db: Path | None
    project: str = "default"
    capture_content: bool = True
    otlp_endpoint: str | None = None
    redactor: Redactor | None = None


class _RedactingExporter(SpanExporter):
    """Scrubs a copy of each span before another exporter (OTLP) sends it anywhere: what the
    SQLite rows scrub (name, attribute keys and values, event names and attributes, status
    message), and link attributes, which only this copy carries."""

    def __init__(self, inner: SpanExporter, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor

    def _attributes(self, attributes: Attributes) -> Attributes:
        scrub_name, scrub_value = self._redactor.scrub_name, self._redactor.scrub_value
        out: dict[str, AttributeValue] = {}
        for key, value in (attributes or {}).items():
            # Keys too, as the SQLite rows do; valid_*: a lone surrogate would fail the OTLP
            # encoding of the whole batch.
            name = valid_text(scrub_name(key))
            out[name if name == key else distinct_key(name, out)] = cast(
                AttributeValue, valid_value(scrub_value(value))
            )
        return out

    def _status(self, status: Status) -> Status:
        if not status.description:
            return status
        return Status(status.status_code, valid_text(self._redactor.scrub(status.description)))

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        # Events and the status message are scrubbed too: an exception's message and traceback
        # (record_error) are where a key the program was handed most often turns up.
        copies = [
            ReadableSpan(
                name=valid_text(self._redactor.scrub(span.name)),
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=self._attributes(span.attributes),
                events=[
                    Event(
                        valid_text(self._redactor.scrub_name(event.name)),
                        self._attributes(event.attributes),
                        event.timestamp,
                    )
                    for event in span.events
                ],
                links=[
                    Link(link.context, self._attributes(link.attributes)) for link in span.links
                ],
                kind=span.kind,
                status=self._status(span.status),
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            )
            for span in spans
        ]
        return self._inner.export(copies)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._inner.shutdown()


def _otlp_exporter(endpoint: str, redactor: Redactor | None) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter: SpanExporter = OTLPSpanExporter(endpoint=endpoint)
    # Copied even with redaction off (a Redactor without rules scrubs nothing): the copy is
    # also what turns a lone surrogate into U+FFFD, which would otherwise fail the whole batch.
    return _RedactingExporter(exporter, redactor or Redactor(include_defaults=False))


class Pipeline:
    """A private TracerProvider wired to the SQLite file and, optionally, an OTLP collector."""

    def __init__(self, settings: Settings, exporters: Sequence[SpanExporter] = ()) -> None:
        self.settings = settings
        self.resource = Resource.create(
            {"service.name": settings.project, A.SPYGLASS_PROJECT: settings.project}
        )
        self.provider = TracerProvider(
            resource=self.resource,
            sampler=ALWAYS_ON,
            span_limits=SpanLimits(max_span_attributes=MAX_SPAN_ATTRIBUTES),
            shutdown_on_exit=False,  # our own atexit below: bounded, all processors at once
        )
        self.provider.add_span_processor(ContextAttributesProcessor(self.resource))
        self._end_processors: list[SpanProcessor] = []
        self.sqlite: SQLiteSpanExporter | None = None
        if settings.db is not None:
            self.sqlite = SQLiteSpanExporter(settings.db, settings.redactor)
            self.sqlite.open()
            self._add(BlockingBatchProcessor(self.sqlite, target=str(settings.db)))
        if settings.otlp_endpoint:
            exporter = _otlp_exporter(settings.otlp_endpoint, settings.redactor)
            # 512 a request, as the SDK's processor sends: one POST stays small.
            self._add(
                BlockingBatchProcessor(
                    exporter,
                    target=f"the OTLP collector at {settings.otlp_endpoint}",
                    max_batch_size=512,
                    min_batch_size=512,
                    schedule_delay=1.0,
                    exit_timeout=OTLP_EXIT_TIMEOUT,
                )
            )
        for exporter in exporters:
            self._add(BlockingBatchProcessor(exporter, target=type(exporter).__name__))
        atexit.register(self.shutdown)
        self.tracer = self.provider.get_tracer(TRACER_NAME, __version__)
        self.lite = LiteTracer(
            self.resource, InstrumentationScope(TRACER_NAME, __version__), self._lite_ended
        )
        """Light spans for the framework integrations, into the same processors."""
        self.recording = not sdk_disabled_by_env()
        """False under ``OTEL_SDK_DISABLED=true``: the SDK's provider hands out no-op tracers
        then, and light spans, which bypass it, are dropped here to match."""

    def _add(self, processor: SpanProcessor) -> None:
        self.provider.add_span_processor(processor)
        self._end_processors.append(processor)

    def _lite_ended(self, span: ReadableSpan) -> None:
        if not self.recording:
            return
        for processor in self._end_processors:
            try:
                processor.on_end(span)
            except Exception:  # a processor must not raise into the traced program
                warn("spyglass span processor failed: %s", reason(), traceback=True)

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every finished span is exported; False if the timeout passed first."""
        return self.provider.force_flush(int(timeout * 1000))

    def shutdown(self, timeout: float = EXIT_TIMEOUT) -> None:
        """Flush and stop the worker threads, waiting at most ``timeout`` seconds in all; the
        pipeline records nothing afterwards."""
        atexit.unregister(self.shutdown)
        deadline = time.monotonic() + timeout
        ours = [p for p in self._end_processors if isinstance(p, BlockingBatchProcessor)]
        for processor in ours:
            processor.stop()  # all workers drain at once: one deadline, not one each
        for processor in ours:
            left = max(0.0, deadline - time.monotonic())
            processor.shutdown(min(left, processor.exit_timeout))
        self.provider.shutdown()  # the rest; the processors above are already shut down


def sdk_disabled_by_env() -> bool:
    """``OTEL_SDK_DISABLED=true``, read as the OTel SDK reads it (case and spaces ignored)."""
    return os.environ.get(A.ENV_SDK_DISABLED, "").strip().lower() == "true"


def otlp_endpoint_from_env() -> str | None:
    """The standard variables: the traces URL as given, or the base URL plus ``/v1/traces``."""
    traces = os.environ.get(A.ENV_OTLP_TRACES_ENDPOINT, "").strip()
    if traces:
        return traces
    base = os.environ.get(A.ENV_OTLP_ENDPOINT, "").strip()
    if base:
        return base.rstrip("/") + "/v1/traces"
    return None
