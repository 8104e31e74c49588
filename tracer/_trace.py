"""``spyglass.trace``: a span around the user's own code, as a context manager or a decorator.

The decorator keeps the function's kind: sync, async, generator or async generator. A generator's
span stays open while it is iterated and is current only while the generator body runs (each
``next`` attaches and detaches), so spans started between iterations by the caller do not nest
under it by mistake. Exceptions are recorded and re-raised unchanged; spyglass's own failures
are logged and never reach the program.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from types import TracebackType
from typing import TypeVar, cast, overload

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, Status, StatusCode

from spyglass.errors import ConfigurationError
from spyglass.tracer import _runtime
from spyglass.tracer import attributes as A
from spyglass.tracer._context import inherit, parent_context
from spyglass.tracer._decorate import (
    finish,
    wrap_async_generator,
    wrap_coroutine,
    wrap_function,
    wrap_generator,
)
from spyglass.tracer._documents import documents_from_output, documents_json, query_from_input
from spyglass.tracer._limits import MAX_STRING, capped
from spyglass.tracer._serialize import to_json
from spyglass.tracer._warn import reason, warn

logger = logging.getLogger("spyglass")

F = TypeVar("F", bound=Callable[..., object])


def error_type(exc: BaseException) -> str:
    """The fully qualified class name, as OTel's ``error.type`` wants it."""
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def record_error(span: Span, exc: BaseException) -> None:
    """Status ERROR, ``error.type`` and the exception event (with its traceback)."""
    try:
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.set_attribute(A.ERROR_TYPE, error_type(exc))
        span.record_exception(exc)
    except Exception:
        logger.debug("spyglass could not record an exception", exc_info=True)


class SpanHandle:
    """What ``with spyglass.trace(...) as span`` gives: add input, output and attributes.

    On a RETRIEVER span, ``set_documents`` records retrieved documents, and the input and
    output are read for them too: a string input (or a function's one string argument, or its
    ``query`` / ``question`` argument) is the query, and an output that is a list of documents
    is stored as the documents (``tracer/_documents.py`` says what counts as one).
    """

    def __init__(self, span: Span, capture_content: bool, kind: str = "CHAIN") -> None:
        self._span = span
        self._capture = capture_content
        self._kind = kind
        ctx = span.get_span_context()
        self.trace_id = format(ctx.trace_id, "032x")
        self.span_id = format(ctx.span_id, "016x")

    @property
    def otel_span(self) -> Span:
        """The underlying OpenTelemetry span."""
        return self._span

    def set_input(self, value: object) -> None:
        """Record what the block was given (any object; serialized safely). On a RETRIEVER
        span a query found in it is also recorded as the query."""
        if not self._capture:
            return
        self._span.set_attribute(A.SPYGLASS_INPUT, to_json(value))
        if self._kind == "RETRIEVER":
            query = query_from_input(value)
            if query is not None:
                self.set_query(query)

    def set_output(self, value: object) -> None:
        """Record what the block produced. On a RETRIEVER span a list of documents is
        recorded as the span's documents (``set_documents``) instead."""
        if self._kind == "RETRIEVER" and documents_from_output(value):
            self.set_documents(value)
        elif self._capture:
            self._span.set_attribute(A.SPYGLASS_OUTPUT, to_json(value))

    def set_documents(self, documents: object) -> None:
        """Record retrieved documents, in rank order: strings, dicts (``content`` or
        ``page_content`` or ``text``, ``id``, ``score``, ``metadata``), LangChain
        ``Document``s, LlamaIndex nodes or ``NodeWithScore``s, or ``(document, score)`` pairs.
        Ids and scores are kept without content capture; text and metadata only with it."""
        try:
            self._span.set_attribute(
                A.GEN_AI_RETRIEVAL_DOCUMENTS, documents_json(documents, self._capture)
            )
        except Exception:
            logger.debug("spyglass could not record documents", exc_info=True)

    def set_query(self, text: str) -> None:
        """Record a retrieval's query text (``gen_ai.retrieval.query.text``)."""
        if self._capture:
            self._span.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, capped(str(text), MAX_STRING))

    def set_attribute(self, key: str, value: object) -> None:
        """Set one attribute; values that are not OTel primitives are stored as JSON. A string
        keeps what ``set_input`` keeps of one (``…[truncated N chars]`` past 16,384)."""
        if isinstance(value, str):
            self._span.set_attribute(key, capped(value, MAX_STRING))
        elif isinstance(value, (bool, int, float)):
            self._span.set_attribute(key, value)
        else:
            self._span.set_attribute(key, to_json(value))

    def set_attributes(self, attributes: Mapping[str, object]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)


class _Active:
    """One entered span: the span, its handle and what must be undone on exit."""

    def __init__(self, spec: _TraceSpec) -> None:
        self.stack = ExitStack()
        self.stack.enter_context(
            inherit(
                session_id=spec.session_id,
                user_id=spec.user_id,
                tags=spec.tags,
                metadata=spec.metadata,
            )
        )
        pipeline = _runtime.ensure()
        attributes: dict[str, str] = {A.SPYGLASS_KIND: spec.kind, A.SPYGLASS_INTEGRATION: "trace"}
        if spec.kind == "RETRIEVER":
            attributes[A.GEN_AI_OPERATION_NAME] = "retrieval"
        self.span = pipeline.tracer.start_span(
            spec.name, context=parent_context(), attributes=attributes
        )
        self.handle = SpanHandle(self.span, pipeline.settings.capture_content, spec.kind)

    def activate(self) -> object:
        return otel_context.attach(otel_trace.set_span_in_context(self.span))

    def finish(self, exc: BaseException | None) -> None:
        if exc is not None and not isinstance(exc, GeneratorExit):
            record_error(self.span, exc)
        else:
            self.span.set_status(Status(StatusCode.OK))
        self.span.end()
        self.stack.close()


class _TraceSpec:
    """``spyglass.trace(...)``: usable once as a decorator, or as a (re-entrant) context manager."""

    def __init__(
        self,
        name: str | None,
        kind: str,
        session_id: str | None,
        user_id: str | None,
        tags: Iterable[str] | str,
        metadata: Mapping[str, object] | None,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ConfigurationError(f"trace name must be a non-empty string, got {name!r}")
        if not isinstance(kind, str) or kind.upper() not in A.KINDS:
            raise ConfigurationError(f"kind must be one of {', '.join(A.KINDS)}; got {kind!r}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ConfigurationError(f"metadata must be a mapping, got {type(metadata).__name__}")
        self.name = name or "trace"
        self.kind = kind.upper()
        self.session_id = session_id
        self.user_id = user_id
        self.tags = (tags,) if isinstance(tags, str) else tuple(tags)
        self.metadata = metadata
        self._entered: list[tuple[_Active | None, object]] = []

    # -- context manager ------------------------------------------------------------------------

    def start(self) -> tuple[_Active | None, object]:
        try:
            active = _Active(self)
            return active, active.activate()
        except Exception:
            warn("spyglass could not start span %r: %s", self.name, reason(), traceback=True)
            return None, None

    def __enter__(self) -> SpanHandle | None:
        entry = self.start()
        self._entered.append(entry)
        return entry[0].handle if entry[0] is not None else None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        active, token = self._entered.pop()
        finish(active, token, exc)

    async def __aenter__(self) -> SpanHandle | None:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator ------------------------------------------------------------------------------

    def __call__(self, fn: F) -> F:
        if self.name == "trace":
            self.name = str(getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "trace"))
        if inspect.isasyncgenfunction(fn):
            return cast(F, wrap_async_generator(self, fn))
        if inspect.isgeneratorfunction(fn):
            return cast(F, wrap_generator(self, fn))
        if inspect.iscoroutinefunction(fn):
            return cast(F, wrap_coroutine(self, fn))
        return cast(F, wrap_function(self, fn))


@overload
def trace(name: F) -> F: ...
@overload
def trace(
    name: str | None = None,
    *,
    kind: str = "CHAIN",
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Iterable[str] | str = (),
    metadata: Mapping[str, object] | None = None,
) -> _TraceSpec: ...
def trace(
    name: str | F | None = None,
    *,
    kind: str = "CHAIN",
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Iterable[str] | str = (),
    metadata: Mapping[str, object] | None = None,
) -> _TraceSpec | F:
    """A span around a block or a function: ``with spyglass.trace("ingest") as span:`` or
    ``@spyglass.trace`` / ``@spyglass.trace("name", kind="RETRIEVER")``.

    ``session_id``, ``user_id``, ``tags`` and ``metadata`` are inherited by every span created
    inside, whichever integration creates it.
    """
    if callable(name) and not isinstance(name, str):
        return _TraceSpec(None, kind, session_id, user_id, tags, metadata)(name)
    return _TraceSpec(name, kind, session_id, user_id, tags, metadata)
