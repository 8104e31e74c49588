"""MLflow tracing's span attributes into spyglass's canonical attributes.

MLflow writes every attribute as JSON text, strings included (``mlflow.spanType`` is
``"\\"RETRIEVER\\""``); a span's inputs and outputs are whole JSON documents
(``mlflow.spanInputs`` / ``mlflow.spanOutputs``), so messages, documents and the query are
read out of them: OpenAI's chat shapes for chat models, LangChain-style documents for
retrievers. Token counts are one JSON object (``mlflow.chat.tokenUsage``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spyglass.collector._shapes import (
    Message,
    Part,
    content_parts,
    dumps,
    json_text,
    langchain_documents,
    loads,
    message,
    tool_call_part,
)
from spyglass.tracer import attributes as A

SPAN_TYPE = "mlflow.spanType"

#: ``mlflow.spanType`` -> spyglass kind (the rest: CHAIN).
_KINDS = {
    "LLM": "LLM",
    "CHAT_MODEL": "LLM",
    "RETRIEVER": "RETRIEVER",
    "RERANKER": "RERANKER",
    "TOOL": "TOOL",
    "EMBEDDING": "EMBEDDING",
    "AGENT": "AGENT",
}

#: MLflow key -> canonical key (values decoded from JSON first).
RENAMES = (
    ("mlflow.llm.model", A.GEN_AI_REQUEST_MODEL),
    ("mlflow.llm.provider", A.GEN_AI_PROVIDER_NAME),
)

#: ``mlflow.chat.tokenUsage`` field -> canonical key.
_USAGE = (
    ("input_tokens", A.GEN_AI_USAGE_INPUT_TOKENS),
    ("output_tokens", A.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("cache_read_input_tokens", A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
)


def _decoded(value: object) -> object:
    parsed = loads(value)
    return value if parsed is None else parsed


def canonical(attrs: Mapping[str, object], events: Sequence[object] = ()) -> dict[str, object]:
    """What an MLflow span implies; empty for any other span."""
    span_type = _decoded(attrs.get(SPAN_TYPE))
    if not isinstance(span_type, str):
        return {}
    kind = _KINDS.get(span_type.upper(), "CHAIN")
    out: dict[str, object] = {A.SPYGLASS_KIND: kind}
    for source, target in RENAMES:
        if source in attrs:
            out[target] = _decoded(attrs[source])
    usage = _decoded(attrs.get("mlflow.chat.tokenUsage"))
    if isinstance(usage, Mapping):
        for source, target in _USAGE:
            if isinstance(usage.get(source), int):
                out[target] = usage[source]
    raw_in, raw_out = attrs.get("mlflow.spanInputs"), attrs.get("mlflow.spanOutputs")
    if raw_in is not None:
        out[A.SPYGLASS_INPUT] = json_text(raw_in)
    if raw_out is not None:
        out[A.SPYGLASS_OUTPUT] = json_text(raw_out)
    inputs, outputs = _decoded(raw_in), _decoded(raw_out)
    if kind == "LLM":
        _chat(inputs, outputs, out)
    elif kind in ("RETRIEVER", "RERANKER"):
        _retrieval(inputs, outputs, out)
    elif kind == "TOOL":
        out[A.GEN_AI_TOOL_CALL_ARGUMENTS] = out.get(A.SPYGLASS_INPUT)
        out[A.GEN_AI_TOOL_CALL_RESULT] = out.get(A.SPYGLASS_OUTPUT)
    return out


def _chat(inputs: object, outputs: object, out: dict[str, object]) -> None:
    if isinstance(inputs, Mapping):
        out.setdefault(A.GEN_AI_REQUEST_MODEL, inputs.get("model"))
        items = inputs.get("messages")
        if isinstance(items, list):
            out[A.GEN_AI_INPUT_MESSAGES] = dumps([_message(m) for m in items if _is_map(m)])
    if isinstance(outputs, Mapping):
        if isinstance(outputs.get("model"), str):
            out[A.GEN_AI_RESPONSE_MODEL] = outputs["model"]
        choices = outputs.get("choices")
        if isinstance(choices, list):
            messages = [
                _message(choice["message"], finish_reason=choice.get("finish_reason"))
                for choice in choices
                if _is_map(choice) and _is_map(choice.get("message"))
            ]
            out[A.GEN_AI_OUTPUT_MESSAGES] = dumps(messages)


def _is_map(value: object) -> bool:
    return isinstance(value, Mapping)


def _message(item: Mapping[str, object], **extra: object) -> Message:
    """One OpenAI-style chat message: content, tool calls, a tool result."""
    role = item.get("role")
    parts: list[Part] = []
    if role == "tool" and item.get("tool_call_id") is not None:
        parts.append(
            {
                "type": "tool_call_response",
                "id": item["tool_call_id"],
                "response": item.get("content"),
            }
        )
    else:
        parts.extend(content_parts(item.get("content")))
    calls = item.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") if _is_map(call) else None
        if isinstance(function, Mapping):
            parts.append(
                tool_call_part(call.get("id"), function.get("name"), function.get("arguments"))
            )
    return message(role, parts, **extra)


def _retrieval(inputs: object, outputs: object, out: dict[str, object]) -> None:
    if isinstance(inputs, Mapping):
        query = inputs.get("query") or next(
            (value for value in inputs.values() if isinstance(value, str)), None
        )
        if isinstance(query, str):
            out[A.GEN_AI_RETRIEVAL_QUERY_TEXT] = query
    docs = langchain_documents(outputs)
    if docs:
        out[A.GEN_AI_RETRIEVAL_DOCUMENTS] = dumps(docs)
