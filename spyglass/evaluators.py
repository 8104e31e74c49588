"""Evaluators for ``spyglass.evaluate``: built-in code checks, ``LLMJudge``, and the protocol.

The documented public name; the code lives in ``spyglass.evaluation``.

An evaluator is any callable taking an ``EvalCase`` and returning a ``Score`` (or several, or a
bare number / bool / label named after the evaluator, or ``None`` when it does not apply)::

    def short_answer(case: EvalCase) -> bool:
        return len(case.output_text) < 200

Built-ins are made by the functions below; each takes ``name=`` so one run can hold two of a
kind. The names (with one argument after ``=``) are also what ``spyglass eval run --evaluator``
accepts: ``exact_match``, ``contains``, ``regex=PATTERN``, ``valid_json``,
``json_schema=FILE``, ``latency_budget=MS``, ``token_budget=N``, ``hit_rate[=K]``, ``mrr[=K]``,
``groundedness``.
"""

from __future__ import annotations

from spyglass.evaluation._case import EvalCase, Evaluator, RetrievedDocument
from spyglass.evaluation._evaluators import (
    contains,
    exact_match,
    groundedness,
    hit_rate,
    json_schema,
    latency_budget,
    mrr,
    regex,
    token_budget,
    valid_json,
)
from spyglass.evaluation._judge import LLMJudge
from spyglass.tracer._score_types import Score

__all__ = [
    "EvalCase",
    "Evaluator",
    "LLMJudge",
    "RetrievedDocument",
    "Score",
    "contains",
    "exact_match",
    "groundedness",
    "hit_rate",
    "json_schema",
    "latency_budget",
    "mrr",
    "regex",
    "token_budget",
    "valid_json",
]
