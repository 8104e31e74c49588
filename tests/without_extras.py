"""Run a script as if spyglass had been installed with one extra only, as the README's first
set-up command does (``pip install -e '.[langchain]'``).

    python tests/without_extras.py EXTRA SCRIPT [ARGS...]

The test environment has every extra installed, so a fresh venv is simulated instead: the
distributions that ``spyglass-trace[EXTRA]`` requires (followed through their own
requirements and extras, as pip resolves them) are allowed, and importing a top-level module
that only other installed distributions provide raises ``ModuleNotFoundError``, exactly as it
would where that distribution is missing. Then SCRIPT runs as ``python SCRIPT ARGS`` would.
"""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import re
import runpy
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required(distribution: str, extras: set[str]) -> set[str]:
    """Canonical names of ``distribution[extras]`` and everything it requires, installed."""
    seen: set[tuple[str, str]] = set()
    wanted = [(distribution, extra) for extra in {"", *extras}]
    names: set[str] = set()
    while wanted:
        name, extra = wanted.pop()
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: nothing of it can be imported either way
        names.add(_canonical(name))
        for line in requirements:
            requirement = Requirement(line)
            marker = requirement.marker
            if marker is not None and not marker.evaluate({"extra": extra}):
                continue
            target = _canonical(requirement.name)
            wanted.extend((target, e) for e in {"", *requirement.extras})
    return names


def blocked_modules(allowed: set[str]) -> set[str]:
    """Top-level modules that no allowed distribution provides."""
    return {
        module
        for module, distributions in importlib.metadata.packages_distributions().items()
        if not any(_canonical(d) in allowed for d in distributions)
    }


class _Missing(importlib.abc.MetaPathFinder):
    def __init__(self, modules: set[str]) -> None:
        self.modules = modules

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top in self.modules:
            raise ModuleNotFoundError(f"No module named {top!r}", name=top)
        return None


def main(argv: list[str]) -> None:
    extra, script, *args = argv
    allowed = required("spyglass-trace", {extra})
    sys.meta_path.insert(0, _Missing(blocked_modules(allowed)))
    sys.argv = [script, *args]
    sys.path[0] = str(Path(script).resolve().parent)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
