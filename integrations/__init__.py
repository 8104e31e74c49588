"""Integrations autolog can attach: each watches a library and installs when it is imported.

Nothing here imports a framework. ``spyglass.integrations.<name>`` modules do, and are imported
only once the program has imported the framework itself.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INTEGRATIONS", "Integration"]


@dataclass(frozen=True)
class Integration:
    """How to find a library and the spyglass module that instruments it."""

    name: str
    library: str
    """Top-level module whose import triggers the install (also what must be importable)."""
    implementation: str
    """spyglass module exposing ``install(ctx) -> uninstall``."""


INTEGRATIONS: dict[str, Integration] = {
    integration.name: integration
    for integration in (
        Integration("langchain", "langchain_core", "spyglass.integrations.langchain"),
        Integration("llama_index", "llama_index.core", "spyglass.integrations.llama_index"),
        Integration("openai", "openai", "spyglass.integrations.openai"),
        Integration("anthropic", "anthropic", "spyglass.integrations.anthropic"),
    )
}
