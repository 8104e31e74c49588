"""Pure extractors: LlamaIndex arguments, results and event fields → span attributes.

Each extractor reads one concern (the model and its parameters, token usage, a registered
prompt, a tool call, the text going in or out) and yields ``(key, value)`` pairs. The tracker
runs each through ``collect``, which catches whatever an odd object raises, so a surprising
field costs one attribute, never the span. Nothing here touches OpenTelemetry or LlamaIndex
imports: plain functions of plain inputs, tested one by one.

The extractors that cost time in proportion to the content (``model_parameters``,
``input_messages``, ``output_messages``, ``content_pairs``, ``io_attributes``,
``tool_result``) are the ones the tracker defers to the exporter's thread; what they
read must then be what the call saw: a copy, an immutable value, or an object LlamaIndex is
done with. Nodes are the exception: rerankers and postprocessors change a node's score, text
and metadata in place after it was retrieved, so ``documents`` reads them at once into plain
dicts, and only their JSON is deferred.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Final

from spyglass.integrations.llama_index import _messages as M
from spyglass.integrations.llama_index._messages import attr
from spyglass.prompts import prompt_attributes as registry_prompt_attributes
from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import to_json, to_jsonable

logger = logging.getLogger("spyglass")

Pairs = Iterator[tuple[str, object]]

#: Message and document lists may be long; to_json caps each string inside, so the whole
#: value may take more room than one plain input.
CONTENT_MAX_CHARS: Final = 1_000_000
#: Streamed text kept for a span's output.
MAX_STREAM_CHARS: Final = 65_536

#: Template metadata keys a spyglass ``PromptVersion.to_llama_index()`` template carries.

#: Arguments that hold the text a span works on, in preference order.
_INPUT_ARGUMENTS: Final = (
    "str_or_query_bundle", "query_bundle", "query", "query_str", "message", "user_msg",
    "input", "prompt", "text", "start_event",
)  # fmt: skip
#: model_dict keys → GenAI request attributes (first present wins).
_PARAMETERS: Final = (
    (A.GEN_AI_REQUEST_TEMPERATURE, ("temperature",)),
    (A.GEN_AI_REQUEST_TOP_P, ("top_p",)),
    (A.GEN_AI_REQUEST_MAX_TOKENS,
     ("max_tokens", "max_new_tokens", "num_output", "max_output_tokens")),
    (A.GEN_AI_REQUEST_SEED, ("seed", "random_seed")),
    (A.GEN_AI_REQUEST_FREQUENCY_PENALTY, ("frequency_penalty",)),
    (A.GEN_AI_REQUEST_PRESENCE_PENALTY, ("presence_penalty",)),
)  # fmt: skip
_MODEL_KEYS: Final = ("model", "model_name", "model_id", "deployment_name", "engine")
#: LlamaIndex's placeholder when an LLM does not know its model.
_UNKNOWN_MODEL: Final = "unknown"
#: model_dict keys never recorded as parameters: credentials and framework plumbing.
_SECRET: Final = re.compile(r"key|secret|password|passwd|token$|auth|credential", re.IGNORECASE)
_NOT_PARAMETERS: Final = frozenset({"class_name", "system_prompt", "callback_manager"})


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=to_jsonable
)


def content_json(data: object, max_chars: int = CONTENT_MAX_CHARS) -> str:
    """JSON of content built here (messages, documents): plain dicts and lists whose strings
    are already capped, so the stdlib encoder can take it directly, ~5x faster than
    ``to_json``'s walker. Anything unusual inside (NaN, an odd key, a lone surrogate, too
    long) goes to ``to_json``, which handles it all."""
    try:
        text = _ENCODER.encode(data)
        if len(text) <= max_chars and (text.isascii() or _utf8(text)):
            return text
    except (TypeError, ValueError):
        pass
    return to_json(data, max_chars=max_chars)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _number(value: object) -> int | float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def get_field(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, Mapping) else attr(obj, key)


# --- text in, text out ------------------------------------------------------------------------


def query_text(value: object, depth: int = 0) -> str | None:
    """The text of a query: a string, a ``QueryBundle``, a ``ChatMessage``, or an agent's
    start event (its ``user_msg``)."""
    if isinstance(value, str):
        return value
    if value is None or depth > 1:
        return None
    for name in ("query_str", "content", "user_msg"):
        inner = attr(value, name)
        if inner is not None:
            return query_text(inner, depth + 1)
    return None


def input_text(arguments: Mapping[str, object]) -> str | None:
    """The text a span was asked about, from its bound arguments."""
    for name in _INPUT_ARGUMENTS:
        if name in arguments:
            text = query_text(arguments[name])
            if text is not None:
                return text
    keywords = arguments.get("kwargs")  # ``run(**kwargs)``: workflows and agents
    if isinstance(keywords, Mapping) and keywords is not arguments:
        return input_text(keywords)
    return None


def output_text(result: object, depth: int = 0) -> str | None:
    """The text a span produced: a string, or the answer inside a LlamaIndex response
    (``Response.response``, ``AgentChatResponse.response``, a ``ChatMessage``, a
    ``ChatResponse``, a ``CompletionResponse``, a ``ToolOutput``, a workflow ``StopEvent``)."""
    if isinstance(result, str):
        return result
    if result is None or depth > 3:
        return None
    for name in ("response", "message", "result"):
        inner = attr(result, name)
        if inner is not None and inner is not result:
            return output_text(inner, depth + 1)
    for name in ("content", "text"):
        value = attr(result, name)
        if isinstance(value, str):
            return value
    return None


def content_pairs(key: str, data: object) -> Pairs:
    """``key``: the JSON of content read already (documents)."""
    yield key, content_json(data)


def io_attributes(text_in: str | None, text_out: str | None) -> Pairs:
    if text_in is not None:
        yield A.SPYGLASS_INPUT, to_json(text_in)
    if text_out is not None:
        yield A.SPYGLASS_OUTPUT, to_json(text_out)


# --- the model --------------------------------------------------------------------------------


def model_name(model_dict: Mapping[str, object]) -> str | None:
    for key in _MODEL_KEYS:
        value = model_dict.get(key)
        if isinstance(value, str) and value and value != _UNKNOWN_MODEL:
            return value
    return None


def model_attributes(model_dict: object) -> Pairs:
    """Request model and parameters from an event's ``model_dict`` (the LLM's ``to_dict()``)."""
    yield from request_model(model_dict)
    yield from model_parameters(model_dict)


def request_model(model_dict: object) -> Pairs:
    """The model an event's ``model_dict`` names (an LLM's or an embedding model's)."""
    if type(model_dict) is dict or isinstance(model_dict, Mapping):
        yield A.GEN_AI_REQUEST_MODEL, model_name(model_dict)


def model_parameters(model_dict: object) -> Pairs:
    """Sampling parameters, and every other plain setting, from an LLM's ``model_dict``."""
    if not isinstance(model_dict, Mapping):
        return
    for attribute, keys in _PARAMETERS:
        for key in keys:
            value = _number(model_dict.get(key))
            if value is not None and value >= 0:  # MockLLM says num_output=-1 for "unbounded"
                yield attribute, value
                break
    params = {
        key: value
        for key, value in model_dict.items()
        if isinstance(value, (str, int, float, bool)) and isinstance(key, str) and _parameter(key)
    }
    if params:
        yield A.GEN_AI_REQUEST_PARAMETERS, content_json(params)


@functools.lru_cache(maxsize=1024)
def _parameter(key: str) -> bool:
    """Whether a model_dict key is a parameter worth recording (not a credential)."""
    return key not in _NOT_PARAMETERS and not _SECRET.search(key)


# --- prompts, tools, embeddings ---------------------------------------------------------------


def prompt_ref(template: object) -> tuple[str, str] | None:
    """``(name, version)`` of a registered prompt, from a LlamaIndex template's ``metadata``
    (``PromptVersion.to_llama_index()`` puts them there); None for any other object. The
    registry's own reader decides, so the metadata keys cannot drift apart."""
    attributes = registry_prompt_attributes(attr(template, "metadata"))  # type: ignore[arg-type]
    if not attributes:
        return None
    return attributes[A.GEN_AI_PROMPT_NAME], attributes[A.GEN_AI_PROMPT_VERSION]


def prompt_attributes(ref: tuple[str, str]) -> Pairs:
    yield A.GEN_AI_PROMPT_NAME, ref[0]
    yield A.GEN_AI_PROMPT_VERSION, ref[1]


def tool_name(instance: object) -> str | None:
    metadata = attr(instance, "metadata")
    name = attr(metadata, "name")
    return name if isinstance(name, str) else None


def tool_arguments(arguments: Mapping[str, object]) -> dict[str, object]:
    """A tool call's arguments: its keyword arguments, positional ones under ``args``."""
    out: dict[str, object] = {}
    positional = arguments.get("args")
    if isinstance(positional, tuple) and positional:
        out["args"] = list(positional)
    keywords = arguments.get("kwargs")
    if isinstance(keywords, Mapping):
        out.update({str(key): value for key, value in keywords.items()})
    for key, value in arguments.items():
        if key not in ("self", "args", "kwargs"):
            out[key] = value
    return out


def tool_start_attributes(
    instance: object, arguments: Mapping[str, object], capture: bool
) -> Pairs:
    yield A.GEN_AI_OPERATION_NAME, "execute_tool"
    yield A.GEN_AI_TOOL_NAME, tool_name(instance)
    if capture:
        yield A.GEN_AI_TOOL_CALL_ARGUMENTS, to_json(tool_arguments(arguments))


def tool_end_attributes(result: object, capture: bool) -> Pairs:
    if capture and result is not None:
        text = output_text(result)
        yield from tool_result(text if text is not None else result)


def tool_result(value: object) -> Pairs:
    """A tool's result: its text, else the value it returned."""
    yield A.GEN_AI_TOOL_CALL_RESULT, to_json(value)


def tool_error(result: object) -> BaseException | None:
    """The exception a tool caught and reported in its ``ToolOutput`` (``is_error``)."""
    if getattr(result, "is_error", False) is not True:
        return None
    exception = attr(result, "exception")
    if isinstance(exception, BaseException):
        return exception
    return RuntimeError(output_text(result) or "tool reported an error")


def documents(nodes: object, capture: bool) -> list[dict[str, object]] | None:
    """Every node of a node list with its id and score (content and metadata when captured),
    in rank order, read now; None when ``nodes`` is not a list or a node cannot be read."""
    if not isinstance(nodes, list):
        return None
    try:
        return M.nodes_list(nodes, capture)
    except Exception:
        logger.debug("spyglass: reading LlamaIndex nodes failed", exc_info=True)
        return None


def reranker_start_attributes(query: object, top_n: object, model: object, capture: bool) -> Pairs:
    """What a reranker was given, but its nodes (``documents``): the query, ``top_n``, the
    model."""
    text = query_text(query)
    if capture and text is not None:
        yield A.GEN_AI_RETRIEVAL_QUERY_TEXT, text
    if isinstance(top_n, int) and not isinstance(top_n, bool):
        yield A.GEN_AI_REQUEST_TOP_K, top_n
    if isinstance(model, str) and model and model != _UNKNOWN_MODEL:
        yield A.GEN_AI_REQUEST_MODEL, model


# --- messages in and out of a model call (deferred) ------------------------------------------


def input_messages(chat: bool, source: object, capture: bool) -> Pairs:
    """A model call's input: its chat messages (``chat``), else its prompt as one message."""
    if chat and isinstance(source, list):
        yield A.GEN_AI_INPUT_MESSAGES, content_json(M.messages_list(source, capture))
    else:
        yield A.GEN_AI_INPUT_MESSAGES, content_json(M.prompt_messages(source, capture))


def output_messages(output: object, capture: bool) -> Pairs:
    """A model call's answer: a response's message, or the string ``predict()`` returned."""
    if isinstance(output, str):
        part: M.Part = {"type": "text", "content": M.cap(output)} if capture else {"type": "text"}
        message: M.Message | None = {"role": "assistant", "parts": [part]}
    else:
        message = M.response_message(output, capture)
    if message is not None:
        yield A.GEN_AI_OUTPUT_MESSAGES, content_json([message])
