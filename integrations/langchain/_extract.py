"""Pure extractors: LangChain callback arguments → span attributes (responses: ``_response``).

Each extractor reads one concern (names and kinds, the model and request parameters, documents,
a tool call) and yields ``(key, value)`` pairs. The handler runs each through ``collect``, which
catches anything an odd object raises, so a surprising field costs one attribute, never the
span. Nothing here touches OpenTelemetry: these are plain functions of plain inputs, tested one
by one.

Content (messages, documents, arguments, results) is JSON text, as the GenAI conventions store
it; with ``capture=False`` only its structure is kept (see ``_messages``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.messages import ToolMessage
from opentelemetry.util.types import AttributeValue

from spyglass.integrations.langchain._messages import (
    document_dict,
    fast_json,
    message_dict,
    plain,
)
from spyglass.tracer import attributes as A
from spyglass.tracer._lite import collect
from spyglass.tracer._serialize import to_json

logger = logging.getLogger("spyglass")

Pairs = Iterator[tuple[str, AttributeValue | None]]
Attributes = dict[str, AttributeValue]

#: Message lists and document lists may be long; each string in them is capped by to_json's
#: walker, so the whole value can be allowed more room than one chain input gets.
CONTENT_MAX_CHARS = 1_000_000

#: invocation_params key → GenAI request attribute (first one present wins).
_PARAMETERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (A.GEN_AI_REQUEST_TEMPERATURE, ("temperature",)),
    (A.GEN_AI_REQUEST_TOP_P, ("top_p",)),
    (A.GEN_AI_REQUEST_TOP_K, ("top_k",)),
    (
        A.GEN_AI_REQUEST_MAX_TOKENS,
        (
            "max_tokens",
            "max_completion_tokens",
            "max_output_tokens",
            "max_new_tokens",
            "num_predict",
        ),
    ),
    (A.GEN_AI_REQUEST_SEED, ("seed", "random_seed")),
    (A.GEN_AI_REQUEST_FREQUENCY_PENALTY, ("frequency_penalty",)),
    (A.GEN_AI_REQUEST_PRESENCE_PENALTY, ("presence_penalty",)),
    (A.GEN_AI_REQUEST_CHOICE_COUNT, ("n", "candidate_count")),
)
#: LangChain's standard metadata (``ls_*``) for the same parameters, used when the invocation
#: parameters do not name them.
_LS_PARAMETERS = (
    (A.GEN_AI_REQUEST_TEMPERATURE, "ls_temperature"),
    (A.GEN_AI_REQUEST_MAX_TOKENS, "ls_max_tokens"),
    (A.GEN_AI_REQUEST_STOP_SEQUENCES, "ls_stop"),
)
_MODEL_KEYS = ("model", "model_name", "model_id", "deployment_name", "azure_deployment")
#: Not request parameters: the class tag, and tools (recorded as definitions instead).
_NOT_PARAMETERS = frozenset({"_type", "tools", "functions"})

_AGENT_INTEGRATION = "langchain_create_agent"
_AGENT_NAMES = frozenset({"AgentExecutor"})


def _number(value: object) -> int | float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def count(value: object) -> int | None:
    """An int token count, or None (bools and other types are not counts)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- naming and kinds -----------------------------------------------------------------------


def run_name(serialized: Mapping[str, object] | None, name: object, default: str) -> str:
    """LangChain's own name for a run: ``name=`` (run names, ``RunnableParallel<a,b>``), else
    the serialized name, else the last part of the serialized class path."""
    if isinstance(name, str) and name:
        return name
    if isinstance(serialized, Mapping):
        found = serialized.get("name")
        if isinstance(found, str) and found:
            return found
        path = serialized.get("id")
        if isinstance(path, Sequence) and path and isinstance(path[-1], str):
            return path[-1]
    return default


def in_agent_scope(metadata: Mapping[str, object] | None) -> bool:
    """Whether a run belongs to a ``langchain.agents.create_agent`` agent (its metadata says so,
    and LangChain passes metadata down to every run inside)."""
    if not metadata:
        return False
    return metadata.get("ls_integration") == _AGENT_INTEGRATION


def chain_kind(name: str, agent_scope: bool, parent_agent_scope: bool) -> str:
    """AGENT for the outermost run of an agent, else CHAIN."""
    if agent_scope and not parent_agent_scope:
        return "AGENT"
    return "AGENT" if name in _AGENT_NAMES else "CHAIN"


def agent_attributes(name: str, metadata: Mapping[str, object] | None) -> Pairs:
    """An agent's invocation: its name as given to ``create_agent(name=...)``, else the run's."""
    agent_name = (metadata or {}).get("lc_agent_name")
    yield A.GEN_AI_OPERATION_NAME, "invoke_agent"
    yield A.GEN_AI_AGENT_NAME, agent_name if isinstance(agent_name, str) else name


# --- model runs: request ----------------------------------------------------------------------


def model_attributes(
    serialized: Mapping[str, object] | None,
    params: Mapping[str, object] | None,
    metadata: Mapping[str, object] | None,
) -> Pairs:
    """Provider and requested model: ``ls_provider`` / ``ls_model_name`` metadata first (LangChain
    standardizes them), then the invocation parameters."""
    metadata = metadata or {}
    params = params or {}
    provider = metadata.get("ls_provider")
    if isinstance(provider, str):
        yield A.GEN_AI_PROVIDER_NAME, provider
    for model in (metadata.get("ls_model_name"), *(params.get(k) for k in _MODEL_KEYS)):
        if isinstance(model, str) and model:
            yield A.GEN_AI_REQUEST_MODEL, model
            return


def parameter_attributes(
    params: Mapping[str, object] | None, metadata: Mapping[str, object] | None
) -> Pairs:
    """Request parameters under their GenAI names, plus all of them as one JSON object."""
    params = params or {}
    metadata = metadata or {}
    seen: set[str] = set()
    for key, names in _PARAMETERS:
        for name in names:
            value = _number(params.get(name))
            if value is not None:
                seen.add(key)
                yield key, value
                break
    stop = params.get("stop") or params.get("stop_sequences")
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, (list, tuple)) and stop:
        seen.add(A.GEN_AI_REQUEST_STOP_SEQUENCES)
        yield A.GEN_AI_REQUEST_STOP_SEQUENCES, tuple(str(s) for s in stop)
    for key, ls_key in _LS_PARAMETERS:
        raw = metadata.get(ls_key)
        if key in seen or raw is None:
            continue
        if key == A.GEN_AI_REQUEST_STOP_SEQUENCES:
            if isinstance(raw, (list, tuple)) and raw:
                yield key, tuple(str(s) for s in raw)
        else:
            yield key, _number(raw)
    stream = params.get("stream", params.get("streaming"))
    if isinstance(stream, bool):
        yield A.GEN_AI_REQUEST_STREAM, stream
    every = {k: v for k, v in params.items() if k not in _NOT_PARAMETERS and v is not None}
    if every:
        yield A.GEN_AI_REQUEST_PARAMETERS, fast_json(every)


def tool_definitions(params: Mapping[str, object] | None) -> Pairs:
    """Tools bound to the model (``bind_tools``), as the provider was sent them."""
    tools = (params or {}).get("tools") or (params or {}).get("functions")
    if isinstance(tools, (list, tuple)) and tools:
        yield A.GEN_AI_TOOL_DEFINITIONS, fast_json(list(tools))


def input_messages(messages: Sequence[Sequence[object]], capture: bool) -> Pairs:
    """``on_chat_model_start`` messages (one list per prompt; LangChain sends one)."""
    converted = [message_dict(m, capture) for batch in messages for m in batch]
    yield A.GEN_AI_INPUT_MESSAGES, fast_json(converted, max_chars=CONTENT_MAX_CHARS)


def input_prompts(prompts: Sequence[str], capture: bool) -> Pairs:
    """``on_llm_start`` prompt strings of a text-completion model, as user messages."""
    converted = [
        {"role": "user", "parts": [{"type": "text", "content": p} if capture else {"type": "text"}]}
        for p in prompts
    ]
    yield A.GEN_AI_INPUT_MESSAGES, fast_json(converted, max_chars=CONTENT_MAX_CHARS)


# --- retrievers, tools, chains ----------------------------------------------------------------


def documents_attributes(documents: Iterable[object], capture: bool) -> Pairs:
    """Every retrieved document with its id and score (content and metadata if captured)."""
    docs = [document_dict(doc, capture) for doc in documents]
    yield A.GEN_AI_RETRIEVAL_DOCUMENTS, fast_json(docs, max_chars=CONTENT_MAX_CHARS)


def tool_start_attributes(
    serialized: Mapping[str, object] | None,
    input_str: object,
    inputs: object,
    tool_call_id: object,
    capture: bool,
) -> Pairs:
    """Tool name, the model's call id (when the tool was called with a ToolCall) and arguments."""
    name = (serialized or {}).get("name")
    if isinstance(name, str):
        yield A.GEN_AI_TOOL_NAME, name
    if tool_call_id is None and isinstance(inputs, Mapping):
        tool_call_id = inputs.get("tool_call_id")
    if isinstance(tool_call_id, str):
        yield A.GEN_AI_TOOL_CALL_ID, tool_call_id
    if capture:
        arguments = inputs if inputs is not None else input_str
        yield A.GEN_AI_TOOL_CALL_ARGUMENTS, io_json(arguments)


def tool_end_attributes(output: object, capture: bool, known_call_id: bool) -> Pairs:
    """The tool's result; a ``ToolMessage`` result also names the call it answers."""
    if isinstance(output, ToolMessage):
        if not known_call_id:
            yield A.GEN_AI_TOOL_CALL_ID, output.tool_call_id
        output = output.content
    if capture:
        yield A.GEN_AI_TOOL_CALL_RESULT, io_json(output)


def io_pairs(key: str, value: object) -> Pairs:
    """``key``: the JSON of a chain's input or output (deferred to the exporter's thread)."""
    yield key, io_json(value)


def model_request(
    serialized: Mapping[str, object] | None,
    params: Mapping[str, object] | None,
    metadata: Mapping[str, object] | None,
    inputs: Callable[[Any, bool], Pairs],
    prompt: Sequence[object],
    capture: bool,
) -> Pairs:
    """Everything a model run's start says: model and provider, parameters, tool definitions,
    the input messages or prompts. Each part fails alone."""
    out: Attributes = {}
    collect(out, model_attributes, serialized, params, metadata)
    collect(out, parameter_attributes, params, metadata)
    collect(out, tool_definitions, params)
    collect(out, inputs, prompt, capture)
    yield from out.items()


def io_json(value: object) -> str:
    """``spyglass.input`` / ``spyglass.output`` of a chain, prompt, parser or tool; never raises
    (a value that defeats the converters is serialized by the generic, safe walker)."""
    if type(value) is str:
        return fast_json(value)
    try:
        converted = plain(value)
    except Exception:
        return to_json(value)
    return fast_json(converted)
