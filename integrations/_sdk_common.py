"""What the openai and anthropic integrations share: class-level patches and the span of one
SDK call, from request to response.

Patches. ``Instrumentation.wrap(owner, name, wrapper)`` replaces ``owner.<name>`` on the class
(so clients made before autolog are traced too) with a ``wrapt.FunctionWrapper`` and keeps the
function it found; ``uninstall()`` puts that exact function back. Installing again replaces a
stale spyglass patch rather than stacking a second one. If another library has patched on top
of ours meanwhile, its wrapper stays and ours turns into a pass-through.

One call. ``begin`` starts a CLIENT span, parented to the framework's LLM span when a LangChain
or LlamaIndex call is running (``_nesting``), with what the operation's request extractors read
from the keyword arguments. The wrapper runs the SDK method under ``use_span`` so HTTP-level
spans nest, then ``LLMCall.succeed`` records the response extractors and ends the span, or
``LLMCall.fail`` records the exception, which then propagates unchanged. Extractors are small
functions yielding ``(attribute, value)`` pairs, each run under its own guard: an odd field
loses one extractor's attributes, never the span, and nothing spyglass does raises into the
caller (failures go to the "spyglass" logger and the call proceeds).

Streams: ``LLMCall.succeed`` hands a streamed result to ``_sdk_streams``, whose proxy ends the
span when the stream ends. Results of ``with_raw_response`` calls are HTTP responses, read
through their ``parse()`` when it is synchronous (the SDK caches it, so the caller gets the same
object); a raw stream, a ``with_streaming_response`` body or an async ``parse()`` is not read
(that would consume the body, or need an ``await``), so those spans have the request only.
"""

from __future__ import annotations

import atexit
import contextvars
import inspect
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from spyglass.integrations._nesting import framework_llm_span, usage_counted_below
from spyglass.integrations._sdk_extract import Pairs
from spyglass.integrations._sdk_streams import (
    AsyncTracedStream,
    Recorder,
    StreamState,
    TracedStream,
    end_open_streams,
    register,
)
from spyglass.tracer import attributes as A
from spyglass.tracer._integration import IntegrationContext
from spyglass.tracer._lite import collect
from spyglass.tracer._trace import record_error

logger = logging.getLogger("spyglass")

RequestExtractor = Callable[[Mapping[str, object], bool], Pairs]
"""Reads the call's keyword arguments (and whether content is captured)."""
ResponseExtractor = Callable[[object, bool], Pairs]
"""Reads the SDK's result, or a stream's snapshot shaped like it."""
Wrapper = Callable[[Callable[..., object], object, tuple[object, ...], dict[str, object]], object]

#: The header Stainless SDKs add for ``with_raw_response`` ("true") and
#: ``with_streaming_response`` ("stream" / "raw") calls; their results are HTTP responses.
RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"

_USAGE_KEYS = frozenset({A.GEN_AI_USAGE_INPUT_TOKENS, A.GEN_AI_USAGE_OUTPUT_TOKENS})
_IN_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar("spyglass_in_sdk", default=False)
_SUPPRESS_KEY = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", "suppress_instrumentation")


@dataclass(frozen=True)
class Operation:
    """One kind of SDK call and how to read it."""

    integration: str
    provider: str
    operation: str
    kind: str
    request: tuple[RequestExtractor, ...]
    response: tuple[ResponseExtractor, ...]
    recorder: Callable[[Mapping[str, object], Mapping[str, object]], Recorder] | None = None
    """For streams: a recorder, given the caller's and the sent keyword arguments."""
    prepare: Callable[[dict[str, object]], dict[str, object]] | None = None
    """Rewrites the keyword arguments before the call (returns a new dict)."""
    always_streams: bool = False

    def streams(self, kwargs: Mapping[str, object]) -> bool:
        return self.always_streams or kwargs.get("stream") is True


class _Patch(wrapt.FunctionWrapper):
    """A spyglass patch, recognisable so that a second install replaces it."""


class Instrumentation:
    """One install of one SDK integration: its context, its patches and its on/off switch."""

    def __init__(self, integration: str, ctx: IntegrationContext) -> None:
        self.integration = integration
        self.ctx = ctx
        self.enabled = True
        self._patches: list[tuple[type, str, object, _Patch]] = []
        # Registered after autolog's provider registered its own shutdown, so (atexit runs
        # last-in first-out) streams still open at exit end before the final flush.
        atexit.register(self._end_streams)

    def _end_streams(self) -> None:
        end_open_streams(self.integration)

    def wrap(self, owner: type, name: str, wrapper: Wrapper) -> None:
        """Patch ``owner.name`` (a function defined on that class); log and skip if absent."""
        original = owner.__dict__.get(name)
        if original is None:
            logger.info("spyglass: %s.%s not found; not traced", owner.__qualname__, name)
            return
        if isinstance(original, _Patch):  # left by an install that was never undone
            original = original.__wrapped__
        patch = _Patch(original, wrapper)
        setattr(owner, name, patch)
        self._patches.append((owner, name, original, patch))

    def uninstall(self) -> None:
        """Restore every patched function and end this integration's open streams."""
        self.enabled = False
        for owner, name, original, patch in reversed(self._patches):
            if owner.__dict__.get(name) is patch:
                setattr(owner, name, original)
            else:
                logger.info("spyglass: %s.%s was patched again; left in place", owner, name)
        self._patches.clear()
        atexit.unregister(self._end_streams)
        self._end_streams()

    def begin(
        self, op: Operation, instance: object, kwargs: Mapping[str, object]
    ) -> LLMCall | None:
        """Start the span of one call, or None when it is not to be traced."""
        if not self.enabled or _IN_CALL.get() or otel_context.get_value(_SUPPRESS_KEY):
            return None
        try:
            sent = op.prepare(dict(kwargs)) if op.prepare is not None else kwargs
            model = kwargs.get("model")
            attributes: dict[str, AttributeValue] = {
                A.SPYGLASS_KIND: op.kind,
                A.SPYGLASS_INTEGRATION: op.integration,
                A.GEN_AI_OPERATION_NAME: op.operation,
                A.GEN_AI_PROVIDER_NAME: op.provider,
            }
            if isinstance(model, str):
                attributes[A.GEN_AI_REQUEST_MODEL] = model
            if op.kind == "LLM":
                attributes[A.GEN_AI_REQUEST_STREAM] = op.streams(kwargs)
            collect(attributes, server_attributes, instance)
            capture = self.ctx.capture_content
            for extract in op.request:
                collect(attributes, extract, sent, capture)
            parent = framework_llm_span()
            span = self.ctx.tracer.start_span(
                f"{op.operation} {model}" if isinstance(model, str) and model else op.operation,
                context=otel_trace.set_span_in_context(parent) if parent is not None else None,
                kind=SpanKind.CLIENT,
                attributes=attributes,
            )
            return LLMCall(op, span, parent, capture, kwargs, sent)
        except Exception:
            logger.warning("spyglass could not start a %s span", op.integration, exc_info=True)
            return None


def server_attributes(instance: object) -> Pairs:
    """``server.address`` / ``server.port`` from the client's ``base_url``."""
    url = getattr(getattr(instance, "_client", None), "base_url", None)
    host = getattr(url, "host", None)
    if not host:
        return
    yield A.SERVER_ADDRESS, str(host)
    port = getattr(url, "port", None) or {"https": 443, "http": 80}.get(getattr(url, "scheme", ""))
    if isinstance(port, int):
        yield A.SERVER_PORT, port


class LLMCall:
    """The span of one SDK call, from request to response (or to the end of its stream)."""

    __slots__ = ("caller_kwargs", "capture", "kwargs", "op", "parent", "span", "started")

    def __init__(
        self,
        op: Operation,
        span: Span,
        parent: Span | None,
        capture: bool,
        caller_kwargs: Mapping[str, object],
        kwargs: Mapping[str, object],
    ) -> None:
        self.op = op
        self.span = span
        self.parent = parent
        self.capture = capture
        self.caller_kwargs = caller_kwargs
        self.kwargs = kwargs
        """What is sent: the caller's keyword arguments, or ``op.prepare``'s rewrite of them."""
        self.started = time.monotonic()

    def record(self, source: object) -> None:
        """Set the response extractors' attributes, each extractor guarded."""
        counted = False
        for extract in self.op.response:
            try:
                for key, value in extract(source, self.capture):
                    self.span.set_attribute(key, value)
                    counted = counted or key in _USAGE_KEYS
            except Exception:
                logger.debug("spyglass extractor %s failed", extract.__name__, exc_info=True)
        if counted and self.parent is not None and self.parent.is_recording():
            usage_counted_below(self.parent)

    def succeed(self, result: object) -> object:
        """Record the result and end the span, or hand back a traced stream. Never raises."""
        try:
            mode = _raw_mode(self.kwargs)
            parse = getattr(result, "parse", None) if mode == "true" else None
            if self.op.streams(self.kwargs):
                if mode is None and (_is_stream(result) or _is_async_stream(result)):
                    return self.traced_stream(result)
            elif callable(parse) and not inspect.iscoroutinefunction(parse):
                self.record(parse())  # the SDK caches it: the caller gets the same object
            elif mode is None:
                self.record(result)
        except Exception:
            logger.warning(
                "spyglass could not record a %s result", self.op.integration, exc_info=True
            )
        self.end()
        return result

    @contextmanager
    def active(self) -> Iterator[None]:
        """Run the SDK request under the span (so HTTP-level spans nest) and mark this context
        as inside an SDK call (so an SDK method calling another is traced once)."""
        token = _IN_CALL.set(True)
        try:
            with otel_trace.use_span(
                self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
            ):
                yield
        finally:
            _IN_CALL.reset(token)

    def fail(self, exc: BaseException) -> None:
        """Record ``exc`` (status ERROR, ``error.type``, event) and end the span. Never raises:
        the caller re-raises ``exc`` itself."""
        try:
            record_error(self.span, exc)
            status = getattr(exc, "status_code", None)
            if isinstance(status, int):
                self.span.set_attribute(A.HTTP_RESPONSE_STATUS_CODE, status)
            self.span.end()
        except Exception:
            logger.warning("spyglass could not record an error", exc_info=True)

    def end(self) -> None:
        """Status OK and end the span, unless it has ended already. Never raises."""
        try:
            if self.span.is_recording():
                self.span.set_status(Status(StatusCode.OK))
                self.span.end()
        except Exception:
            logger.warning("spyglass could not end a span", exc_info=True)

    def traced_stream(self, stream: object) -> object:
        """Wrap a stream so the span ends with it (the stream itself if no recorder)."""
        if self.op.recorder is None:
            self.end()
            return stream
        state = StreamState(self, self.op.recorder(self.caller_kwargs, self.kwargs))
        proxy = (AsyncTracedStream if _is_async_stream(stream) else TracedStream)(stream, state)
        register(state, proxy)
        return proxy


def _raw_mode(kwargs: Mapping[str, object]) -> object:
    headers = kwargs.get("extra_headers")
    return headers.get(RAW_RESPONSE_HEADER) if isinstance(headers, Mapping) else None


def _is_stream(obj: object) -> bool:
    return hasattr(type(obj), "__next__")


def _is_async_stream(obj: object) -> bool:
    return hasattr(type(obj), "__anext__")


# -- wrappers ------------------------------------------------------------------------------------


def sync_call(inst: Instrumentation, op: Operation) -> Wrapper:
    """The wrapper of a sync SDK method."""

    def wrapper(
        wrapped: Callable[..., object],
        instance: object,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> object:
        call = inst.begin(op, instance, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            with call.active():
                result = wrapped(*args, **call.kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.succeed(result)

    return wrapper


def async_call(inst: Instrumentation, op: Operation) -> Wrapper:
    """The wrapper of an async SDK method (itself ``async def``)."""

    async def wrapper(
        wrapped: Callable[..., object],
        instance: object,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> object:
        call = inst.begin(op, instance, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)  # type: ignore[misc]
        try:
            with call.active():
                result = await wrapped(*args, **call.kwargs)  # type: ignore[misc]
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.succeed(result)

    return wrapper
