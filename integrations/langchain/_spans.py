"""The span side of the LangChain handler: starting, ending and owning one span per run.

``RunSpans`` is the part of ``SpyglassCallbackHandler`` that knows OpenTelemetry: which tracer
and content setting apply, how a run claims its id in the shared ``RunTable`` (so a second
handler seeing the same run does nothing), where its span's parent comes from (the parent run's
span, else the OTel context current at start, never attached), and how a span ends (the end
attributes in one call, then status OK or the error). ``callback_failed`` is what every callback
does with an exception instead of raising it into LangChain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from uuid import UUID

from opentelemetry import context as otel_context
from opentelemetry.trace import Status, StatusCode

from spyglass.integrations.langchain._extract import Attributes
from spyglass.integrations.langchain._runs import SHARED_RUNS, Run, RunTable
from spyglass.tracer import attributes as A
from spyglass.tracer._context import enter_framework_run
from spyglass.tracer._lite import LiteTracer
from spyglass.tracer._runtime import ensure
from spyglass.tracer._trace import record_error

logger = logging.getLogger("spyglass")

INTEGRATION = "langchain"
_OK = Status(StatusCode.OK)


_failed_callbacks: set[tuple[str, type[BaseException]]] = set()


def callback_failed(callback: str, exc: Exception) -> None:
    """Log (once per callback and error type) instead of raising into LangChain.

    Each callback body catches its own exceptions and calls this: a decorator would cost a
    second call and a repack of LangChain's keyword arguments on every event.
    """
    key = (callback, type(exc))
    first = key not in _failed_callbacks
    _failed_callbacks.add(key)
    log = logger.warning if first else logger.debug
    log("spyglass: LangChain %s failed; the run continues untraced in part", callback, exc_info=exc)


class RunSpans:
    """Span lifecycle for LangChain runs (a base of the callback handler)."""

    def __init__(
        self,
        *,
        tracer: LiteTracer | None = None,
        capture_content: bool | None = None,
        runs: RunTable | None = None,
    ) -> None:
        self._tracer = tracer
        self._capture = capture_content
        self._runs = runs if runs is not None else SHARED_RUNS
        self._enabled = True

    def close(self) -> None:
        """Stop tracing and end the spans of runs still open (uninstall)."""
        self._enabled = False
        for run in self._runs.release_all(self):
            run.span.end()

    def _settings(self) -> tuple[LiteTracer, bool]:
        if self._tracer is not None:
            return self._tracer, self._capture if self._capture is not None else True
        pipeline = ensure()  # the active pipeline, whichever autolog set up last
        capture = self._capture if self._capture is not None else pipeline.settings.capture_content
        return pipeline.lite, capture

    def _wanted(self, run_id: UUID) -> bool:
        """Cheap pre-check before building attributes: enabled, and nobody owns the run yet."""
        return self._enabled and run_id not in self._runs

    def _start(
        self,
        run_id: UUID,
        parent: Run | None,
        name: str,
        kind: str,
        capture: bool,
        attributes: Attributes,
        tracer: LiteTracer,
    ) -> Run | None:
        attributes[A.SPYGLASS_KIND] = kind
        attributes[A.SPYGLASS_INTEGRATION] = INTEGRATION
        runs = self._runs
        with runs.lock:
            if run_id in runs:  # another handler claimed it since the pre-check
                return None
            if parent is not None:
                span = tracer.start_child(name, parent.span, attributes)
            else:
                span = tracer.start_span(name, otel_context.get_current(), attributes)
            run = Run(span=span, owner=self, kind=kind, capture=capture)
            runs.add(run_id, run)
        enter_framework_run(span)  # user spans inside this run's code nest under it
        return run

    def _finish(
        self,
        run_id: UUID,
        build: Callable[[Run], None] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """End a run we own; ``build`` adds the end attributes (a failure there loses only them)."""
        run = self._runs.release(run_id, self)
        if run is None:
            return
        span = run.span
        try:
            if build is not None:
                build(run)
        finally:
            if error is not None and not isinstance(error, GeneratorExit):
                record_error(span, error)  # a stream closed early is not a failure
                span.end()
            else:
                span.end_ok()
