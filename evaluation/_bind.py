"""Turning what the user passed as ``evaluators`` into named, guarded evaluators.

``evaluate`` accepts evaluator objects, plain functions, built-in names (``"exact_match"``,
``"latency_budget=2000"``, as the CLI takes them), ``"module:attribute"`` references, and the
built-in factories themselves passed uncalled (``evaluators=[exact_match]``, an easy slip
that would otherwise fail on every example).

``Bound.run`` is the guard: whatever an evaluator returns is normalised into ``Score`` records
carrying the evaluator's name, version and source, and an exception becomes one failed score
for that example instead of ending the run.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from spyglass.errors import EvaluationError
from spyglass.evaluation import _evaluators as E
from spyglass.evaluation._case import EvalCase
from spyglass.tracer._score_types import Score, check_value

BUILTINS: dict[str, Callable[..., object]] = {
    "exact_match": E.exact_match,
    "contains": E.contains,
    "regex": E.regex,
    "valid_json": E.valid_json,
    "json_schema": E.json_schema,
    "latency_budget": E.latency_budget,
    "token_budget": E.token_budget,
    "hit_rate": E.hit_rate,
    "mrr": E.mrr,
    "groundedness": E.groundedness,
}
#: How the text after ``=`` is converted, for the built-ins that take an argument.
_ARGUMENT: dict[str, Callable[[str], object]] = {
    "contains": str,
    "regex": str,
    "json_schema": str,
    "latency_budget": float,
    "token_budget": int,
    "hit_rate": int,
    "mrr": int,
}


def load_object(reference: str) -> object:
    """``package.module:attribute.path`` imported (the current directory importable, as
    ``python -m`` has it)."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise EvaluationError(f"{reference!r} is not of the form module:attribute")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise EvaluationError(f"cannot import {module_name!r}: {exc}") from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise EvaluationError(f"{module_name!r} has no attribute {attribute!r}") from None
    return found


def from_spec(spec: str) -> object:
    """A built-in by name (``name`` or ``name=argument``), or ``module:attribute``."""
    name, has_argument, argument = spec.partition("=")
    name = name.strip()
    if name not in BUILTINS:
        if ":" in spec and not has_argument:
            return load_object(spec)
        known = ", ".join(BUILTINS)
        raise EvaluationError(f"unknown evaluator {name!r}; built in: {known} (or module:name)")
    if not has_argument:
        try:
            return BUILTINS[name]()
        except TypeError:
            raise EvaluationError(f"evaluator {name} needs an argument: {name}=...") from None
    if name not in _ARGUMENT:
        raise EvaluationError(f"evaluator {name} takes no argument")
    try:
        value = _ARGUMENT[name](argument)
    except ValueError:
        raise EvaluationError(f"bad argument for {name}: {argument!r}") from None
    return BUILTINS[name](value)


def evaluator_name(evaluator: object) -> str:
    name = getattr(evaluator, "name", None) or getattr(evaluator, "__name__", None)
    return str(name) if name else type(evaluator).__name__


@dataclass(frozen=True)
class Bound:
    """An evaluator with its name, version and default source."""

    name: str
    version: str | None
    source: str
    fn: Callable[[EvalCase], object]

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "source": self.source}

    def _own(self, score: Score) -> Score:
        return replace(
            score,
            evaluator=score.evaluator or self.name,
            evaluator_version=score.evaluator_version or self.version,
        )

    def run(self, case: EvalCase) -> list[Score]:
        """The evaluator's scores for one case; never raises (see the module docstring)."""
        try:
            result = self.fn(case)
            if result is None:
                return []
            if isinstance(result, Score):
                return [self._own(result)]
            if isinstance(result, (list, tuple)) and all(isinstance(s, Score) for s in result):
                return [self._own(s) for s in result]
            value = check_value(result)
            return [self._own(Score(self.name, value, source=self.source))]  # type: ignore[arg-type]
        except Exception as exc:
            comment = f"evaluator failed: {type(exc).__name__}: {exc}"
            return [Score(self.name, None, comment, self.source, evaluator=self.name)]  # type: ignore[arg-type]


def bind(evaluators: Iterable[object] | object) -> list[Bound]:
    """Named evaluators; an ``EvaluationError`` for anything that is not one, or two with one
    name (their scores would overwrite each other)."""
    if isinstance(evaluators, (str, bytes)) or callable(evaluators):
        items: list[object] = [evaluators]
    elif isinstance(evaluators, Iterable):
        items = list(evaluators)
    else:
        raise EvaluationError(f"evaluators must be a list, got {type(evaluators).__name__}")
    bound: list[Bound] = []
    for item in items:
        if isinstance(item, str):
            item = from_spec(item)
        elif any(item is factory for factory in BUILTINS.values()):
            item = from_spec(getattr(item, "__name__", ""))
        if not callable(item):
            raise EvaluationError(f"an evaluator must be callable, got {type(item).__name__}")
        version = getattr(item, "version", None)
        source = getattr(item, "source", "code")
        bound.append(
            Bound(
                evaluator_name(item),
                None if version is None else str(version),
                source if source in ("code", "llm", "human") else "code",
                item,
            )
        )
    names = [b.name for b in bound]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise EvaluationError(f"two evaluators are named {duplicate!r}; give one name=...")
    return bound
