"""``SpyglassCallbackHandler``: one OTel span per LangChain run (spans themselves: ``_spans``).

Design, in the order the research notes demand:

* A plain synchronous handler with ``run_inline=True``: in async code LangChain then calls it on
  the event loop, in order, instead of hopping to an executor thread per event. (Being inline
  makes langchain-core's async LLM start skip the other handlers; ``_llm_start`` prevents that.)
* Parents come from ``parent_run_id`` through the shared ``RunTable``; a root run is parented to
  the OTel context current when it starts (a ``spyglass.trace`` block, or the user's own span).
  The context is never attached or detached here.
* The hot path is lean: the start attributes are computed once and handed to ``start_span``, the
  end attributes go in one ``set_attributes`` call. LangChain objects are converted by hand
  (``_messages``) rather than dumped; redaction and SQLite happen on the exporter's thread.
* It never raises into LangChain: every callback body catches and logs, and an extractor's failure
  costs one attribute (``spyglass.tracer._lite.collect``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from spyglass.integrations._nesting import enter_framework_llm
from spyglass.integrations.langchain import _extract as X
from spyglass.integrations.langchain._extract import Attributes
from spyglass.integrations.langchain._index import current_index_attributes
from spyglass.integrations.langchain._response import (
    estimated_usage,
    response_attributes,
    usage_attributes,
)
from spyglass.integrations.langchain._runs import Run
from spyglass.integrations.langchain._spans import RunSpans, callback_failed
from spyglass.prompts import prompt_attributes
from spyglass.tracer import attributes as A
from spyglass.tracer._lite import collect, snapshot

#: What ``Runnable.stream`` passes to ``on_chain_start`` before the input is known.
_PLACEHOLDER = {"input": ""}
_NO_OUTPUT = object()


class SpyglassCallbackHandler(RunSpans, BaseCallbackHandler):
    """Traces every LangChain run it sees into spyglass.

    ``SpyglassCallbackHandler()`` uses the active spyglass pipeline (the one ``autolog`` set up,
    or the default one built on first use) and its content setting; pass it as
    ``config={"callbacks": [handler]}``. Used together with ``autolog()``, each run is still
    recorded once. ``tracer=`` and ``capture_content=`` override the pipeline's.
    """

    run_inline = True
    raise_error = False

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    # -- chains, prompts, parsers, agents -----------------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: dict[str, Any] | Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            if not self._wanted(run_id):
                return
            tracer, capture = self._settings()
            name = X.run_name(serialized, kwargs.get("name"), "chain")
            parent = self._runs.get(parent_run_id)
            parent_scope = parent.agent_scope if parent is not None else False
            scope = parent_scope or X.in_agent_scope(metadata)
            kind = X.chain_kind(name, scope, parent_scope)
            attributes: Attributes = {}
            deferred = type(inputs) is dict and inputs == _PLACEHOLDER
            if kind == "AGENT":
                collect(attributes, X.agent_attributes, name, metadata)
            prompt = prompt_attributes(metadata) if metadata else None
            if prompt:
                attributes.update(prompt)
                if parent is not None:  # the model call that follows in the parent uses it
                    parent.prompt = prompt
            run = self._start(run_id, parent, name, kind, capture, attributes, tracer)
            if run is not None:
                run.agent_scope = scope
                run.deferred_input = deferred
                if capture and not deferred:
                    run.span.defer(X.io_pairs, A.SPYGLASS_INPUT, snapshot(inputs))
        except Exception as exc:
            callback_failed("on_chain_start", exc)

    def on_chain_end(self, outputs: dict[str, Any] | Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, lambda run: _chain_io(run, outputs, kwargs))
        except Exception as exc:
            callback_failed("on_chain_end", exc)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, lambda run: _chain_io(run, _NO_OUTPUT, kwargs), error)
        except Exception as exc:
            callback_failed("on_chain_error", exc)

    def on_agent_action(self, action: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            # Legacy AgentExecutor: the action names the executor's run, which is the agent.
            run = self._runs.get(run_id)
            if run is not None and run.owner is self and run.kind == "CHAIN":
                run.kind = "AGENT"
                run.span.set_attribute(A.SPYGLASS_KIND, "AGENT")
        except Exception as exc:
            callback_failed("on_agent_action", exc)

    # -- chat models and LLMs -----------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            if self._wanted(run_id):
                self._start_model(
                    serialized,
                    "chat",
                    X.input_messages,
                    messages,
                    run_id,
                    parent_run_id,
                    metadata,
                    kwargs,
                )
        except Exception as exc:
            callback_failed("on_chat_model_start", exc)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            if self._wanted(run_id):
                self._start_model(
                    serialized,
                    "text_completion",
                    X.input_prompts,
                    prompts,
                    run_id,
                    parent_run_id,
                    metadata,
                    kwargs,
                )
        except Exception as exc:
            callback_failed("on_llm_start", exc)

    def _start_model(
        self,
        serialized: Mapping[str, object] | None,
        operation: str,
        inputs: Callable[[Any, bool], X.Pairs],
        prompt: Sequence[object],
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: Mapping[str, object] | None,
        kwargs: Mapping[str, object],
    ) -> None:
        started = time.monotonic_ns()  # the request starts now, for the time to first chunk
        tracer, capture = self._settings()
        params = kwargs.get("invocation_params")
        params = params if isinstance(params, Mapping) else None
        attributes: Attributes = {A.GEN_AI_OPERATION_NAME: operation}
        name = X.run_name(serialized, kwargs.get("name"), operation)
        parent = self._runs.get(parent_run_id)
        if parent is not None and parent.prompt:  # rendered by a registered prompt just before
            attributes.update(parent.prompt)
        run = self._start(run_id, parent, name, "LLM", capture, attributes, tracer)
        if run is not None:
            run.started_ns = started
            enter_framework_llm(run.span)  # SDK spans made inside nest here and count once
            # The request, read on the exporter's thread: LangChain built these for this call.
            run.request = snapshot(prompt)
            run.span.defer(
                X.model_request, serialized, params, metadata, inputs, run.request, capture
            )

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._runs.get(run_id)
            if run is not None and not run.streamed and run.owner is self:
                run.streamed = True
                seconds = (time.monotonic_ns() - run.started_ns) / 1e9
                run.span.set_attribute(A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, seconds)
        except Exception as exc:
            callback_failed("on_llm_new_token", exc)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, lambda run: _model_output(run, response))
        except Exception as exc:
            callback_failed("on_llm_end", exc)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, None, error)
        except Exception as exc:
            callback_failed("on_llm_error", exc)

    # -- retrievers -----------------------------------------------------------------------------

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            if not self._wanted(run_id):
                return
            tracer, capture = self._settings()
            attributes: Attributes = {A.GEN_AI_OPERATION_NAME: "retrieval"}
            if capture and isinstance(query, str):
                attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] = query
            source = (metadata or {}).get("ls_vector_store_provider")
            if isinstance(source, str):
                attributes[A.GEN_AI_DATA_SOURCE_ID] = source
            index = current_index_attributes()  # which store answers (autolog's, ``_index``)
            if index:
                attributes.update(index)
            name = X.run_name(serialized, kwargs.get("name"), "retriever")
            parent = self._runs.get(parent_run_id)
            self._start(run_id, parent, name, "RETRIEVER", capture, attributes, tracer)
        except Exception as exc:
            callback_failed("on_retriever_start", exc)

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(
                run_id,
                lambda run: run.span.defer(X.documents_attributes, list(documents), run.capture),
            )
        except Exception as exc:
            callback_failed("on_retriever_end", exc)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, None, error)
        except Exception as exc:
            callback_failed("on_retriever_error", exc)

    # -- tools ----------------------------------------------------------------------------------

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            if not self._wanted(run_id):
                return
            tracer, capture = self._settings()
            attributes: Attributes = {A.GEN_AI_OPERATION_NAME: "execute_tool"}
            collect(
                attributes,
                X.tool_start_attributes,
                serialized,
                input_str,
                inputs,
                kwargs.get("tool_call_id"),
                capture,
            )
            name = X.run_name(serialized, kwargs.get("name"), "tool")
            attributes.setdefault(A.GEN_AI_TOOL_NAME, name)
            parent = self._runs.get(parent_run_id)
            run = self._start(run_id, parent, name, "TOOL", capture, attributes, tracer)
            if run is not None:
                run.tool_call_id = A.GEN_AI_TOOL_CALL_ID in attributes
        except Exception as exc:
            callback_failed("on_tool_start", exc)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(
                run_id,
                lambda run: run.span.defer(
                    X.tool_end_attributes, output, run.capture, run.tool_call_id
                ),
            )
        except Exception as exc:
            callback_failed("on_tool_end", exc)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, None, error)
        except Exception as exc:
            callback_failed("on_tool_error", exc)


def _chain_io(run: Run, outputs: object, kwargs: Mapping[str, object]) -> None:
    if not run.capture:
        return
    if run.deferred_input:
        # Streamed: the real input comes now; without it the placeholder was the real input.
        real = kwargs.get("inputs", _PLACEHOLDER)
        run.span.defer(X.io_pairs, A.SPYGLASS_INPUT, snapshot(real))
    if outputs is not _NO_OUTPUT:
        run.span.defer(X.io_pairs, A.SPYGLASS_OUTPUT, snapshot(outputs))


def _model_output(run: Run, response: object) -> None:
    run.span.defer(_response_pairs, response, run.capture, run.request)
    if run.streamed:
        run.span.set_attribute(A.GEN_AI_REQUEST_STREAM, True)


def _response_pairs(response: object, capture: bool, request: object) -> X.Pairs:
    """The output messages, finish reasons and usage of a finished model call; a call that
    reported no usage gets an estimate from ``request`` (its prompt) and the answer."""
    pairs: Attributes = {}
    collect(pairs, response_attributes, response, capture)
    collect(pairs, usage_attributes, response)
    if A.GEN_AI_USAGE_INPUT_TOKENS not in pairs and A.GEN_AI_USAGE_OUTPUT_TOKENS not in pairs:
        collect(pairs, estimated_usage, request, response)
    yield from pairs.items()
