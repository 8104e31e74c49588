"""Token usage of a model call: what the model reported, else an estimate marked as such.

LlamaIndex responses (``ChatResponse``, ``CompletionResponse``) carry the provider's raw
response in ``raw``: usage is ``raw.usage`` / ``raw["usage"]`` (OpenAI: prompt / completion
tokens; Anthropic: input / output tokens, cache excluded) or ``raw.usage_metadata`` (Gemini);
LlamaIndex's provider packages also copy the counts into ``additional_kwargs``. The GenAI
conventions count cached tokens as input, so Anthropic's cache reads and writes are added.

A model that reports nothing (LlamaIndex's MockLLM, many local models) gets an estimate from
LlamaIndex's own tokenizer (tiktoken, bundled, so it works offline), flagged
``spyglass.usage.estimated``. The tracker settles usage once per logical call, at its end;
the estimate itself (``call_estimate``: the texts and the tokenizer) is deferred to the
exporter's thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spyglass.integrations.llama_index._extract import Pairs, get_field, output_text
from spyglass.integrations.llama_index._messages import attr, text_of_messages
from spyglass.tracer import attributes as A


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _usage_source(response: object) -> object:
    """``raw.usage`` / ``raw["usage"]`` (OpenAI, Anthropic), ``raw.usage_metadata`` (Gemini)."""
    raw = attr(response, "raw")
    if raw is None:
        return None
    for key in ("usage", "usage_metadata"):
        usage = get_field(raw, key)
        if usage is not None:
            return usage
    return None


def usage_attributes(response: object) -> Pairs:
    """Token counts the model reported: the raw response's usage, else the counts LlamaIndex
    provider packages copy into ``additional_kwargs``. Input tokens include cached ones."""
    for source in (_usage_source(response), attr(response, "additional_kwargs")):
        if source is None or (type(source) is dict and not source):
            continue
        prompt = _int(get_field(source, "prompt_tokens"))
        completion = _int(get_field(source, "completion_tokens"))
        if prompt is None and completion is None:
            prompt = _int(get_field(source, "prompt_token_count"))
            completion = _int(get_field(source, "candidates_token_count"))
        cache_read = cache_write = None
        if prompt is None and completion is None:  # Anthropic: input excludes the cache
            prompt = _int(get_field(source, "input_tokens"))
            completion = _int(get_field(source, "output_tokens"))
            cache_read = _int(get_field(source, "cache_read_input_tokens"))
            cache_write = _int(get_field(source, "cache_creation_input_tokens"))
            if prompt is not None:
                prompt += (cache_read or 0) + (cache_write or 0)
        else:
            cache_read = _int(
                get_field(get_field(source, "prompt_tokens_details"), "cached_tokens")
            )
        if prompt is None and completion is None:
            continue
        yield A.GEN_AI_USAGE_INPUT_TOKENS, prompt
        yield A.GEN_AI_USAGE_OUTPUT_TOKENS, completion
        yield A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read
        yield A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, cache_write
        return


def response_attributes(response: object) -> Pairs:
    """Response id, model and finish reason from the provider's raw response, when present."""
    raw = attr(response, "raw")
    if raw is None:
        return
    response_id = get_field(raw, "id")
    if isinstance(response_id, str):
        yield A.GEN_AI_RESPONSE_ID, response_id
    model = get_field(raw, "model")
    if isinstance(model, str):
        yield A.GEN_AI_RESPONSE_MODEL, model
    reasons: list[str] = []
    choices = get_field(raw, "choices")
    for choice in choices if isinstance(choices, (list, tuple)) else ():
        reason = get_field(choice, "finish_reason")
        if isinstance(reason, str):
            reasons.append(reason)
    stop = get_field(raw, "stop_reason")
    if not reasons and isinstance(stop, str):
        reasons.append(stop)
    if reasons:
        yield A.GEN_AI_RESPONSE_FINISH_REASONS, tuple(reasons)


_tokenizer: Callable[[str], list[int]] | None = None

#: A run of newlines: prompts are counted line by line, each run of newlines as one token.
_NEWLINES = re.compile(r"\n+")
#: Token counts of lines seen before. RAG prompts repeat most of their lines from call to
#: call (the template, the retrieved chunks); only the question is new. Bounded by the
#: characters it holds, and cleared when full.
_LINE_COUNTS: dict[str, int] = {}
_MAX_CACHED_CHARS = 2_000_000
_MAX_LINE_CHARS = 16_384
_cached_chars = 0


def _get_tokenizer() -> Callable[[str], list[int]]:
    global _tokenizer
    if _tokenizer is None:
        from llama_index.core.utils import get_tokenizer

        tokenizer = get_tokenizer()
        # get_tokenizer() is partial(Encoding.encode, allowed_special="all"); counting needs
        # no special-token handling, and encode_ordinary skips that pass.
        bound = getattr(attr(tokenizer, "func"), "__self__", None)
        ordinary = attr(bound, "encode_ordinary")
        _tokenizer = ordinary if callable(ordinary) else tokenizer
    return _tokenizer


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` is, by LlamaIndex's own tokenizer (tiktoken, bundled:
    works offline). Counted per line with a cache of line counts, since tokenizing a whole
    prompt costs ~80 µs per 1,300 characters on every call; within a few percent of the
    whole-text count (a run of newlines counts as one token)."""
    global _cached_chars
    if not text:
        return 0
    tokenizer = _get_tokenizer()
    lines = _NEWLINES.split(text)
    total = len(lines) - 1
    counts = _LINE_COUNTS
    for line in lines:
        if not line:
            continue
        count = counts.get(line)
        if count is None:
            count = len(tokenizer(line))
            if len(line) <= _MAX_LINE_CHARS:
                if _cached_chars > _MAX_CACHED_CHARS:
                    counts.clear()
                    _cached_chars = 0
                counts[line] = count
                _cached_chars += len(line)
        total += count
    return total


def estimated_usage(input_text: str, output_text: str) -> Pairs:
    yield A.GEN_AI_USAGE_INPUT_TOKENS, estimate_tokens(input_text)
    yield A.GEN_AI_USAGE_OUTPUT_TOKENS, estimate_tokens(output_text)
    yield A.SPYGLASS_USAGE_ESTIMATED, True


def call_estimate(chat: bool, given: object, output: object) -> Pairs:
    """The estimated usage of a model call that reported none (see ``LLMState``): from its
    messages (``chat``) or prompt, and its answer; nothing when both are empty."""
    text_in = text_of_messages(given) if chat and isinstance(given, list) else str(given)
    text_out = (output_text(output) or "") if output is not None else ""
    if text_in or text_out:
        yield from estimated_usage(text_in, text_out)
