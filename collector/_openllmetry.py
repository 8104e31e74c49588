"""OpenLLMetry (Traceloop) conventions into spyglass's canonical attributes.

Current OpenLLMetry writes the GenAI names for model calls (``_genai`` handles those) and its
own for the rest: ``traceloop.span.kind`` (workflow, task, agent, tool), the step's input and
output as JSON text in ``traceloop.entity.input`` / ``.output``, association properties (the
session), and its own operation names (``vector_db_retrieve``). Older versions flattened the
messages: ``gen_ai.prompt.<i>.role`` / ``.content``, ``gen_ai.completion.<i>.*`` with tool calls
under ``.tool_calls.<k>.*``; those are gathered back here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spyglass.collector._shapes import (
    Message,
    Part,
    content_parts,
    dumps,
    indexed,
    json_text,
    langchain_documents,
    loads,
    message,
    tool_call_part,
)
from spyglass.tracer import attributes as A

#: ``traceloop.span.kind`` -> spyglass kind.
_SPAN_KINDS = {"workflow": "CHAIN", "task": "CHAIN", "agent": "AGENT", "tool": "TOOL"}

#: OpenLLMetry's own operation names and request types -> spyglass kind.
_OPERATION_KINDS = {"vector_db_retrieve": "RETRIEVER", "execute_task": "CHAIN"}
_REQUEST_TYPES = {"chat": "LLM", "completion": "LLM", "embedding": "EMBEDDING"}

#: OpenLLMetry key -> canonical key.
RENAMES = (
    ("traceloop.association.properties.session_id", A.GEN_AI_CONVERSATION_ID),
    ("traceloop.association.properties.user_id", A.SPYGLASS_USER_ID),
    ("traceloop.prompt.key", A.GEN_AI_PROMPT_NAME),
    ("traceloop.prompt.version", A.GEN_AI_PROMPT_VERSION),
    ("traceloop.entity.name", A.GEN_AI_TOOL_NAME),  # kept only on TOOL spans, see below
    ("gen_ai.usage.cache_read_input_tokens", A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
)

_MARKERS = ("traceloop.", "gen_ai.prompt.0.", "gen_ai.completion.0.", "llm.request.type")


def _is_openllmetry(attrs: Mapping[str, object]) -> bool:
    return any(key.startswith(_MARKERS) for key in attrs)


def _kind(attrs: Mapping[str, object]) -> str | None:
    operation = attrs.get(A.GEN_AI_OPERATION_NAME)
    if isinstance(operation, str) and operation in _OPERATION_KINDS:
        return _OPERATION_KINDS[operation]
    span_kind = attrs.get("traceloop.span.kind")
    if isinstance(span_kind, str) and span_kind in _SPAN_KINDS:
        return _SPAN_KINDS[span_kind]
    request_type = attrs.get("llm.request.type")
    return _REQUEST_TYPES.get(request_type) if isinstance(request_type, str) else None


def canonical(attrs: Mapping[str, object], events: Sequence[object] = ()) -> dict[str, object]:
    """What an OpenLLMetry span implies; empty for any other span."""
    if not _is_openllmetry(attrs):
        return {}
    out: dict[str, object] = {}
    kind = _kind(attrs)
    if kind:
        out[A.SPYGLASS_KIND] = kind
    for source, target in RENAMES:
        if source in attrs and target not in out:
            if target == A.GEN_AI_TOOL_NAME and kind != "TOOL":
                continue
            out[target] = attrs[source]
    entity_input, entity_output = (
        attrs.get("traceloop.entity.input"),
        attrs.get("traceloop.entity.output"),
    )
    if entity_input is not None:
        out[A.SPYGLASS_INPUT] = json_text(entity_input)
    if entity_output is not None:
        out[A.SPYGLASS_OUTPUT] = json_text(entity_output)
    if kind == "RETRIEVER":
        _retrieval(loads(entity_input), loads(entity_output), out)
    inputs = [_message(item) for item in indexed(attrs, "gen_ai.prompt")]
    outputs = [_message(item) for item in indexed(attrs, "gen_ai.completion")]
    if inputs:
        out[A.GEN_AI_INPUT_MESSAGES] = dumps(inputs)
    if outputs:
        out[A.GEN_AI_OUTPUT_MESSAGES] = dumps(outputs)
    return out


def _retrieval(entity_input: object, entity_output: object, out: dict[str, object]) -> None:
    if isinstance(entity_input, dict) and isinstance(entity_input.get("query"), str):
        out[A.GEN_AI_RETRIEVAL_QUERY_TEXT] = entity_input["query"]
    docs = langchain_documents(entity_output)
    if docs:
        out[A.GEN_AI_RETRIEVAL_DOCUMENTS] = dumps(docs)


def _message(item: Mapping[str, object]) -> Message:
    """One ``gen_ai.prompt.<i>`` / ``gen_ai.completion.<i>`` entry of older OpenLLMetry."""
    role = item.get("role")
    parts: list[Part] = []
    call_id = item.get("tool_call_id")
    if role == "tool" and call_id is not None:
        parts.append({"type": "tool_call_response", "id": call_id, "response": item.get("content")})
    else:
        parts.extend(content_parts(item.get("content")))
    for call in indexed(item, "tool_calls"):
        parts.append(tool_call_part(call.get("id"), call.get("name"), call.get("arguments")))
    return message(role, parts, finish_reason=item.get("finish_reason"))
