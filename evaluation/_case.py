"""What evaluation is made of: ``Score``, ``EvalCase``, ``RetrievedDocument``, ``TraceFacts``.

An evaluator is any callable taking one ``EvalCase`` (the example's inputs, the target's output,
the reference answer, the expected document ids, and what the example's trace recorded) and
returning a ``Score``, several, a bare value (wrapped in a ``Score`` named after the
evaluator), or ``None`` when it does not apply to that example. Nothing here imports OTel or
SQLite: users build cases by hand to unit-test their evaluators.

A score's value is a number, a bool or a label (a string); ``None`` means the evaluator failed
and ``comment`` says why. Judges give a number (0..1) *and* a label. ``passed`` is the one
pass/fail rule every report uses: a bool as is, a number in 0..1 against 0.5, a label that
reads as a verdict (PASS / FAIL, yes / no, ...); anything else neither passes nor fails.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, Protocol

from spyglass.errors import EvaluationError

if TYPE_CHECKING:
    from spyglass.tracer._records import Trace

ScoreValue = float | int | bool | str | None
Source = Literal["human", "code", "llm"]
SOURCES: tuple[str, ...] = ("human", "code", "llm")
PASS_THRESHOLD = 0.5
PASS_LABELS = frozenset({"pass", "passed", "yes", "true", "correct", "good", "grounded"})
FAIL_LABELS = frozenset({"fail", "failed", "no", "false", "incorrect", "bad", "ungrounded"})
NAME_MAX = 100
LABEL_MAX = 200
#: Keys of a dict ``inputs`` (or output) that hold the text a judge or a text evaluator reads.
TEXT_KEYS = ("question", "query", "input", "answer", "output", "result", "text", "response")


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


@dataclass(frozen=True)
class RetrievedDocument:
    """A document the example's retrieval returned, in the order the app used them."""

    doc_id: str | None
    content: str | None
    score: float | None = None


@dataclass(frozen=True)
class TraceFacts:
    """What the example's trace recorded, read from the file after the run."""

    trace_id: str
    status: str
    duration_ms: float
    input_tokens: int
    output_tokens: int
    documents: tuple[RetrievedDocument, ...] = ()


def text_of(value: object) -> str:
    """The text of an output or input: a string as is; a chat message's content; a LlamaIndex
    response's text; a dict's answer-like field; anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in TEXT_KEYS:
            if isinstance(value.get(key), str):
                return str(value[key])
        if len(value) == 1:
            return text_of(next(iter(value.values())))
    else:
        for attribute in ("content", "response", "text"):
            found = getattr(value, attribute, None)
            if isinstance(found, str):
                return found
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


@dataclass(frozen=True)
class EvalCase:
    """One evaluated example, as evaluators see it.

    ``facts`` is what the example's trace recorded (duration, tokens, retrieved documents);
    ``trace()`` reads the whole trace (every span) from the file when an evaluator needs more.
    """

    inputs: object
    output: object = None
    expected: object = None
    expected_doc_ids: tuple[str, ...] | None = None
    metadata: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    trace_id: str | None = None
    error: str | None = None
    latency_ms: float | None = None
    facts: TraceFacts | None = None
    db: Path | None = None
    run_id: str | None = None

    @property
    def output_text(self) -> str:
        return text_of(self.output)

    @property
    def input_text(self) -> str:
        return text_of(self.inputs)

    @property
    def expected_text(self) -> str | None:
        return None if self.expected is None else text_of(self.expected)

    @property
    def documents(self) -> tuple[RetrievedDocument, ...]:
        """The retrieved documents of the trace (empty without a trace or retrieval)."""
        return self.facts.documents if self.facts is not None else ()

    def trace(self) -> Trace:
        """The example's whole trace, read through ``spyglass.Store``."""
        if self.trace_id is None or self.db is None:
            raise EvaluationError("this example has no stored trace")
        from spyglass.tracer._store import Store

        with Store(self.db) as store:
            return store.trace(self.trace_id)


class Evaluator(Protocol):
    """What ``evaluate(..., evaluators=[...])`` accepts: a callable taking an ``EvalCase``.

    It may return a ``Score``, a list of them, a number / bool / label (named after the
    evaluator's ``name`` attribute or ``__name__``), or ``None`` when it does not apply.
    """

    def __call__(self, case: EvalCase, /) -> object: ...
