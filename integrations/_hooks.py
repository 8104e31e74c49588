"""Post-import hooks: run a callback once a module has been imported, without importing it.

autolog must not import a framework the program has not imported itself (importing
llama_index.core alone takes seconds). A finder placed first on ``sys.meta_path`` notices the
import of a watched module, lets the real finders locate it, and wraps the loader so the
callback runs right after the module's code has executed. Removing the finder undoes it all.
"""

from __future__ import annotations

import functools
import importlib.machinery
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

logger = logging.getLogger("spyglass")

Callback = Callable[[ModuleType], None]


@functools.cache
def _hooked_loader_class() -> type[Any]:
    """The loader wrapper, built on first use: ``importlib.abc`` (and the ``importlib.resources``
    it imports) then loads when a watched library is imported, which costs far more anyway,
    not in ``autolog()``."""
    import importlib.abc

    class HookedLoader(importlib.abc.Loader):
        def __init__(self, inner: importlib.abc.Loader, on_loaded: Callback) -> None:
            self._inner = inner
            self._on_loaded = on_loaded

        def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
            return self._inner.create_module(spec)

        def exec_module(self, module: ModuleType) -> None:
            self._inner.exec_module(module)
            self._on_loaded(module)

        def __getattr__(self, name: str) -> object:  # e.g. get_resource_reader, is_package
            return getattr(self._inner, name)

    return HookedLoader


class PostImportFinder:
    """Calls ``callback(module)`` after ``name`` is imported; at once if it already is.

    A meta path finder by protocol (``find_spec``), not by subclassing ``importlib.abc``.
    """

    def invalidate_caches(self) -> None:
        """Nothing cached (``importlib.invalidate_caches`` calls this on every finder)."""

    def __init__(self) -> None:
        self._watched: dict[str, list[Callback]] = {}
        self._lock = threading.RLock()
        self._busy = threading.local()

    def watch(self, name: str, callback: Callback) -> None:
        module = sys.modules.get(name)
        if module is not None:
            callback(module)
            return
        with self._lock:
            self._watched.setdefault(name, []).append(callback)
            if self not in sys.meta_path:
                sys.meta_path.insert(0, self)

    def remove(self) -> None:
        """Forget every watch and leave ``sys.meta_path`` as it was."""
        with self._lock:
            self._watched.clear()
            if self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._watched or getattr(self._busy, "name", None) == fullname:
            return None
        self._busy.name = fullname
        try:
            spec = None
            for finder in list(sys.meta_path):
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._busy.name = None
        if spec is None or spec.loader is None:
            return None
        spec.loader = _hooked_loader_class()(spec.loader, self._fire)
        return spec

    def _fire(self, module: ModuleType) -> None:
        with self._lock:
            callbacks = self._watched.pop(module.__name__, [])
            if not self._watched and self in sys.meta_path:
                sys.meta_path.remove(self)
        for callback in callbacks:
            try:
                callback(module)
            except Exception:
                logger.warning("spyglass could not attach to %s", module.__name__, exc_info=True)
