"""The layers import one way, and no part reaches into another's private names.

The order (a part imports only parts to its right)::

    spyglass (facade, CLI) → viewer → evaluation → prompts → tracer → errors
    integrations → prompts (its package API: the prompt link), tracer, errors
    collector → tracer, errors

Every ``import`` counts, at module level or inside a function or ``if TYPE_CHECKING`` block: a
lazy import hides a cycle, it does not remove it. Modules are found through pyproject's
``package-dir`` mapping, so a new folder is checked as soon as it is mapped (and
``tests/test_packaging.py`` fails while it is not).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

#: Which parts each part may import (the facade, ``spyglass`` and ``spyglass.cli``, any).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "tracer": {"errors"},
    "prompts": {"errors", "tracer"},
    "evaluation": {"errors", "tracer", "prompts"},
    "viewer": {"errors", "tracer", "prompts", "evaluation"},
    "integrations": {"errors", "tracer", "prompts"},
    "collector": {"errors", "tracer"},
}
#: Where a part is narrower than its layer: integrations use only the prompts package's API.
ONLY_THROUGH = {("integrations", "prompts"): {"spyglass.prompts"}}


def part_of(module: str) -> str:
    """The part a ``spyglass.*`` module belongs to: its subpackage, else the facade."""
    if module == "spyglass.errors":
        return "errors"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ALLOWED:
        return parts[1]
    return "facade"


def _mapping() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return dict(config["tool"]["setuptools"]["package-dir"])


def source_modules() -> dict[str, Path]:
    """Every installed module's name and file, through the package-dir mapping."""
    found: dict[str, Path] = {}
    for package, folder in _mapping().items():
        for path in sorted((ROOT / folder).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[name] = path
    return found


MODULES = source_modules()


@dataclass(frozen=True)
class Import:
    module: str
    """The ``spyglass`` module imported (for ``from m import n``: ``m.n`` when that is one)."""
    name: str | None
    """The name taken from it (``from m import name``), None for ``import m``."""
    line: int


def _absolute(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].stem == "__init__" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> Iterator[Import]:
    """Every ``spyglass`` import in the module, wherever it is."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "spyglass":
                    yield Import(alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            if source.split(".")[0] != "spyglass":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                target = submodule if submodule in MODULES else source
                yield Import(target, alias.name, node.lineno)


def test_every_part_is_found() -> None:
    parts = {part_of(name) for name in MODULES}
    assert {"errors", "tracer", "prompts", "evaluation", "viewer", "integrations"} <= parts
    assert "facade" in parts and len(MODULES) > 100


def test_the_rules_catch_a_wrong_way_import() -> None:
    """The checks below are not vacuous: these imports break them."""
    assert part_of("spyglass.viewer._static") not in ALLOWED["tracer"]
    assert part_of("spyglass.evaluation._run") not in ALLOWED["prompts"]
    assert part_of("spyglass._autolog") == "facade" and "facade" not in ALLOWED["evaluation"]
    assert part_of("spyglass.cli._common") == "facade"
    assert part_of("spyglass.collector") == "collector"


def _wrong_way(module: str) -> list[str]:
    own = part_of(module)
    if own == "facade":
        return []
    problems = []
    for found in imports_of(module):
        other = part_of(found.module)
        if other == own or (found.module, found.name) == ("spyglass", "__version__"):
            continue  # the root package is every part's parent: its version is fair game
        gate = ONLY_THROUGH.get((own, other))
        if other not in ALLOWED[own] or (gate is not None and found.module not in gate):
            problems.append(f"{module}:{found.line} imports {found.module} ({own} → {other})")
    return problems


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_each_part_imports_only_the_parts_below_it(part: str) -> None:
    problems = sorted({p for m in MODULES if part_of(m) == part for p in _wrong_way(m)})
    assert not problems, "\n".join(problems)


def _private(name: str | None) -> bool:
    return name is not None and name.startswith("_") and not name.startswith("__")


def test_no_part_imports_another_parts_private_names() -> None:
    """``from spyglass.tracer._db import open_for_read`` is fine (a public name of the module);
    ``from spyglass.tracer._db import _translate`` or ``from spyglass.tracer import _runtime``
    from outside the tracer is not: a private name has users only in its own part."""
    problems = [
        f"{module}:{found.line} imports {found.name} from {found.module}"
        for module in sorted(MODULES)
        for found in imports_of(module)
        if _private(found.name) and part_of(found.module) != part_of(module)
    ]
    assert not problems, "\n".join(problems)


def test_examples_import_only_public_names() -> None:
    problems = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                if name.startswith("spyglass.") and any(_private(p) for p in name.split(".")):
                    problems.append(f"{path.name}:{node.lineno} imports {name}")
    assert not problems, "\n".join(problems)
