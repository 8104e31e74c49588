"""The viewer: rich renderings for the CLI, and ``make_app`` for the interactive textual one.

Every rich rendering of spyglass lives here: traces, search hits and stats (``_static``),
prompts and their diffs (``_prompts``), evaluation runs, comparisons and scores (``_eval``);
the textual app is built from ``_app`` and one module per screen or widget. The viewer reads
through the tracer, the prompt registry and evaluation's records; nothing below it imports it.

Names resolve on first use, so importing ``spyglass.viewer`` itself loads neither rich nor
textual; ``make_app`` loads textual, the renderings rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["SpyglassApp", "comparison_view", "diff_view", "make_app", "run_view"]

if TYPE_CHECKING:
    from spyglass.viewer._app import SpyglassApp, make_app
    from spyglass.viewer._eval import run_view
    from spyglass.viewer._eval_compare import comparison_view
    from spyglass.viewer._prompts import diff_view

_LAZY = {
    "SpyglassApp": "spyglass.viewer._app",
    "comparison_view": "spyglass.viewer._eval_compare",
    "diff_view": "spyglass.viewer._prompts",
    "make_app": "spyglass.viewer._app",
    "run_view": "spyglass.viewer._eval",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass.viewer' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
