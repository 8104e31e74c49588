"""OpenAI embeddings: ``embeddings.create`` as an EMBEDDING span.

The span has the model, how many inputs were embedded, the vectors' dimensions and the
usage; never the texts or the vectors, which are large and rarely worth a trace.
"""

from __future__ import annotations

from collections.abc import Mapping

from spyglass.integrations._sdk_extract import Pairs, get, sequence
from spyglass.tracer import attributes as A


def input_count(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    """One string, or one list of token ids, is one input; a list of them is that many."""
    given_input = kwargs.get("input")
    if isinstance(given_input, str):
        yield A.GEN_AI_EMBEDDINGS_INPUT_COUNT, 1
        return
    items = sequence(given_input)
    if items:
        single = all(isinstance(item, int) for item in items)
        yield A.GEN_AI_EMBEDDINGS_INPUT_COUNT, 1 if single else len(items)


def embeddings_result(result: object, capture: bool) -> Pairs:
    model = get(result, "model")
    if isinstance(model, str) and model:
        yield A.GEN_AI_RESPONSE_MODEL, model
    data = sequence(get(result, "data"))
    vector = get(data[0], "embedding") if data else None
    if isinstance(vector, (list, tuple)):
        yield A.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, len(vector)


def embeddings_usage(result: object, capture: bool) -> Pairs:
    tokens = get(get(result, "usage"), "prompt_tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool):
        yield A.GEN_AI_USAGE_INPUT_TOKENS, tokens
