"""YAML that cannot blow up: PyYAML's safe loading with aliases, nodes and nesting bounded.

A YAML alias (``*a``) repeats the node its anchor (``&a``) names without copying it, so a file
of a few hundred bytes can describe a document of billions of nodes ("billion laughs"): the
parsed graph stays small, but whatever walks the loaded data (the registry checks, hashing, the
``repr`` in an error message) expands it. Measured before this module: a 534-byte file made a
312 MB error message and 1.5 GB of memory; 546 bytes ran out of memory.

``load`` composes the node graph itself (PyYAML's ``Composer``, fed by libyaml's C parser when
PyYAML has it) and keeps, per node, its weight with every alias expanded: one per node plus
each scalar's length, saturating at the bound. Each alias adds the weight of the node it
repeats; past ``MAX_ALIAS_GROWTH`` in all, the file is refused while it is being read, before
any Python object is built. An alias to a node that contains it (``&a [*a]``), nesting deeper
than ``MAX_DEPTH`` and more than ``MAX_NODES`` nodes are refused too: a registry file needs
none of them, and each would cost memory or recursion out of proportion to the file.
"""

from __future__ import annotations

from typing import Any

from spyglass.errors import PromptError

#: What aliases may add to a document, in nodes plus scalar characters (about a megabyte).
MAX_ALIAS_GROWTH = 1_000_000
#: Nodes in one document: a registry of thousands of prompts holds far fewer.
MAX_NODES = 200_000
#: Levels of nesting: a registry file has about five.
MAX_DEPTH = 64


class YamlLimit(Exception):
    """The document passes a bound; the message says which."""


def pyyaml() -> Any:
    """The ``yaml`` module, or a ``PromptError`` saying how to get it."""
    try:
        import yaml
    except ImportError:
        raise PromptError("YAML needs PyYAML (pip install pyyaml), or use a .json file") from None
    return yaml


def _weight(node: Any, weights: dict[int, int]) -> int:
    """The node with every alias under it expanded, saturating just past the bound."""
    if node.id == "scalar":
        own = 1 + len(node.value)
    elif node.id == "mapping":
        own = 1 + sum(weights[id(key)] + weights[id(value)] for key, value in node.value)
    else:
        own = 1 + sum(weights[id(child)] for child in node.value)
    return min(own, MAX_ALIAS_GROWTH + 1)


class _Bounds:
    """Mixed in before PyYAML's ``Composer``: ``compose_node`` keeps the bounds."""

    _compose: Any  # Composer.compose_node, set by ``_loader``
    _alias_event: type
    _weights: dict[int, int]
    _added: int
    _nodes: int
    _depth: int

    def _start_counting(self) -> None:
        self._weights, self._added, self._nodes, self._depth = {}, 0, 0, 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(self._alias_event):  # type: ignore[attr-defined]
            anchor = self.peek_event().anchor  # type: ignore[attr-defined]
            target = self.anchors.get(anchor)  # type: ignore[attr-defined]
            if target is not None:  # else PyYAML reports the undefined alias
                self._alias(target)
            return self._compose(parent, index)
        self._nodes += 1
        self._depth += 1
        if self._nodes > MAX_NODES:
            raise YamlLimit(f"it holds more than {MAX_NODES:,} YAML nodes")
        if self._depth > MAX_DEPTH:
            raise YamlLimit(f"it nests more than {MAX_DEPTH} levels deep")
        try:
            node = self._compose(parent, index)
        finally:
            self._depth -= 1
        self._weights[id(node)] = _weight(node, self._weights)
        return node

    def _alias(self, target: Any) -> None:
        weight = self._weights.get(id(target))
        if weight is None:  # its anchor is still open: the node would contain itself
            raise YamlLimit("a YAML alias refers to the node that contains it")
        self._added += weight
        if self._added > MAX_ALIAS_GROWTH:
            raise YamlLimit(
                f"its YAML aliases expand to more than {MAX_ALIAS_GROWTH:,} nodes and "
                "characters (each alias repeats all that its anchor names)"
            )


def _loader(text: str) -> Any:
    """A loader for ``text``: libyaml's parser when PyYAML has it, else PyYAML's own; then
    the bounded composer, the safe constructor and the standard resolver."""
    yaml = pyyaml()
    composer = yaml.composer.Composer
    constructor, resolver = yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    parts: tuple[Any, ...]
    if getattr(yaml, "__with_libyaml__", False):
        from yaml._yaml import CParser

        parts = (CParser,)
    else:
        parts = (yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser)

    def init(self: Any, stream: str) -> None:
        first, *rest = parts  # the reader (or libyaml's parser) takes the text
        first.__init__(self, stream)
        for part in (*rest, composer, constructor, resolver):
            part.__init__(self)
        self._start_counting()

    namespace = {
        "__init__": init,
        "_compose": composer.compose_node,
        "_alias_event": yaml.AliasEvent,
    }
    loader_class = type(
        "BoundedLoader", (_Bounds, composer, *parts, constructor, resolver), namespace
    )
    return loader_class(text)


def load(text: str) -> object:
    """The one document in ``text``, as ``yaml.safe_load`` reads it, within the bounds.

    Raises ``YamlLimit`` past a bound and ``yaml.YAMLError`` for a syntax error.
    """
    loader = _loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
