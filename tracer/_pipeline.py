"""One tracing pipeline: spyglass's own TracerProvider, its processors and its exporters.

spyglass never touches the global provider (``set_tracer_provider`` works once per process and
belongs to the application). Spans still nest under the application's current OTel span,
because parenting comes from the shared OTel context, not from the provider.

The pipeline is a plain object built from ``Settings``; ``spyglass.autolog`` keeps the active
one. Tests build their own with whatever exporter they like.
"""

from __future__ import annotations

import logging
import os
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
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes, AttributeValue

from spyglass import __version__
from spyglass.tracer import attributes as A
from spyglass.tracer._context import ContextAttributesProcessor
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._limits import valid_text, valid_value
from spyglass.tracer._lite import LiteTracer
from spyglass.tracer._processor import BlockingBatchProcessor
from spyglass.tracer._redact import Redactor

logger = logging.getLogger("spyglass")

TRACER_NAME = "spyglass"

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
    """Scrubs a copy of each span before another exporter (OTLP) sends it anywhere."""

    def __init__(self, inner: SpanExporter, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor

    def _attributes(self, attributes: Attributes) -> Attributes:
        scrub = self._redactor.scrub_value  # keeps each value's type (str in, str out)
        # valid_*: a lone surrogate would fail the OTLP encoding of the whole batch.
        return {
            valid_text(k): cast(AttributeValue, valid_value(scrub(v)))
            for k, v in (attributes or {}).items()
        }

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
                        valid_text(event.name), self._attributes(event.attributes), event.timestamp
                    )
                    for event in span.events
                ],
                links=span.links,
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
    return _RedactingExporter(exporter, redactor) if redactor is not None else exporter


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
            shutdown_on_exit=True,
        )
        self.provider.add_span_processor(ContextAttributesProcessor(self.resource))
        self._end_processors: list[SpanProcessor] = []
        self.sqlite: SQLiteSpanExporter | None = None
        if settings.db is not None:
            self.sqlite = SQLiteSpanExporter(settings.db, settings.redactor)
            self.sqlite.open()
            self._add(BlockingBatchProcessor(self.sqlite))
        if settings.otlp_endpoint:
            exporter = _otlp_exporter(settings.otlp_endpoint, settings.redactor)
            self._add(BatchSpanProcessor(exporter, schedule_delay_millis=1_000))
        for exporter in exporters:
            self._add(BlockingBatchProcessor(exporter))
        self.tracer = self.provider.get_tracer(TRACER_NAME, __version__)
        self.lite = LiteTracer(
            self.resource, InstrumentationScope(TRACER_NAME, __version__), self._lite_ended
        )
        """Light spans for the framework integrations, into the same processors."""

    def _add(self, processor: SpanProcessor) -> None:
        self.provider.add_span_processor(processor)
        self._end_processors.append(processor)

    def _lite_ended(self, span: ReadableSpan) -> None:
        for processor in self._end_processors:
            try:
                processor.on_end(span)
            except Exception:  # a processor must not raise into the traced program
                logger.warning("spyglass span processor failed", exc_info=True)

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every finished span is exported; False if the timeout passed first."""
        return self.provider.force_flush(int(timeout * 1000))

    def shutdown(self) -> None:
        """Flush and stop the worker threads; the pipeline records nothing afterwards."""
        self.provider.shutdown()


def otlp_endpoint_from_env() -> str | None:
    """The standard variables: the traces URL as given, or the base URL plus ``/v1/traces``."""
    traces = os.environ.get(A.ENV_OTLP_TRACES_ENDPOINT, "").strip()
    if traces:
        return traces
    base = os.environ.get(A.ENV_OTLP_ENDPOINT, "").strip()
    if base:
        return base.rstrip("/") + "/v1/traces"
    return None
