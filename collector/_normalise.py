"""One entry point that runs every convention's mapping over a received span's attributes.

Each convention module (``_openinference``, ``_genai``, ``_openllmetry``, ``_mlflow``) is a pure
function from a span's attributes (and events) to the canonical attributes they imply. They are
asked in that order and the first to name an attribute wins; an attribute the span already
has always wins, so a span that follows spyglass's names (ours, sent over OTLP) is stored as
sent. The original attributes are all kept beside the added ones.

A convention that fails on an odd span loses what it would have added, never the span.

The instrumentation scope names the framework a span came from; a LangChain or LlamaIndex
instrumentor's spans get ``spyglass.integration`` as spyglass's own would, so the store treats
their inner chain steps alike (their inputs and outputs, copies of what the model and retriever
spans hold, are not indexed for search a second time).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from spyglass.collector import _genai, _mlflow, _openinference, _openllmetry
from spyglass.tracer import attributes as A

logger = logging.getLogger("spyglass")

Convention = Callable[[Mapping[str, object], Sequence[_genai.EventLike]], dict[str, object]]

CONVENTIONS: Sequence[tuple[str, Convention]] = (
    ("openinference", _openinference.canonical),
    ("genai", _genai.canonical),
    ("openllmetry", _openllmetry.canonical),
    ("mlflow", _mlflow.canonical),
)


#: Instrumentation scope name fragment -> ``spyglass.integration``.
FRAMEWORK_SCOPES = (("langchain", "langchain"), ("llama_index", "llama_index"),
                    ("llama-index", "llama_index"), ("llamaindex", "llama_index"))  # fmt: skip


def normalise(
    attrs: Mapping[str, object], events: Sequence[_genai.EventLike] = (), scope: str = ""
) -> dict[str, object]:
    """``attrs`` plus the canonical attributes its conventions (and its scope) imply."""
    out = dict(attrs)
    if scope and A.SPYGLASS_INTEGRATION not in out:
        lowered = scope.lower()
        framework = next((name for part, name in FRAMEWORK_SCOPES if part in lowered), None)
        if framework:
            out[A.SPYGLASS_INTEGRATION] = framework
    for key in _genai.JSON_KEYS.intersection(out):
        out[key] = _genai.as_json_text(out[key])
    for name, convention in CONVENTIONS:
        try:
            additions = convention(attrs, events)
        except Exception:  # one odd span must not stop the receiver
            logger.debug("spyglass collect: the %s mapping failed on a span", name, exc_info=True)
            continue
        for key, value in additions.items():
            if value is not None and key not in out:
                out[key] = value
    return out
