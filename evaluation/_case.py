"""What evaluators are given: ``EvalCase``, ``RetrievedDocument``, ``TraceFacts``, ``text_of``.

An evaluator is any callable taking one ``EvalCase`` (the example's inputs, the target's output,
the reference answer, the expected document ids, and what the example's trace recorded) and
returning a ``Score``, several, a bare value (wrapped in a ``Score`` named after the
evaluator), or ``None`` when it does not apply to that example. Nothing here imports OTel or
SQLite: users build cases by hand to unit-test their evaluators. ``Score`` itself belongs to
the tracer (``spyglass.tracer``): scores are stored beside the traces, with or without an
evaluation run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from spyglass.errors import EvaluationError

if TYPE_CHECKING:
    from spyglass.tracer._records import Trace

#: Keys of a dict ``inputs`` (or output) that hold the text a judge or a text evaluator reads.
TEXT_KEYS = ("question", "query", "input", "answer", "output", "result", "text", "response")


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
