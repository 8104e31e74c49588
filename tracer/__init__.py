"""Tracing core: provider set-up, the SQLite exporter, schema, read API, redaction.

Importing this package loads the OpenTelemetry SDK; ``spyglass`` itself imports it lazily.
"""

from __future__ import annotations

from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._integration import IntegrationContext
from spyglass.tracer._pipeline import Pipeline, Settings
from spyglass.tracer._redact import Redactor
from spyglass.tracer._serialize import to_json, to_jsonable
from spyglass.tracer._store import Store
from spyglass.tracer._trace import SpanHandle, error_type, record_error, trace

__all__ = [
    "IntegrationContext",
    "Pipeline",
    "Redactor",
    "SQLiteSpanExporter",
    "Settings",
    "SpanHandle",
    "Store",
    "error_type",
    "record_error",
    "to_json",
    "to_jsonable",
    "trace",
]
