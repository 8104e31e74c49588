"""LlamaIndex instrumentation events → attributes of the span the event names.

Each event carries ``span_id``, the dispatcher span active when it was created (LLM events
capture it at call time, so a stream's End event still names its model call). Handlers are
looked up by the event's class name: nothing is imported, and a lookup is one dict access on
a path the dispatcher takes for every event.

Model calls fold several LlamaIndex calls into one span (``predict`` → ``complete``, and
``acomplete`` → ``complete``, which emits its Start and End events twice), so the first Start
event decides the input and the operation, and the last End event the output and the usage.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from spyglass.integrations.llama_index import _classify as C
from spyglass.integrations.llama_index import _extract as X
from spyglass.integrations.llama_index import _messages as M
from spyglass.integrations.llama_index import _usage as U
from spyglass.integrations.llama_index._records import Record
from spyglass.integrations.llama_index._tracker import Tracker
from spyglass.tracer import attributes as A
from spyglass.tracer._lite import collect
from spyglass.tracer._trace import record_error

Handler = Callable[[Tracker, Record, object], None]


def _llm_start(record: Record, event: object, operation: str) -> None:
    state = record.llm
    if state is None or state.started:
        return
    state.started = True
    attrs = record.attrs
    attrs[A.GEN_AI_OPERATION_NAME] = operation
    model_dict = getattr(event, "model_dict", None)
    if type(model_dict) is dict:  # the LLM's to_dict(), as the event holds it
        collect(attrs, X.request_model, model_dict)
        record.defer(X.model_parameters, model_dict.copy())
    else:
        collect(attrs, X.model_attributes, model_dict)
    if A.GEN_AI_REQUEST_MODEL not in attrs and A.GEN_AI_REQUEST_MODEL not in (
        getattr(record.span, "attributes", None) or {}
    ):
        _metadata_model(record)
    if operation == "chat":
        state.chat = True
        state.input = list(getattr(event, "messages", None) or ())
    else:
        state.input = getattr(event, "prompt", "")
    record.defer(X.input_messages, state.chat, state.input, record.capture)


def _metadata_model(record: Record) -> None:
    """The model name from the LLM's metadata, when its ``to_dict()`` does not say."""
    metadata = getattr(record.instance, "metadata", None)
    name = getattr(metadata, "model_name", None)
    if isinstance(name, str) and name and name != "unknown":
        record.attrs[A.GEN_AI_REQUEST_MODEL] = name


def on_chat_start(tracker: Tracker, record: Record, event: object) -> None:
    _llm_start(record, event, "chat")


def on_completion_start(tracker: Tracker, record: Record, event: object) -> None:
    _llm_start(record, event, "text_completion")


def on_llm_progress(tracker: Tracker, record: Record, event: object) -> None:
    state = record.llm
    if state is None or state.first_chunk:
        return
    state.first_chunk = True
    start = getattr(record.span, "start_time", None)
    if isinstance(start, int):
        record.attrs[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (time.time_ns() - start) / 1e9
    record.attrs[A.GEN_AI_REQUEST_STREAM] = True


def on_llm_end(tracker: Tracker, record: Record, event: object) -> None:
    state = record.llm
    response = getattr(event, "response", None)
    if state is None or response is None:
        return
    # ``acomplete`` → ``complete`` ends twice with the same response: record it once.
    if response is not state.output and M.has_answer(response):
        state.output = response
        record.defer(X.output_messages, response, record.capture)
    usage: dict[str, object] = {}
    collect(usage, U.usage_attributes, response)
    if usage:
        state.reported_usage = True
        record.attrs.update(usage)
    collect(record.attrs, U.response_attributes, response)
    if record.deferred:  # the stream it returned is done
        tracker.finish(record, None, None)


def on_predict_start(tracker: Tracker, record: Record, event: object) -> None:
    """A template rendered for the model: link a registered prompt to this call and to the
    spans above it whose component holds that template (the synthesizer's ``text_qa_template``)."""
    ref = X.prompt_ref(getattr(event, "template", None))
    if ref is None or record.prompt == ref:
        return
    record.prompt = ref
    collect(record.attrs, X.prompt_attributes, ref)
    for ancestor in record.ancestors():
        if ancestor.prompt != ref and _holds_prompt(ancestor.instance, ref):
            ancestor.prompt = ref
            collect(ancestor.attrs, X.prompt_attributes, ref)


def _holds_prompt(instance: object, ref: tuple[str, str]) -> bool:
    get_prompts = getattr(instance, "_get_prompts", None)  # PromptMixin: its own templates
    if not callable(get_prompts):
        return False
    try:
        prompts = get_prompts()
    except Exception:
        return False
    values = prompts.values() if isinstance(prompts, dict) else ()
    return any(X.prompt_ref(template) == ref for template in values)


def on_retrieval_start(tracker: Tracker, record: Record, event: object) -> None:
    if record.capture and A.GEN_AI_RETRIEVAL_QUERY_TEXT not in record.attrs:
        query = X.query_text(getattr(event, "str_or_query_bundle", None))
        if query is not None:
            record.attrs[A.GEN_AI_RETRIEVAL_QUERY_TEXT] = query


def on_retrieval_end(tracker: Tracker, record: Record, event: object) -> None:
    docs = X.documents(getattr(event, "nodes", None), record.capture)
    if docs is not None:
        record.has_documents = True
        record.defer(X.content_pairs, A.GEN_AI_RETRIEVAL_DOCUMENTS, docs)


def on_embedding_start(tracker: Tracker, record: Record, event: object) -> None:
    if A.GEN_AI_REQUEST_MODEL not in record.attrs:
        collect(record.attrs, X.request_model, getattr(event, "model_dict", None))


def on_embedding_end(tracker: Tracker, record: Record, event: object) -> None:
    chunks = getattr(event, "chunks", None)
    if isinstance(chunks, list):
        record.embedded += len(chunks)


def on_rerank_start(tracker: Tracker, record: Record, event: object) -> None:
    """A postprocessor that reranks: a RERANKER span with the nodes it was given."""
    record.role = C.RERANKER
    record.attrs[A.SPYGLASS_KIND] = "RERANKER"
    collect(
        record.attrs,
        X.reranker_start_attributes,
        getattr(event, "query", None),
        getattr(event, "top_n", None),
        getattr(event, "model_name", None),
        record.capture,
    )
    docs = X.documents(getattr(event, "nodes", None), record.capture)
    if docs is not None:
        record.defer(X.content_pairs, A.SPYGLASS_RERANKER_INPUT_DOCUMENTS, docs)


def on_exception(tracker: Tracker, record: Record, event: object) -> None:
    """An exception inside a stream: the model call it belongs to ends with it."""
    exception = getattr(event, "exception", None)
    if record.deferred and record.llm is not None and isinstance(exception, BaseException):
        tracker.finish(record, None, exception)


def on_stream_chat_error(tracker: Tracker, record: Record, event: object) -> None:
    exception = getattr(event, "exception", None)
    if isinstance(exception, BaseException):
        record_error(record.span, exception)


def on_workflow_output(tracker: Tracker, record: Record, event: object) -> None:
    """Workflows summarise a step's output in an event (an agent's answer is read from the
    run's result instead: the summary is the repr of a ``StopEvent``)."""
    if record.capture and record.role != C.AGENT:
        output = getattr(event, "output", None)
        text = X.output_text(output)
        record.has_output = True
        record.defer(X.io_attributes, None, text if text is not None else str(output))


HANDLERS: dict[str, Handler] = {
    "LLMChatStartEvent": on_chat_start,
    "LLMCompletionStartEvent": on_completion_start,
    "LLMChatInProgressEvent": on_llm_progress,
    "LLMCompletionInProgressEvent": on_llm_progress,
    "LLMChatEndEvent": on_llm_end,
    "LLMCompletionEndEvent": on_llm_end,
    "LLMPredictStartEvent": on_predict_start,
    "LLMStructuredPredictStartEvent": on_predict_start,
    "RetrievalStartEvent": on_retrieval_start,
    "RetrievalEndEvent": on_retrieval_end,
    "EmbeddingStartEvent": on_embedding_start,
    "SparseEmbeddingStartEvent": on_embedding_start,
    "EmbeddingEndEvent": on_embedding_end,
    "SparseEmbeddingEndEvent": on_embedding_end,
    "ReRankStartEvent": on_rerank_start,
    "ReRankEndEvent": on_retrieval_end,
    "ExceptionEvent": on_exception,
    "StreamChatErrorEvent": on_stream_chat_error,
    "WorkflowStepOutputEvent": on_workflow_output,
    "WorkflowRunOutputEvent": on_workflow_output,
}
