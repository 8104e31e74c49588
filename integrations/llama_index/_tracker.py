"""The tracker: LlamaIndex span enter / exit / drop → OTel spans, on the caller's thread.

* **Parents.** A span parents to the open record of the dispatcher's ``parent_span_id``, else
  to the OTel context current at the call (a ``spyglass.trace`` block, the user's own span, or
  nothing: a new trace). Each recorded span is attached as the current OTel context while its
  method runs, so provider-SDK spans and user spans inside it nest; enter and exit run in the
  caller's frame, so the detach matches. A method that returns a Future exits in a callback, in
  another context: that detach fails, and the span it leaves current in the caller's context is
  remembered as *leaked*, so later roots there start from what was current before it.
* **Collapsing.** Plumbing spans (see ``_classify.is_plumbing``) become aliases of their parent.
* **Streams.** A query or synthesizer returning a ``StreamingResponse`` stays open: its
  ``response_gen`` is wrapped (``_stream``) and ends it, and any model call still streaming
  under it, when consumed, closed or garbage collected. An LLM method returning a live
  generator stays open until its End event (or the generator is collected).
* **Cheap.** Profiles are cached per class and method, attributes are gathered in a dict and
  set once at the end, and nothing is serialized that the span does not keep. JSON and token
  estimates are deferred to the exporter's thread (``Record.defer``; at start, the input of
  a chain and the nodes a reranker is given, ``LiteSpan.defer``).
"""

from __future__ import annotations

import inspect
import logging
import sys
import weakref
from collections.abc import Mapping
from types import FrameType

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context

from spyglass.integrations._nesting import enter_framework_llm
from spyglass.integrations.llama_index import _classify as C
from spyglass.integrations.llama_index import _extract as X
from spyglass.integrations.llama_index import _finish
from spyglass.integrations.llama_index._index import IndexProbe
from spyglass.integrations.llama_index._messages import attr
from spyglass.integrations.llama_index._records import LLMState, Record
from spyglass.tracer import attributes as A
from spyglass.tracer._lite import Extractor, LiteTracer, collect
from spyglass.tracer._trace import record_error

logger = logging.getLogger("spyglass")

INTEGRATION = "llama_index"
_STREAMING_RESULTS = frozenset({"StreamingResponse", "AsyncStreamingResponse"})
_OPERATIONS = {
    C.RETRIEVER: "retrieval",
    C.EMBEDDING: "embeddings",
    C.TOOL: "execute_tool",
    C.AGENT: "invoke_agent",
}
Deferred = tuple[Extractor, tuple[object, ...]]
"""An extractor and its arguments, for ``LiteSpan.defer``."""
#: How far up the call stack to look for a running stream's frame.
_MAX_STACK = 256
#: Leaked spans remembered (see the module docstring); old ones are forgotten first.
_MAX_LEAKS = 1024


class Tracker:
    """Open spans by dispatcher id, and what to do when LlamaIndex enters, exits or drops one."""

    def __init__(
        self, tracer: LiteTracer, capture: bool, indexes: IndexProbe | None = None
    ) -> None:
        self.tracer = tracer
        self.capture = capture
        self.indexes = indexes
        """Records which index answered a retrieval (autolog's; None: not recorded)."""
        self.enabled = True
        self.records: dict[str, Record] = {}
        self.deferred: set[Record] = set()
        self._leaks: dict[int, Context] = {}

    # -- enter -----------------------------------------------------------------------------------

    def enter(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: object,
        parent_id: str | None,
    ) -> None:
        parent = self.records.get(parent_id) if parent_id else None
        if self.deferred:
            streaming = self._streaming_parent()
            # Unless the dispatcher's parent is that call or below it (a span inside the stream).
            if streaming is not None and not (
                parent is not None and (parent is streaming or streaming in parent.ancestors())
            ):
                parent = streaming
        if parent is not None:
            # A component calling itself (``query`` → ``_query``), the most common plumbing,
            # is recognised without this span's profile; ``is_plumbing`` decides the rest.
            if (
                instance is parent.instance
                and instance is not None
                and parent.role in C.COMPONENT_ROLES
            ):
                self._alias(parent, id_)
                return
            profile = C.profile(instance, id_)
            if C.is_plumbing(
                parent.role, parent.instance, parent.profile.method,
                profile.role, instance, profile.method,
            ):  # fmt: skip
                self._alias(parent, id_)
                return
        else:
            profile = C.profile(instance, id_)
        before = otel_context.get_current()
        attributes, later = self._start_attributes(profile, bound_args, instance)
        if parent is not None:
            span = self.tracer.start_child(profile.name, parent.span, attributes)
        else:
            span = self.tracer.start_span(profile.name, self._root_context(before), attributes)
        if later is not None:  # on the span itself: kept even if uninstall ends it
            span.defer(later[0], *later[1])
        ctx = otel_trace.set_span_in_context(span, before)
        record = Record(id_, span, ctx, parent, instance, profile, self.capture, profile.role)
        if profile.role == C.LLM:
            self._enter_llm(record)
        record.before = before
        record.token = otel_context.attach(ctx)
        self.records[id_] = record

    def _alias(self, parent: Record, id_: str) -> None:
        """``id_`` is plumbing of ``parent``: its children and events go to the parent's span."""
        self.records[id_] = parent
        parent.aliases.append(id_)

    def _streaming_parent(self) -> Record | None:
        """The model call whose stream is producing right now, in this very call stack.

        LLM generators call their own methods lazily (``astream_complete`` runs
        ``stream_complete`` inside its async generator) after the span has exited, and
        whoever consumes the stream is what LlamaIndex then names as the parent. A span
        started inside the generator's frame belongs to that model call.
        """
        frames: dict[int, Record] = {}
        for record in tuple(self.deferred):  # a copy: other threads may change the set
            stream = record.stream() if record.stream is not None else None
            frame = getattr(stream, "gi_frame", None) or getattr(stream, "ag_frame", None)
            if frame is not None and _is_running(stream):
                frames[id(frame)] = record
        if not frames:
            return None
        caller: FrameType | None = sys._getframe(2)
        for _ in range(_MAX_STACK):
            if caller is None:
                break
            found = frames.get(id(caller))
            if found is not None:
                return found
            caller = caller.f_back
        return None

    def _root_context(self, current: Context) -> Context | None:
        """The current context, unless its span is one that leaked out of a Future's exit."""
        if self._leaks:
            span = otel_trace.get_current_span(current)
            leaked = self._leaks.get(span.get_span_context().span_id)
            if leaked is not None and not span.is_recording():
                return leaked
        return None

    def _start_attributes(
        self, profile: C.Profile, bound_args: inspect.BoundArguments, instance: object
    ) -> tuple[dict[str, object], Deferred | None]:
        """What a span knows when it starts: kind, model and provider; and what to defer (the
        input's JSON, a reranker's nodes)."""
        attributes: dict[str, object] = {
            A.SPYGLASS_KIND: profile.kind,
            A.SPYGLASS_INTEGRATION: INTEGRATION,
        }
        role = profile.role
        operation = _OPERATIONS.get(role)
        if operation is not None:
            attributes[A.GEN_AI_OPERATION_NAME] = operation
        arguments: Mapping[str, object] = bound_args.arguments
        capture = self.capture
        later: Deferred | None = None
        if role == C.LLM:
            attributes[A.GEN_AI_PROVIDER_NAME] = profile.provider
            model = attr(instance, "model")  # most LLMs have none: a pydantic miss is slow
            if isinstance(model, str) and model:
                attributes[A.GEN_AI_REQUEST_MODEL] = model
        elif role == C.RETRIEVER:
            text = X.input_text(arguments) if capture else None
            if text is not None:
                attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] = text
            index = self.indexes.attributes(instance) if self.indexes is not None else None
            if index:
                attributes.update(index)
        elif role == C.RERANKER:
            query = arguments.get("query_bundle") or arguments.get("query_str")
            top_n = getattr(instance, "top_n", None)
            collect(attributes, X.reranker_start_attributes, query, top_n, None, capture)
            docs = X.documents(arguments.get("nodes"), capture)
            if docs is not None:
                later = (X.content_pairs, (A.SPYGLASS_RERANKER_INPUT_DOCUMENTS, docs))
        elif role == C.TOOL:
            collect(attributes, X.tool_start_attributes, instance, arguments, capture)
        elif role != C.EMBEDDING:
            later = _chain_start(attributes, role, instance, arguments, capture)
        return attributes, later

    def _enter_llm(self, record: Record) -> None:
        record.llm = LLMState()
        enter_framework_llm(record.span)
        for ancestor in record.ancestors():
            if ancestor.llm is not None:  # an LLM calling another: the inner one counts
                ancestor.llm.nested = True
                break

    # -- exit and drop ---------------------------------------------------------------------------

    def exit(self, id_: str, result: object) -> None:
        record = self.records.get(id_)
        if record is None or record.id != id_:
            return  # not ours, or an alias: its parent's exit finishes the span
        self._detach(record)
        try:
            if self._defer(record, result):
                return
        except Exception:
            logger.debug("spyglass could not follow a LlamaIndex stream", exc_info=True)
        self.finish(record, result, None)

    def _defer(self, record: Record, result: object) -> bool:
        """Keep the span open when what it returned is still to be consumed."""
        if type(result).__name__ in _STREAMING_RESULTS:
            return _finish.defer_to_stream(self, record, result)
        if record.llm is not None and _is_live_stream(result):
            record.deferred = True
            record.stream = weakref.ref(result)
            self.deferred.add(record)
            _watch(self, record, result)
            return True
        return False

    def drop(self, id_: str, err: BaseException | None) -> None:
        record = self.records.get(id_)
        if record is None or record.id != id_:
            return
        self._detach(record)
        self.finish(record, None, err)

    def _detach(self, record: Record) -> None:
        token, record.token = record.token, None
        if token is None:
            return
        try:
            token.var.reset(token)
        except ValueError:  # exited in another context (a Future's callback): it leaked there
            self._remember_leak(record)

    def _remember_leak(self, record: Record) -> None:
        if record.before is None:
            return
        leaks = self._leaks
        try:
            leaks[record.span.get_span_context().span_id] = record.before
            while len(leaks) > _MAX_LEAKS:
                leaks.pop(next(iter(leaks)), None)
        except (RuntimeError, StopIteration):  # another thread changed it meanwhile
            pass

    def finish(self, record: Record, result: object, err: BaseException | None) -> None:
        """End the span: output attributes, status, and forget its ids (once)."""
        if record.ended:  # e.g. a stream finishing after uninstall ended everything
            return
        record.ended = True
        records = self.records
        records.pop(record.id, None)
        for alias in record.aliases:
            records.pop(alias, None)
        self.deferred.discard(record)
        span = record.span
        ok = False
        try:
            failure = None if err is None or _is_normal_stop(err) else err
            if err is None:
                failure = _finish.end_attributes(record, result)
            if failure is not None:
                record_error(span, failure)
            else:
                ok = True
            if record.attrs:
                span.set_attributes(record.attrs)
            if record.later is not None:
                for extractor, args in record.later:
                    span.defer(extractor, *args)
        finally:  # whatever failed above, the span is not left open
            if ok:
                span.end_ok()
            else:
                span.end()

    def finish_streaming_below(self, owners: list[Record], err: BaseException | None) -> None:
        """End model calls still streaming under ``owners`` (their stream was closed)."""
        for record in list(self.deferred):
            if any(ancestor in owners for ancestor in record.ancestors()):
                self.finish(record, None, err)

    def close(self) -> None:
        """Uninstall: record nothing more, and end every span still open."""
        self.enabled = False
        seen: set[int] = set()
        for record in list(self.records.values()):
            if id(record) not in seen and not record.ended:
                seen.add(id(record))
                record.ended = True
                record.span.end()
        self.records.clear()
        self.deferred.clear()


def _chain_start(
    attributes: dict[str, object],
    role: str,
    instance: object,
    arguments: Mapping[str, object],
    capture: bool,
) -> Deferred | None:
    """Engines, synthesizers, agents, workflow steps: the agent's name; the input text (its
    JSON deferred)."""
    if role == C.AGENT:
        name = getattr(instance, "name", None)
        if isinstance(name, str):
            attributes[A.GEN_AI_AGENT_NAME] = name
    text = X.input_text(arguments) if capture else None
    if text is None:
        return None
    return X.io_attributes, (text, None)


def _is_live_stream(result: object) -> bool:
    if inspect.isgenerator(result):
        return result.gi_frame is not None
    if inspect.isasyncgen(result):
        return result.ag_frame is not None
    return False


def _is_running(stream: object) -> bool:
    return bool(getattr(stream, "gi_running", False) or getattr(stream, "ag_running", False))


def _is_normal_stop(err: BaseException) -> bool:
    """A closed generator, or a workflow finishing by its own protocol, is not a failure."""
    return isinstance(err, GeneratorExit) or type(err).__name__ == "WorkflowDone"


def _watch(tracker: Tracker, record: Record, stream: object) -> None:
    """End a streaming model call whose generator is dropped unconsumed (no End event comes)."""
    ref = weakref.ref(tracker)

    def abandoned() -> None:
        owner = ref()
        if owner is not None and record.deferred and record in owner.deferred:
            owner.finish(record, None, None)

    try:
        finalizer = weakref.finalize(stream, abandoned)
    except TypeError:  # not weak-referenceable: the End event or uninstall ends it
        return
    finalizer.atexit = False  # at exit the pipeline is gone; uninstall has ended the span
