"""What an integration is handed when autolog installs it, and what it hands back.

An integration module exposes ``install(ctx) -> Uninstall``. It must not import the library
it instruments at import time of the integration package itself: autolog imports the
integration only once the library is imported by the program (see ``_hooks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.trace import Tracer

from spyglass.tracer._lite import LiteTracer

Uninstall = Callable[[], None]


@dataclass(frozen=True)
class IntegrationContext:
    """Collaborators an integration needs; passed in, never looked up globally."""

    tracer: Tracer
    """spyglass's own tracer (never the global provider's)."""

    capture_content: bool
    """False: record structure, timings and tokens, but no prompt, output or document text."""

    lite: LiteTracer | None = None
    """The same pipeline's light spans, for framework runs (many small spans per call); None
    means the active pipeline's, looked up when a run starts."""
