"""The process's active pipeline, and the settings it is built from by default.

There is one active pipeline per process because tracing is a property of the process (a fork
gets its own connection and worker, not its own configuration). ``spyglass.autolog`` replaces
it; ``spyglass.trace`` and the public LangChain handler use it, building the default one on
first use so that a decorated function records even without autolog.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from spyglass.tracer import attributes as A
from spyglass.tracer._pipeline import Pipeline, Settings
from spyglass.tracer._redact import Redactor

_lock = threading.RLock()
_active: Pipeline | None = None


def default_db() -> Path:
    """``$SPYGLASS_DB``, else ``./spyglass.db``."""
    return Path(os.environ.get(A.ENV_DB) or "spyglass.db")


def default_project() -> str:
    """``$SPYGLASS_PROJECT``, else ``default``."""
    return os.environ.get(A.ENV_PROJECT) or "default"


def content_allowed_by_env() -> bool:
    """False when the standard GenAI variable says ``NO_CONTENT``."""
    value = os.environ.get(A.ENV_CAPTURE_CONTENT, "").strip().upper()
    return value != "NO_CONTENT"


def default_settings() -> Settings:
    from spyglass.tracer._pipeline import otlp_endpoint_from_env

    return Settings(
        db=default_db(),
        project=default_project(),
        capture_content=content_allowed_by_env(),
        otlp_endpoint=otlp_endpoint_from_env(),
        redactor=Redactor(),
    )


def active() -> Pipeline | None:
    """The pipeline autolog set up, if any."""
    return _active


def ensure() -> Pipeline:
    """The active pipeline, building the default one if there is none yet."""
    global _active
    pipeline = _active
    if pipeline is not None:
        return pipeline
    with _lock:
        if _active is None:
            _active = Pipeline(default_settings())
        return _active


def replace(pipeline: Pipeline | None) -> Pipeline | None:
    """Install ``pipeline`` as the active one; returns the previous (not shut down)."""
    global _active
    with _lock:
        previous, _active = _active, pipeline
        return previous
