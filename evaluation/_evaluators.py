"""The built-in evaluators' factories (``spyglass.evaluators`` re-exports them with
``LLMJudge``, ``EvalCase`` and ``Score``): each checks its arguments once, here, so a bad one
fails at ``evaluate()`` time rather than on every example."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from spyglass.errors import EvaluationError
from spyglass.evaluation._text_checks import (
    Contains,
    ExactMatch,
    JsonSchema,
    Regex,
    ValidJson,
    load_schema,
)
from spyglass.evaluation._trace_checks import (
    Groundedness,
    LatencyBudget,
    MeanReciprocalRank,
    RetrievalHitRate,
    TokenBudget,
)


def exact_match(*, ignore_case: bool = False, name: str = "exact_match") -> ExactMatch:
    """The output equals ``expected`` (any of them, if a list), whitespace collapsed."""
    return ExactMatch(ignore_case=ignore_case, name=name)


def contains(
    text: str | tuple[str, ...] | None = None, *, ignore_case: bool = True, name: str = "contains"
) -> Contains:
    """The output contains ``text`` (all of them, if several), else ``expected``."""
    return Contains(text=text, ignore_case=ignore_case, name=name)


def regex(pattern: str, *, flags: int = 0, name: str = "regex") -> Regex:
    """The output matches ``pattern`` somewhere."""
    return Regex(pattern, flags=flags, name=name)


def valid_json(*, name: str = "valid_json") -> ValidJson:
    """The output is JSON (one ```json fence allowed)."""
    return ValidJson(name=name)


def json_schema(
    schema: Mapping[str, object] | str | Path, *, name: str = "json_schema"
) -> JsonSchema:
    """The output is JSON satisfying ``schema`` (a dict or a JSON file's path)."""
    return JsonSchema(load_schema(schema), name=name)


def latency_budget(max_ms: float, *, name: str = "latency") -> LatencyBudget:
    """The example's trace took at most ``max_ms`` milliseconds."""
    if not isinstance(max_ms, (int, float)) or max_ms <= 0:
        raise EvaluationError(f"latency budget must be a positive number of ms, got {max_ms!r}")
    return LatencyBudget(float(max_ms), name=name)


def token_budget(
    max_tokens: int | None = None,
    *,
    max_input_tokens: int | None = None,
    max_output_tokens: int | None = None,
    name: str = "tokens",
) -> TokenBudget:
    """The trace's tokens (total, input, output) stay within the budgets given."""
    limits = (max_tokens, max_input_tokens, max_output_tokens)
    if all(limit is None for limit in limits):
        raise EvaluationError("token_budget needs at least one limit")
    if any(limit is not None and (not isinstance(limit, int) or limit < 0) for limit in limits):
        raise EvaluationError(f"token limits must be non-negative integers, got {limits!r}")
    return TokenBudget(max_tokens, max_input_tokens, max_output_tokens, name=name)


def _check_k(k: int | None) -> int | None:
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        raise EvaluationError(f"k must be a positive integer, got {k!r}")
    return k


def hit_rate(k: int | None = None, *, name: str = "hit_rate") -> RetrievalHitRate:
    """An expected document is in the top ``k`` retrieved; the run's mean is the hit rate."""
    return RetrievalHitRate(_check_k(k), name=name)


def mrr(k: int | None = None, *, name: str = "mrr") -> MeanReciprocalRank:
    """1 / rank of the first expected document; the run's mean is the MRR."""
    return MeanReciprocalRank(_check_k(k), name=name)


def groundedness(*, support: float = 0.6, name: str = "groundedness") -> Groundedness:
    """Share of answer sentences whose content words are found in the retrieved documents."""
    if not 0 < support <= 1:
        raise EvaluationError(f"support must be in (0, 1], got {support!r}")
    return Groundedness(support, name=name)
