"""Evaluation: run an app over a dataset, every example traced, score it, store and compare runs.

``spyglass.evaluate`` (the facade, which wires autolog in) and ``spyglass.evaluators`` are the
documented entry points; this package holds the code, split by what it does:

* running: ``_run`` (the two phases: run every example, then score), ``_pool`` (threads in the
  caller's context), ``_progress`` (the bar);
* what is evaluated: ``_targets`` (how a target is called), ``_datasets`` (lists, JSONL, CSV,
  DataFrames);
* evaluators: ``_case`` (what they are given), ``_bind`` (naming and guarding them),
  ``_evaluators`` (the built-ins' factories), ``_text_checks``, ``_trace_checks``,
  ``_json_schema``, ``_facts`` (what the traces recorded, read in batches);
* the judge: ``_judge``, ``_rubrics`` (rubrics in the prompt registry), ``_verdict``;
* results: ``_records`` (run, rows, result), ``_metrics`` (aggregates, comparisons), ``_store``
  (runs in the SQLite file).

It imports the tracer and the prompt registry, never the viewer, the integrations or the CLI.
Names resolve on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "EvalCase",
    "EvalResult",
    "EvalRow",
    "Evaluator",
    "ExampleChange",
    "LLMJudge",
    "MetricDelta",
    "RetrievedDocument",
    "RunComparison",
    "RunInfo",
    "Score",
    "TraceFacts",
]

if TYPE_CHECKING:
    from spyglass.evaluation._case import EvalCase, Evaluator, RetrievedDocument, TraceFacts
    from spyglass.evaluation._judge import LLMJudge
    from spyglass.evaluation._metrics import ExampleChange, MetricDelta, RunComparison
    from spyglass.evaluation._records import EvalResult, EvalRow, RunInfo
    from spyglass.tracer._score_types import Score

_LAZY = {
    "EvalCase": "spyglass.evaluation._case",
    "EvalResult": "spyglass.evaluation._records",
    "EvalRow": "spyglass.evaluation._records",
    "Evaluator": "spyglass.evaluation._case",
    "ExampleChange": "spyglass.evaluation._metrics",
    "LLMJudge": "spyglass.evaluation._judge",
    "MetricDelta": "spyglass.evaluation._metrics",
    "RetrievedDocument": "spyglass.evaluation._case",
    "RunComparison": "spyglass.evaluation._metrics",
    "RunInfo": "spyglass.evaluation._records",
    "Score": "spyglass.tracer._score_types",
    "TraceFacts": "spyglass.evaluation._case",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass.evaluation' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
