"""The prompt registry: versioned prompts in the same SQLite file as the traces.

``PromptRegistry`` registers immutable, numbered versions of named templates (text or chat),
moves aliases, diffs versions (template, variables, model, parameters, and what the traces
linked to each version did), and imports / exports the registry as one JSON or YAML file.
``PromptVersion.format()`` renders a version and links the current trace to it;
``prompt_attributes(metadata)`` is the same link for integrations reading a framework
template's metadata.

Names resolve on first use, so the CLI can import ``spyglass.cli._prompts`` without loading
SQLite code or any framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "ImportResult",
    "PromptDiff",
    "PromptRegistry",
    "PromptVersion",
    "RunStats",
    "prompt_attributes",
]

if TYPE_CHECKING:
    from spyglass.prompts._diff import PromptDiff, RunStats
    from spyglass.prompts._link import prompt_attributes
    from spyglass.prompts._registry import ImportResult, PromptRegistry
    from spyglass.prompts._version import PromptVersion

_LAZY = {
    "ImportResult": "spyglass.prompts._registry",
    "PromptDiff": "spyglass.prompts._diff",
    "PromptRegistry": "spyglass.prompts._registry",
    "PromptVersion": "spyglass.prompts._version",
    "RunStats": "spyglass.prompts._diff",
    "prompt_attributes": "spyglass.prompts._link",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass.prompts' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
