"""What a span records when it ends, by role, and how a streaming result defers the end.

``end_attributes`` adds the output-side attributes to a record's ``attrs`` from the method's
result (events may have added some already: an LLM's messages and usage, a retriever's
documents) and returns an exception when the result reports a failure the method did not
raise (a ``ToolOutput`` with ``is_error``). Token usage is settled here, once per logical
model call: the counts the model reported, else an estimate marked as such.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING

from spyglass.integrations.llama_index import _classify as C
from spyglass.integrations.llama_index import _extract as X
from spyglass.integrations.llama_index import _messages as M
from spyglass.integrations.llama_index import _usage as U
from spyglass.integrations.llama_index._records import Record
from spyglass.integrations.llama_index._stream import AsyncStream, SyncStream
from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import to_json

if TYPE_CHECKING:
    from spyglass.integrations.llama_index._tracker import Tracker

logger = logging.getLogger("spyglass")

#: Results whose answer is still being streamed when the method returns (a chat engine's
#: ``stream_chat``): their ``response`` is empty then, not the answer.
_NOT_YET_ANSWERED = frozenset({"StreamingAgentChatResponse"})


def end_attributes(record: Record, result: object) -> BaseException | None:
    role = record.role
    attrs = record.attrs
    if role == C.LLM:
        _settle_llm(record, result)
    elif role == C.TOOL:
        X.collect(attrs, X.tool_end_attributes, result, record.capture)
        return X.tool_error(result)
    elif role == C.EMBEDDING:
        if record.embedded:
            attrs[A.GEN_AI_EMBEDDINGS_INPUT_COUNT] = record.embedded
    elif role in (C.RETRIEVER, C.RERANKER):
        if A.GEN_AI_RETRIEVAL_DOCUMENTS not in attrs and isinstance(result, list):
            X.collect(attrs, X.documents_attributes, result, record.capture)
    elif (
        record.capture
        and A.SPYGLASS_OUTPUT not in attrs
        and type(result).__name__ not in _NOT_YET_ANSWERED
    ):
        text = X.output_text(result)
        if text is not None:
            attrs[A.SPYGLASS_OUTPUT] = to_json(text)
    return None


def _settle_llm(record: Record, result: object) -> None:
    state = record.llm
    if state is None:
        return
    attrs = record.attrs
    if state.output_text is None and isinstance(result, str):  # predict() with no End event
        state.output_text = result
        message = {"role": "assistant", "parts": [{"type": "text", "content": M.cap(result)}]}
        if not record.capture:
            message["parts"] = [{"type": "text"}]
        attrs[A.GEN_AI_OUTPUT_MESSAGES] = X.content_json([message])
    if state.nested:
        attrs[A.SPYGLASS_USAGE_COUNTED_ELSEWHERE] = True
    if not state.reported_usage and (state.input_text or state.output_text):
        X.collect(attrs, U.estimated_usage, state.input_text, state.output_text or "")


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
