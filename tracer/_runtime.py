"""The process's active pipeline, and the settings it is built from by default.

There is one active pipeline per process because tracing is a property of the process (a fork
gets its own connection and worker, not its own configuration). ``spyglass.autolog`` replaces
it; ``spyglass.trace`` and the public LangChain handler use it, building the default one on
first use so that a decorated function records even without autolog. The defaults it builds
from (``default_db`` and the others) live in ``_config``, which loads no SDK.

A multiprocessing child started by spawn or forkserver is a new interpreter: it re-imports the
main module but not what ran under ``if __name__ == "__main__"``, where autolog usually is. So
autolog leaves its settings in ``$SPYGLASS_CHILD_SETTINGS`` (``settings_for_children``), and
the default pipeline of a multiprocessing child of that very process is built from them: its
``spyglass.trace`` spans go to the parent's file, project and collector, redacted the same way.
Only what JSON can carry travels: a ``redact=`` callable or ``Redactor`` object cannot, so such
a child records no content (and says so once) rather than store text its parent would have
scrubbed. Other processes, and children of other processes, ignore the variable.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from pathlib import Path

from spyglass.tracer import attributes as A
from spyglass.tracer._config import content_allowed_by_env, default_db, default_project
from spyglass.tracer._pipeline import Pipeline, Settings
from spyglass.tracer._redact import Redactor, make_redactor

logger = logging.getLogger("spyglass")

__all__ = [
    "active",
    "content_allowed_by_env",
    "default_db",
    "default_project",
    "default_settings",
    "ensure",
    "inherited_settings",
    "replace",
    "settings_for_children",
]

_lock = threading.RLock()
_active: Pipeline | None = None


def _redact_for_children(redact: object) -> object:
    """``redact=`` as JSON: a bool, ``[[pattern, flags], ...]``, or ``"custom"``."""
    if redact is None or isinstance(redact, bool):
        return bool(redact)
    patterns = [redact] if isinstance(redact, (str, re.Pattern)) else redact
    if isinstance(patterns, (list, tuple)) and all(
        isinstance(pattern, (str, re.Pattern)) for pattern in patterns
    ):
        return [[p, 0] if isinstance(p, str) else [p.pattern, p.flags] for p in patterns]
    return "custom"  # a callable, a Redactor, an iterator: not something JSON can carry


def settings_for_children(settings: Settings, redact: object) -> str:
    """The value of ``$SPYGLASS_CHILD_SETTINGS`` for ``settings`` (``redact`` as autolog got it)."""
    return json.dumps(
        {
            "pid": os.getpid(),
            "db": os.path.abspath(settings.db) if settings.db is not None else None,
            "project": settings.project,
            "capture_content": settings.capture_content,
            "otlp_endpoint": settings.otlp_endpoint,
            "redact": _redact_for_children(redact),
        }
    )


def _decode_child_settings(data: dict[str, object]) -> Settings:
    db, project, content = data["db"], data["project"], data["capture_content"]
    endpoint, redact = data["otlp_endpoint"], data["redact"]
    if not (
        (db is None or isinstance(db, str))
        and isinstance(project, str)
        and isinstance(content, bool)
        and (endpoint is None or isinstance(endpoint, str))
    ):
        raise ValueError("a field has the wrong type")
    custom = redact == "custom"
    if custom:
        logger.warning(
            "spyglass records no content in this multiprocessing child: the redact= given to "
            "autolog in its parent cannot be passed on; call spyglass.autolog(redact=...) in the "
            "child (e.g. a Pool initializer) to record it"
        )
    elif isinstance(redact, list):
        redact = [re.compile(str(pattern), int(flags)) for pattern, flags in redact]
    return Settings(
        db=Path(db) if db is not None else None,
        project=project,
        capture_content=content and not custom,
        otlp_endpoint=endpoint,
        redactor=make_redactor(True if custom else redact),
    )


def inherited_settings() -> Settings | None:
    """The settings autolog left for this process, if it is that autolog's multiprocessing
    child (``$SPYGLASS_CHILD_SETTINGS``); None otherwise."""
    raw = os.environ.get(A.ENV_CHILD_SETTINGS)
    process = sys.modules.get("multiprocessing.process")
    if not raw or process is None:
        return None
    parent = process.parent_process()
    try:
        data = json.loads(raw)
        if parent is None or data["pid"] != parent.pid:
            return None
        return _decode_child_settings(data)
    except (ValueError, TypeError, KeyError, re.error) as exc:
        logger.warning(
            "spyglass ignores $%s, which autolog did not write: %s", A.ENV_CHILD_SETTINGS, exc
        )
        return None


def default_settings() -> Settings:
    from spyglass.tracer._pipeline import otlp_endpoint_from_env

    inherited = inherited_settings()
    if inherited is not None:
        return inherited
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
