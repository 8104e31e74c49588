"""The process's active pipeline, and the settings it is built from by default.

There is one active pipeline per process because tracing is a property of the process (a fork
gets its own connection and worker, not its own configuration). ``spyglass.autolog`` replaces
it; ``spyglass.trace`` and the public LangChain handler use it, building the default one on
first use so that a decorated function records even without autolog. The defaults it builds
from (``default_db`` and the others) live in ``_config``, which loads no SDK.
"""

from __future__ import annotations

import threading

from spyglass.tracer._config import content_allowed_by_env, default_db, default_project
from spyglass.tracer._pipeline import Pipeline, Settings
from spyglass.tracer._redact import Redactor

__all__ = [
    "active",
    "content_allowed_by_env",
    "default_db",
    "default_project",
    "default_settings",
    "ensure",
    "replace",
]

_lock = threading.RLock()
_active: Pipeline | None = None


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
