"""Tracing core: provider set-up, the SQLite exporter, schema, read API, redaction.

Names resolve on first use so that ``spyglass.autolog()`` loads only what tracing needs (the
read API and the viewer's records are not needed to write spans).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "IntegrationContext",
    "Pipeline",
    "Redactor",
    "SQLiteSpanExporter",
    "Settings",
    "SpanHandle",
    "Store",
    "Trace",
    "error_type",
    "record_error",
    "to_json",
    "to_jsonable",
    "trace",
]

if TYPE_CHECKING:
    from spyglass.tracer._exporter import SQLiteSpanExporter
    from spyglass.tracer._integration import IntegrationContext
    from spyglass.tracer._pipeline import Pipeline, Settings
    from spyglass.tracer._records import Trace
    from spyglass.tracer._redact import Redactor
    from spyglass.tracer._serialize import to_json, to_jsonable
    from spyglass.tracer._store import Store
    from spyglass.tracer._trace import SpanHandle, error_type, record_error, trace

_LAZY = {
    "IntegrationContext": "spyglass.tracer._integration",
    "Pipeline": "spyglass.tracer._pipeline",
    "Settings": "spyglass.tracer._pipeline",
    "Redactor": "spyglass.tracer._redact",
    "SQLiteSpanExporter": "spyglass.tracer._exporter",
    "SpanHandle": "spyglass.tracer._trace",
    "Store": "spyglass.tracer._store",
    "Trace": "spyglass.tracer._records",
    "error_type": "spyglass.tracer._trace",
    "record_error": "spyglass.tracer._trace",
    "to_json": "spyglass.tracer._serialize",
    "to_jsonable": "spyglass.tracer._serialize",
    "trace": "spyglass.tracer._trace",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass.tracer' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
