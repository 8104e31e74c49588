"""``spyglass collect``: an OTLP/HTTP receiver that stores any GenAI instrumentation's spans.

Spans from OpenInference, OpenLLMetry, the OpenTelemetry GenAI instrumentations, MLflow or
spyglass itself arrive over ``POST /v1/traces`` (protobuf or JSON, gzip or not), are decoded
(``_decode``), normalised to spyglass's canonical attributes with every original kept
(``_normalise`` and one module per convention), and written by the same SQLite exporter as
in-process spans (``_writer``), so redaction, the search index, documents and trace roll-ups
are the same. The server (``_server``, on aiohttp: the ``collect`` extra) is imported only when
a receiver runs.

This package depends on ``spyglass.tracer`` and ``spyglass.errors`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["CollectorSettings", "Report", "normalise", "run", "serve"]

if TYPE_CHECKING:
    from spyglass.collector._normalise import normalise
    from spyglass.collector._run import Report, run, serve
    from spyglass.collector._server import CollectorSettings

_LAZY = {
    "CollectorSettings": "spyglass.collector._server",
    "Report": "spyglass.collector._run",
    "normalise": "spyglass.collector._normalise",
    "run": "spyglass.collector._run",
    "serve": "spyglass.collector._run",
}

#: The one line shown when aiohttp is missing.
MISSING_EXTRA = "spyglass collect needs aiohttp: pip install 'spyglass-trace[collect]'"


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass.collector' has no attribute {name!r}")
    import importlib

    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name == "aiohttp" or (exc.name or "").startswith("aiohttp."):
            from spyglass.errors import CollectorError

            raise CollectorError(MISSING_EXTRA) from None
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
