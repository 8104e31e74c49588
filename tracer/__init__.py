"""Tracing core: provider set-up, the SQLite exporter, schema, read API, redaction, scores.

The core imports nothing from the rest of spyglass but the exception tree (``spyglass.errors``).
Scores are part of it because the ``scores`` table sits beside the traces: ``score()`` writes
one, ``Store.scores()`` reads them, and the viewer, the prompt diff and evaluation all go
through here. ``database_error`` turns an ``sqlite3`` error on a file into the matching
``DatabaseError`` for every part that opens the file.

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
    "Score",
    "ScoreRecord",
    "ScoreSummary",
    "Settings",
    "SpanHandle",
    "Store",
    "Trace",
    "database_error",
    "error_type",
    "record_error",
    "score",
    "to_json",
    "to_jsonable",
    "trace",
]

if TYPE_CHECKING:
    from spyglass.tracer._db import database_error
    from spyglass.tracer._exporter import SQLiteSpanExporter
    from spyglass.tracer._integration import IntegrationContext
    from spyglass.tracer._pipeline import Pipeline, Settings
    from spyglass.tracer._records import Trace
    from spyglass.tracer._redact import Redactor
    from spyglass.tracer._score_stats import ScoreSummary
    from spyglass.tracer._score_types import Score
    from spyglass.tracer._scores import ScoreRecord, score
    from spyglass.tracer._serialize import to_json, to_jsonable
    from spyglass.tracer._store import Store
    from spyglass.tracer._trace import SpanHandle, error_type, record_error, trace

_LAZY = {
    "IntegrationContext": "spyglass.tracer._integration",
    "Pipeline": "spyglass.tracer._pipeline",
    "Settings": "spyglass.tracer._pipeline",
    "Redactor": "spyglass.tracer._redact",
    "SQLiteSpanExporter": "spyglass.tracer._exporter",
    "Score": "spyglass.tracer._score_types",
    "ScoreRecord": "spyglass.tracer._scores",
    "ScoreSummary": "spyglass.tracer._score_stats",
    "SpanHandle": "spyglass.tracer._trace",
    "Store": "spyglass.tracer._store",
    "Trace": "spyglass.tracer._records",
    "database_error": "spyglass.tracer._db",
    "error_type": "spyglass.tracer._trace",
    "record_error": "spyglass.tracer._trace",
    "score": "spyglass.tracer._scores",
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
