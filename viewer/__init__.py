"""The viewer: static rich views for the CLI, and ``make_app`` for the interactive textual one.

Names resolve on first use, so importing ``spyglass.viewer`` loads neither rich nor textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["SpyglassApp", "make_app"]

if TYPE_CHECKING:
    from spyglass.viewer._app import SpyglassApp, make_app

_LAZY = {"SpyglassApp": "spyglass.viewer._app", "make_app": "spyglass.viewer._app"}


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
