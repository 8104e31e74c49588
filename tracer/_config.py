"""Defaults read from the environment: the file, the project, whether content is captured.

Kept apart from ``_runtime`` (the active pipeline), which imports the OpenTelemetry SDK: a read
command or ``Store()`` that only needs the default file's path must not pay for the SDK.
"""

from __future__ import annotations

import os
from pathlib import Path

from spyglass.tracer import attributes as A


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
