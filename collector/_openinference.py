"""OpenInference (Arize Phoenix's conventions) into spyglass's canonical attributes.

OpenInference marks every span with ``openinference.span.kind`` and flattens lists into
``llm.input_messages.<i>.message.role`` style keys; inputs and outputs are ``input.value`` /
``output.value`` with a mime type. The tables below say where each scalar goes; messages and
documents are gathered back from their flattened keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spyglass.collector._shapes import (
    Message,
    Part,
    content_parts,
    document,
    dumps,
    indexed,
    json_text,
    message,
    text_part,
    tool_call_part,
)
from spyglass.tracer import attributes as A

KIND = "openinference.span.kind"

#: OpenInference span kind -> spyglass kind (the rest: CHAIN).
_KINDS = {
    "LLM": "LLM",
    "CHAIN": "CHAIN",
    "RETRIEVER": "RETRIEVER",
    "RERANKER": "RERANKER",
    "TOOL": "TOOL",
    "EMBEDDING": "EMBEDDING",
    "AGENT": "AGENT",
}

#: spyglass kind -> ``gen_ai.operation.name``.
_OPERATIONS = {
    "LLM": "chat",
    "EMBEDDING": "embeddings",
    "RETRIEVER": "retrieval",
    "TOOL": "execute_tool",
    "AGENT": "invoke_agent",
}

#: OpenInference key -> canonical key; the first one present wins.
RENAMES: Sequence[tuple[str, str]] = (
    ("llm.response.model_name", A.GEN_AI_RESPONSE_MODEL),
    ("llm.request.model_name", A.GEN_AI_REQUEST_MODEL),
    ("llm.model_name", A.GEN_AI_REQUEST_MODEL),
    ("embedding.model_name", A.GEN_AI_REQUEST_MODEL),
    ("reranker.model_name", A.GEN_AI_REQUEST_MODEL),
    ("llm.provider", A.GEN_AI_PROVIDER_NAME),
    ("llm.system", A.GEN_AI_PROVIDER_NAME),
    ("llm.token_count.prompt", A.GEN_AI_USAGE_INPUT_TOKENS),
    ("llm.token_count.completion", A.GEN_AI_USAGE_OUTPUT_TOKENS),
    ("llm.token_count.prompt_details.cache_read", A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
    ("llm.token_count.prompt_details.cache_write", A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS),
    ("llm.token_count.completion_details.reasoning", A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    ("llm.invocation_parameters", A.GEN_AI_REQUEST_PARAMETERS),
    ("llm.prompt_template.version", A.GEN_AI_PROMPT_VERSION),
    ("session.id", A.GEN_AI_CONVERSATION_ID),
    ("user.id", A.SPYGLASS_USER_ID),
    ("metadata", A.SPYGLASS_METADATA),
    ("tag.tags", A.SPYGLASS_TAGS),
    ("tool.name", A.GEN_AI_TOOL_NAME),
    ("tool.id", A.GEN_AI_TOOL_CALL_ID),
    ("agent.name", A.GEN_AI_AGENT_NAME),
    ("reranker.query", A.GEN_AI_RETRIEVAL_QUERY_TEXT),
    ("reranker.top_k", A.GEN_AI_REQUEST_TOP_K),
)

#: Flattened document lists -> canonical key.
_DOCUMENTS = (
    ("retrieval.documents", A.GEN_AI_RETRIEVAL_DOCUMENTS),
    ("reranker.output_documents", A.GEN_AI_RETRIEVAL_DOCUMENTS),
    ("reranker.input_documents", A.SPYGLASS_RERANKER_INPUT_DOCUMENTS),
)


def canonical(attrs: Mapping[str, object], events: Sequence[object] = ()) -> dict[str, object]:
    """The canonical attributes an OpenInference span implies; empty for any other span."""
    kind_name = attrs.get(KIND)
    if not isinstance(kind_name, str):
        return {}
    kind = _KINDS.get(kind_name.upper(), "CHAIN")
    out: dict[str, object] = {A.SPYGLASS_KIND: kind}
    for source, target in RENAMES:
        if source in attrs and target not in out:
            out[target] = attrs[source]
    completions = any(key.startswith("llm.prompts.") for key in attrs)
    operation = "text_completion" if kind == "LLM" and completions else _OPERATIONS.get(kind)
    if operation:
        out[A.GEN_AI_OPERATION_NAME] = operation
    _inputs_and_outputs(attrs, kind, out)
    _messages(attrs, out)
    for prefix, target in _DOCUMENTS:
        docs = _documents(attrs, prefix)
        if docs and target not in out:
            out[target] = dumps(docs)
    return out


def _inputs_and_outputs(attrs: Mapping[str, object], kind: str, out: dict[str, object]) -> None:
    value, output = attrs.get("input.value"), attrs.get("output.value")
    if value is not None:
        out[A.SPYGLASS_INPUT] = json_text(value, attrs.get("input.mime_type"))
        if kind == "RETRIEVER" and isinstance(value, str):
            out.setdefault(A.GEN_AI_RETRIEVAL_QUERY_TEXT, value)
        if kind == "TOOL":
            out[A.GEN_AI_TOOL_CALL_ARGUMENTS] = out[A.SPYGLASS_INPUT]
    if output is not None:
        out[A.SPYGLASS_OUTPUT] = json_text(output, attrs.get("output.mime_type"))
        if kind == "TOOL":
            out[A.GEN_AI_TOOL_CALL_RESULT] = out[A.SPYGLASS_OUTPUT]


def _messages(attrs: Mapping[str, object], out: dict[str, object]) -> None:
    inputs = [_message(item) for item in indexed(attrs, "llm.input_messages")]
    inputs += [message("user", [text_part(p.get("prompt.text"))]) for p in _prompts(attrs)]
    outputs = [_message(item) for item in indexed(attrs, "llm.output_messages")]
    outputs += [
        message("assistant", [text_part(c.get("completion.text"))])
        for c in indexed(attrs, "llm.choices")
    ]
    if inputs:
        out[A.GEN_AI_INPUT_MESSAGES] = dumps(inputs)
    if outputs:
        out[A.GEN_AI_OUTPUT_MESSAGES] = dumps(outputs)


def _prompts(attrs: Mapping[str, object]) -> list[dict[str, object]]:
    return [p for p in indexed(attrs, "llm.prompts") if "prompt.text" in p]


def _message(item: Mapping[str, object]) -> Message:
    """One ``llm.*_messages.<i>`` entry: text, typed contents, tool calls, tool results."""
    role = item.get("message.role")
    content = item.get("message.content")
    parts: list[Part] = []
    call_id = item.get("message.tool_call_id")
    if role == "tool" and call_id is not None:
        parts.append({"type": "tool_call_response", "id": call_id, "response": content})
    else:
        parts.extend(content_parts(content))
    for piece in indexed(item, "message.contents"):
        kind = piece.get("message_content.type")
        if kind == "text":
            parts.append(text_part(piece.get("message_content.text")))
        elif kind == "image":
            parts.append({"type": "uri", "uri": piece.get("message_content.image.image.url")})
    for call in indexed(item, "message.tool_calls"):
        parts.append(
            tool_call_part(
                call.get("tool_call.id"),
                call.get("tool_call.function.name"),
                call.get("tool_call.function.arguments"),
            )
        )
    return message(role, parts, name=item.get("message.name"))


def _documents(attrs: Mapping[str, object], prefix: str) -> list[dict[str, object]]:
    return [
        document(
            item.get("document.content"),
            item.get("document.metadata"),
            item.get("document.id"),
            item.get("document.score"),
        )
        for item in indexed(attrs, prefix)
    ]
