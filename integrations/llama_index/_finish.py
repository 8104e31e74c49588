"""What a span records when it ends, by role, and how a streaming result defers the end.

``end_attributes`` adds the output-side attributes to a record from the method's result
(events may have added some already: an LLM's messages and usage, a retriever's documents)
and returns an exception when the result reports a failure the method did not raise (a
``ToolOutput`` with ``is_error``). Token usage is settled here, once per logical model call:
the counts the model reported, else an estimate marked as such. The JSON of outputs and the
estimate are deferred (``Record.defer``); what decides whether they are recorded is not.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING

from spyglass.integrations.llama_index import _classify as C
from spyglass.integrations.llama_index import _extract as X
from spyglass.integrations.llama_index import _usage as U
from spyglass.integrations.llama_index._records import Record
from spyglass.integrations.llama_index._stream import AsyncStream, SyncStream
from spyglass.tracer import attributes as A
from spyglass.tracer._lite import snapshot

if TYPE_CHECKING:
    from spyglass.integrations.llama_index._tracker import Tracker

logger = logging.getLogger("spyglass")

#: Results whose answer is still being streamed when the method returns (a chat engine's
#: ``stream_chat``): their ``response`` is empty then, not the answer.
_NOT_YET_ANSWERED = frozenset({"StreamingAgentChatResponse"})


def end_attributes(record: Record, result: object) -> BaseException | None:
    role = record.role
    if role == C.LLM:
        _settle_llm(record, result)
    elif role == C.TOOL:
        if record.capture and result is not None:
            text = X.output_text(result)
            record.defer(X.tool_result, text if text is not None else snapshot(result))
        return X.tool_error(result)
    elif role == C.EMBEDDING:
        if record.embedded:
            record.attrs[A.GEN_AI_EMBEDDINGS_INPUT_COUNT] = record.embedded
    elif role == C.RETRIEVER or role == C.RERANKER:
        if not record.has_documents:
            docs = X.documents(result, record.capture)
            if docs is not None:
                record.defer(X.content_pairs, A.GEN_AI_RETRIEVAL_DOCUMENTS, docs)
    elif (
        record.capture and not record.has_output and type(result).__name__ not in _NOT_YET_ANSWERED
    ):
        text = X.output_text(result)
        if text is not None:
            record.defer(X.io_attributes, None, text)
    return None


def _settle_llm(record: Record, result: object) -> None:
    state = record.llm
    if state is None:
        return
    if state.output is None and isinstance(result, str):  # predict() with no End event
        state.output = result
        record.defer(X.output_messages, result, record.capture)
    if state.nested:
        record.attrs[A.SPYGLASS_USAGE_COUNTED_ELSEWHERE] = True
    if not state.reported_usage:
        record.defer(U.call_estimate, state.chat, state.input, state.output)


def defer_to_stream(tracker: Tracker, record: Record, result: object) -> bool:
    """Keep ``record`` open until the ``response_gen`` of ``result`` ends; False when there is
    nothing left to stream (the span then ends now)."""
    gen = getattr(result, "response_gen", None)
    if isinstance(gen, (SyncStream, AsyncStream)):
        gen.owners.append(record)  # an outer owner: the innermost one stays the parent
    elif inspect.isgenerator(gen):
        result.response_gen = SyncStream(tracker, gen, record)  # type: ignore[attr-defined]
    elif inspect.isasyncgen(gen):
        result.response_gen = AsyncStream(tracker, gen, record)  # type: ignore[attr-defined]
    else:
        return False
    record.deferred = True
    return True
