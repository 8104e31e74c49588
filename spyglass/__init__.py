"""spyglass: local-first LLM tracing and prompt versioning.

``spyglass.autolog()`` traces every LangChain, LlamaIndex, OpenAI and Anthropic call of the
process as OpenTelemetry spans into one SQLite file; ``spyglass.Store`` reads it back.

Importing ``spyglass`` is cheap: names resolve on first use, so ``spyglass --help`` and
``import spyglass`` load neither the OTel SDK nor any framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "PromptRegistry",
    "Store",
    "__version__",
    "autolog",
    "evaluate",
    "flush",
    "score",
    "trace",
]

if TYPE_CHECKING:
    from spyglass._autolog import autolog, flush
    from spyglass._evaluate import evaluate
    from spyglass.prompts._registry import PromptRegistry
    from spyglass.tracer._scores import score
    from spyglass.tracer._store import Store
    from spyglass.tracer._trace import trace

_LAZY = {
    "autolog": ("spyglass._autolog", "autolog"),
    "flush": ("spyglass._autolog", "flush"),
    "trace": ("spyglass.tracer._trace", "trace"),
    "Store": ("spyglass.tracer._store", "Store"),
    "PromptRegistry": ("spyglass.prompts._registry", "PromptRegistry"),
    "evaluate": ("spyglass._evaluate", "evaluate"),
    "score": ("spyglass.tracer._scores", "score"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spyglass' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
