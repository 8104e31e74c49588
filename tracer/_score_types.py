"""A score: one judgement of a trace, a span or an evaluated example, and the pass rule.

A score's value is a number, a bool or a label (a string); ``None`` means the evaluator failed
and ``comment`` says why. Judges give a number (0..1) *and* a label. ``passed`` is the one
pass/fail rule every report uses: a bool as is, a number in 0..1 against 0.5, a label that
reads as a verdict (PASS / FAIL, yes / no, ...); anything else neither passes nor fails.
Scores live in the tracer because the ``scores`` table is beside the traces: a human's
``spyglass.score()`` needs no evaluation, and the viewer and the prompt diff read them too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from spyglass.errors import EvaluationError

ScoreValue = float | int | bool | str | None
Source = Literal["human", "code", "llm"]
SOURCES: tuple[str, ...] = ("human", "code", "llm")
PASS_THRESHOLD = 0.5
PASS_LABELS = frozenset({"pass", "passed", "yes", "true", "correct", "good", "grounded"})
FAIL_LABELS = frozenset({"fail", "failed", "no", "false", "incorrect", "bad", "ungrounded"})
NAME_MAX = 100
LABEL_MAX = 200


def check_value(value: object) -> ScoreValue:
    """A valid score value, or an ``EvaluationError`` saying what is wrong with it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise EvaluationError(f"score value must be a finite number, got {value!r}")
        return value
    if isinstance(value, str):
        if not value.strip():
            raise EvaluationError("score label is empty")
        if len(value) > LABEL_MAX:
            raise EvaluationError(f"score label is longer than {LABEL_MAX} characters")
        return value
    raise EvaluationError(
        f"score value must be a number, a bool or a label (str), got {type(value).__name__}"
    )


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise EvaluationError(f"score name must be a non-empty string, got {name!r}")
    if len(name) > NAME_MAX:
        raise EvaluationError(f"score name is longer than {NAME_MAX} characters")
    return name.strip()


def check_source(source: object) -> Source:
    if source not in SOURCES:
        raise EvaluationError(f"score source must be one of {', '.join(SOURCES)}; got {source!r}")
    return source  # type: ignore[return-value]


def verdict_of_label(label: str | None) -> bool | None:
    """True / False for labels that read as a verdict, else None."""
    if label is None:
        return None
    key = label.strip().lower()
    return True if key in PASS_LABELS else False if key in FAIL_LABELS else None


@dataclass(frozen=True)
class Score:
    """One judgement of one example (or trace): ``Score("exact_match", True)``.

    ``value``: a number, a bool, a label, or ``None`` for a failed evaluation (``comment``
    says why). ``label`` goes beside a number (a judge's ``PASS``). ``evaluator`` and
    ``evaluator_version`` name what produced it (an LLM judge records its rubric version).
    """

    name: str
    value: ScoreValue
    comment: str | None = None
    source: Source = "code"
    label: str | None = None
    evaluator: str | None = None
    evaluator_version: str | None = None
    span_id: str | None = None

    @property
    def kind(self) -> Literal["number", "bool", "label"]:
        if isinstance(self.value, bool):
            return "bool"
        if isinstance(self.value, str):
            return "label"
        return "number"

    @property
    def number(self) -> float | None:
        """The value as a number (a bool as 1 / 0); None for a label or a failure."""
        if isinstance(self.value, bool):
            return 1.0 if self.value else 0.0
        if isinstance(self.value, (int, float)):
            return float(self.value)
        return None

    @property
    def failed(self) -> bool:
        """The evaluator could not judge (``value`` is None)."""
        return self.value is None

    @property
    def passed(self) -> bool | None:
        """The pass/fail rule of every report (see the module docstring)."""
        if isinstance(self.value, bool):
            return self.value
        if isinstance(self.value, str):
            return verdict_of_label(self.value)
        if isinstance(self.value, (int, float)) and 0.0 <= self.value <= 1.0:
            return self.value >= PASS_THRESHOLD
        return verdict_of_label(self.label)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "kind": self.kind,
            "label": self.label,
            "passed": self.passed,
            "comment": self.comment,
            "source": self.source,
            "evaluator": self.evaluator,
            "evaluator_version": self.evaluator_version,
            "span_id": self.span_id,
        }
