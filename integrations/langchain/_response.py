"""Pure extractors for a model run's response: output messages, finish reasons, the answering
model, and token usage (``usage_metadata`` first, else the provider's ``llm_output`` usage,
else an estimate from the prompt and the answer, marked as one).

Same contract as ``_extract``: each function yields ``(key, value)`` pairs and is run through
``spyglass.tracer._lite.collect``, so an odd response loses only that extractor's attributes.
"""

from __future__ import annotations

from collections.abc import Mapping

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, Generation, LLMResult

from spyglass.integrations._estimate import estimate_tokens
from spyglass.integrations.langchain._extract import CONTENT_MAX_CHARS, Pairs, count
from spyglass.integrations.langchain._messages import fast_json, message_dict, tool_calls_of
from spyglass.tracer import attributes as A


def _generations(response: LLMResult) -> list[Generation]:
    return [g for batch in response.generations for g in batch]


def _message(generation: Generation) -> BaseMessage | None:
    return generation.message if isinstance(generation, ChatGeneration) else None


def _finish_reason(generation: Generation, message: BaseMessage | None) -> str | None:
    info = generation.generation_info
    if isinstance(info, Mapping):
        reason = info.get("finish_reason") or info.get("stop_reason")
        if isinstance(reason, str):
            return reason
    if message is not None:
        reason = message.response_metadata.get("finish_reason")
        reason = reason or message.response_metadata.get("stop_reason")
        if isinstance(reason, str):
            return reason
    return None


def _output_message(generation: Generation, capture: bool) -> tuple[dict[str, object], str | None]:
    message = _message(generation)
    reason = _finish_reason(generation, message)
    if message is not None:
        out = message_dict(message, capture)
    else:
        text = generation.text
        part = {"type": "text", "content": text} if capture else {"type": "text"}
        out = {"role": "assistant", "parts": [part] if text else []}
    out["finish_reason"] = reason or ("tool_call" if tool_calls_of(message) else "stop")
    return out, reason


def response_attributes(response: LLMResult, capture: bool) -> Pairs:
    """Output messages with their finish reasons, the answering model and the response id."""
    messages: list[dict[str, object]] = []
    reasons: list[str] = []
    model: object = None
    response_id: object = None
    for generation in _generations(response):
        out, reason = _output_message(generation, capture)
        messages.append(out)
        if reason is not None:
            reasons.append(reason)
        message = _message(generation)
        if message is not None:
            metadata = message.response_metadata
            model = model or metadata.get("model_name") or metadata.get("model")
            response_id = response_id or metadata.get("id") or _provider_id(message)
    yield A.GEN_AI_OUTPUT_MESSAGES, fast_json(messages, max_chars=CONTENT_MAX_CHARS)
    if reasons:
        yield A.GEN_AI_RESPONSE_FINISH_REASONS, tuple(reasons)
    llm_output = response.llm_output
    if not model and isinstance(llm_output, Mapping):
        model = llm_output.get("model_name") or llm_output.get("model")
    if isinstance(model, str):
        yield A.GEN_AI_RESPONSE_MODEL, model
    if isinstance(response_id, str):
        yield A.GEN_AI_RESPONSE_ID, response_id


def _provider_id(message: BaseMessage) -> str | None:
    """The message id when the provider set it (LangChain's own ids start with ``lc_``)."""
    message_id = message.id
    if isinstance(message_id, str) and not message_id.startswith("lc_"):
        return message_id
    return None


def _usage_metadata(response: LLMResult) -> Mapping[str, object] | None:
    for generation in _generations(response):
        message = _message(generation)
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        if usage:
            return usage
    return None


def usage_attributes(response: LLMResult) -> Pairs:
    """Token counts: the message's ``usage_metadata``, else ``llm_output`` token usage."""
    usage = _usage_metadata(response)
    if usage is not None:
        yield from _standard_usage(usage)
        return
    llm_output = response.llm_output
    if isinstance(llm_output, Mapping):
        raw = llm_output.get("token_usage") or llm_output.get("usage")
        if isinstance(raw, Mapping):
            yield from _provider_usage(raw)
        elif raw is not None:  # a provider object (e.g. openai's CompletionUsage)
            dump = getattr(raw, "model_dump", None)
            if callable(dump):
                yield from _provider_usage(dump())


def _standard_usage(usage: Mapping[str, object]) -> Pairs:
    """LangChain's ``UsageMetadata``: input includes cached tokens, output reasoning ones."""
    yield A.GEN_AI_USAGE_INPUT_TOKENS, count(usage.get("input_tokens"))
    yield A.GEN_AI_USAGE_OUTPUT_TOKENS, count(usage.get("output_tokens"))
    inputs = usage.get("input_token_details")
    if isinstance(inputs, Mapping):
        yield A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, count(inputs.get("cache_read"))
        yield A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, count(inputs.get("cache_creation"))
    outputs = usage.get("output_token_details")
    if isinstance(outputs, Mapping):
        yield A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, count(outputs.get("reasoning"))


def _provider_usage(raw: Mapping[str, object]) -> Pairs:
    """A provider's raw usage: OpenAI (``prompt_tokens``…) or Anthropic (``input_tokens``,
    which excludes cache reads and writes, so they are added back)."""
    cache_read = count(raw.get("cache_read_input_tokens"))
    cache_write = count(raw.get("cache_creation_input_tokens"))
    prompt = count(raw.get("prompt_tokens"))
    if prompt is None:
        prompt = count(raw.get("input_tokens"))
        if prompt is not None:
            prompt += (cache_read or 0) + (cache_write or 0)
    yield A.GEN_AI_USAGE_INPUT_TOKENS, prompt
    completion = count(raw.get("completion_tokens"))
    yield (
        A.GEN_AI_USAGE_OUTPUT_TOKENS,
        (completion if completion is not None else count(raw.get("output_tokens"))),
    )
    details = raw.get("prompt_tokens_details") or raw.get("input_tokens_details")
    if isinstance(details, Mapping) and cache_read is None:
        cache_read = count(details.get("cached_tokens"))
    yield A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read
    yield A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, cache_write
    details = raw.get("completion_tokens_details") or raw.get("output_tokens_details")
    if isinstance(details, Mapping):
        yield A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, count(details.get("reasoning_tokens"))


def _part_texts(message: dict[str, object], out: list[str]) -> None:
    """The text a converted message carries: contents, tool calls and tool answers (not
    images or other blocks, which providers count their own way)."""
    parts = message.get("parts")
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        for key in ("content", "response", "name"):
            value = part.get(key)
            if isinstance(value, str):
                out.append(value)
        arguments = part.get("arguments")
        if arguments is not None:
            out.append(arguments if isinstance(arguments, str) else fast_json(arguments))


def _request_text(request: object) -> str:
    """The prompt of a model call: chat messages (one list per prompt) or prompt strings."""
    texts: list[str] = []
    for item in request if isinstance(request, list) else ():
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, list):
            for message in item:
                _part_texts(message_dict(message, True), texts)
    return "\n".join(texts)


def _response_text(response: LLMResult) -> str:
    texts: list[str] = []
    for generation in _generations(response):
        message = _message(generation)
        if message is not None:
            _part_texts(message_dict(message, True), texts)
        elif generation.text:
            texts.append(generation.text)
    return "\n".join(texts)


def estimated_usage(request: object, response: LLMResult) -> Pairs:
    """Token counts of a call that reported none (``FakeListChatModel``, many local models):
    estimated from the prompt and the answer, and marked as estimated."""
    text_in, text_out = _request_text(request), _response_text(response)
    if text_in or text_out:
        yield A.GEN_AI_USAGE_INPUT_TOKENS, estimate_tokens(text_in)
        yield A.GEN_AI_USAGE_OUTPUT_TOKENS, estimate_tokens(text_out)
        yield A.SPYGLASS_USAGE_ESTIMATED, True
