"""Code evaluators over the output's text: exact match, contains, regex, valid JSON, JSON schema.

Each is a small frozen dataclass with a ``name`` (the score's name, overridable so one run can
hold two regex checks) and a ``version`` (bumped when its rule changes, recorded on each score),
called with an ``EvalCase``. Those comparing against ``expected`` return ``None`` for an example
without one: not applicable is not a failure. ``expected`` may be a list of acceptable answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.errors import EvaluationError
from spyglass.evaluation._case import EvalCase, text_of
from spyglass.evaluation._json_schema import schema_problem
from spyglass.tracer._score_types import Score

_SPACE = re.compile(r"\s+")
_FENCE = re.compile(r"^```(?:json)?\s*\n(.*?)\n?```$", re.DOTALL | re.IGNORECASE)
SHOWN = 80


def _short(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _normal(text: str, ignore_case: bool) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text.casefold() if ignore_case else text


def _answers(expected: object) -> list[str]:
    if isinstance(expected, (list, tuple)):
        return [text_of(item) for item in expected]
    return [text_of(expected)]


@dataclass(frozen=True)
class ExactMatch:
    """The output equals ``expected`` (whitespace collapsed; ``ignore_case`` optional)."""

    ignore_case: bool = False
    name: str = "exact_match"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score | None:
        if case.expected is None:
            return None
        got = _normal(case.output_text, self.ignore_case)
        answers = _answers(case.expected)
        ok = any(got == _normal(answer, self.ignore_case) for answer in answers)
        comment = None if ok else f"expected {_short(answers[0])!r}, got {_short(got)!r}"
        return Score(self.name, ok, comment)


@dataclass(frozen=True)
class Contains:
    """The output contains ``text`` (every one, if a list), or else ``expected`` (any one)."""

    text: str | tuple[str, ...] | None = None
    ignore_case: bool = True
    name: str = "contains"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score | None:
        got = _normal(case.output_text, self.ignore_case)
        if self.text is not None:
            wanted = [self.text] if isinstance(self.text, str) else list(self.text)
            missing = [w for w in wanted if _normal(w, self.ignore_case) not in got]
            comment = f"missing {', '.join(map(repr, missing))}" if missing else None
            return Score(self.name, not missing, comment)
        if case.expected is None:
            return None
        answers = _answers(case.expected)
        ok = any(_normal(answer, self.ignore_case) in got for answer in answers)
        return Score(self.name, ok, None if ok else f"{_short(answers[0])!r} not in the output")


@dataclass(frozen=True)
class Regex:
    """The output matches ``pattern`` somewhere (``re.search``)."""

    pattern: str
    flags: int = 0
    name: str = "regex"
    version: str = "1"
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "compiled", re.compile(self.pattern, self.flags))
        except re.error as exc:
            raise EvaluationError(f"bad regex {self.pattern!r}: {exc}") from None

    def __call__(self, case: EvalCase) -> Score:
        ok = self.compiled.search(case.output_text) is not None
        return Score(self.name, ok, None if ok else f"no match for {self.pattern!r}")


def parse_json_output(output: object) -> tuple[object, str | None]:
    """The output as JSON data (a dict or list is taken as is; text may sit in one ```json
    fence), and the parse error if it is not JSON."""
    if isinstance(output, (dict, list)):
        return output, None
    text = text_of(output).strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"not JSON: {exc}"


@dataclass(frozen=True)
class ValidJson:
    """The output is JSON (a dict or list output counts)."""

    name: str = "valid_json"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score:
        _, problem = parse_json_output(case.output)
        return Score(self.name, problem is None, problem)


def load_schema(schema: Mapping[str, object] | str | Path) -> Mapping[str, object]:
    """A schema given as a dict, or the path of a JSON file holding one."""
    if isinstance(schema, Mapping):
        return schema
    path = Path(schema)
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"cannot read a JSON schema from {path}: {exc}") from None
    if not isinstance(loaded, Mapping):
        raise EvaluationError(f"{path}: a JSON schema must be an object")
    return loaded


@dataclass(frozen=True)
class JsonSchema:
    """The output is JSON that satisfies ``schema`` (see ``_json_schema`` for the subset used
    when the ``jsonschema`` package is not installed)."""

    schema: Mapping[str, object]
    name: str = "json_schema"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score:
        data, problem = parse_json_output(case.output)
        if problem is None:
            problem = schema_problem(data, self.schema)
        return Score(self.name, problem is None, problem)
