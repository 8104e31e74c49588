"""Aggregate metrics of a run, and the comparison of two runs.

Metrics (stored as JSON on the run, printed by ``eval show``)::

    {"examples": 20, "errors": 1, "error_rate": 0.05,
     "latency_ms": {"p50": 12.1, "p95": 30.2, "mean": 14.0},
     "scores": {"exact_match": {"count": 19, "mean": 0.63, "pass_rate": 0.63, "failed": 0}}}

A score's ``mean`` is over the examples it gave a number or bool for; ``pass_rate`` over those
with a verdict (``Score.passed``); ``failed`` counts evaluations that could not judge. Examples
whose target raised are not scored: they count in ``errors``, which every report shows beside
the pass rates.

Two runs compare example by example through the example key (a hash of the inputs), so
reordering a dataset changes nothing; a key seen several times pairs in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spyglass.tracer._score_types import Score

if TYPE_CHECKING:
    from spyglass.evaluation._records import EvalRow, RunInfo


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def score_metrics(scores: Iterable[Score]) -> dict[str, object]:
    listed = list(scores)
    numbers = [s.number for s in listed if s.number is not None]
    verdicts = [s.passed for s in listed if s.passed is not None]
    labels: dict[str, int] = {}
    for s in listed:
        label = s.value if isinstance(s.value, str) else s.label
        if label is not None:
            labels[label] = labels.get(label, 0) + 1
    out: dict[str, object] = {
        "count": len(listed),
        "mean": _round(sum(numbers) / len(numbers)) if numbers else None,
        "pass_rate": _round(sum(verdicts) / len(verdicts)) if verdicts else None,
        "failed": sum(1 for s in listed if s.failed),
    }
    if labels:
        out["labels"] = dict(sorted(labels.items()))
    return out


def compute_metrics(rows: Sequence[EvalRow], names: Sequence[str]) -> dict[str, object]:
    """The run's metrics; ``names`` orders the scores (evaluator order, then any extra)."""
    latencies = [row.latency_ms for row in rows if row.latency_ms is not None]
    errors = sum(1 for row in rows if row.error is not None)
    by_name: dict[str, list[Score]] = {name: [] for name in names}
    for row in rows:
        for name, score in row.scores.items():
            by_name.setdefault(name, []).append(score)
    return {
        "examples": len(rows),
        "errors": errors,
        "error_rate": _round(errors / len(rows)) if rows else None,
        "latency_ms": {
            "p50": _round(percentile(latencies, 50), 3),
            "p95": _round(percentile(latencies, 95), 3),
            "mean": _round(sum(latencies) / len(latencies), 3) if latencies else None,
        },
        "scores": {name: score_metrics(scores) for name, scores in by_name.items()},
    }


@dataclass(frozen=True)
class MetricDelta:
    metric: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    def to_dict(self) -> dict[str, object]:
        return {"metric": self.metric, "a": self.a, "b": self.b, "delta": _round(self.delta)}


@dataclass(frozen=True)
class ExampleChange:
    """One example whose outcome moved: ``change`` is ``pass→fail``, ``fail→pass``,
    ``ok→error``, ``error→ok`` or ``delta`` (a score's value moved, verdict unchanged)."""

    example_key: str
    inputs: object
    score: str | None
    change: str
    a: object
    b: object
    trace_a: str | None
    trace_b: str | None

    def to_dict(self) -> dict[str, object]:
        delta = None
        if isinstance(self.a, (int, float)) and isinstance(self.b, (int, float)):
            delta = _round(float(self.b) - float(self.a))
        return {
            "example_key": self.example_key,
            "inputs": self.inputs,
            "score": self.score,
            "change": self.change,
            "a": self.a,
            "b": self.b,
            "delta": delta,
            "trace_a": self.trace_a,
            "trace_b": self.trace_b,
        }


@dataclass(frozen=True)
class RunComparison:
    a: RunInfo
    b: RunInfo
    metrics: tuple[MetricDelta, ...]
    changes: tuple[ExampleChange, ...]
    matched: int
    only_a: int
    only_b: int

    @property
    def regressions(self) -> tuple[ExampleChange, ...]:
        return tuple(c for c in self.changes if c.change in ("pass→fail", "ok→error"))

    def to_dict(self) -> dict[str, object]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "examples": {"matched": self.matched, "only_a": self.only_a, "only_b": self.only_b},
            "changes": [c.to_dict() for c in self.changes],
        }


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def metric_deltas(a: Mapping[str, object], b: Mapping[str, object]) -> list[MetricDelta]:
    """Side by side: error rate, latency p50, then each score's mean and pass rate."""
    rows = [
        MetricDelta("error_rate", _number(a.get("error_rate")), _number(b.get("error_rate"))),
    ]
    lat_a, lat_b = a.get("latency_ms"), b.get("latency_ms")
    lat_a = lat_a if isinstance(lat_a, Mapping) else {}
    lat_b = lat_b if isinstance(lat_b, Mapping) else {}
    rows.append(MetricDelta("latency_p50_ms", _number(lat_a.get("p50")), _number(lat_b.get("p50"))))
    scores_a, scores_b = a.get("scores"), b.get("scores")
    scores_a = scores_a if isinstance(scores_a, Mapping) else {}
    scores_b = scores_b if isinstance(scores_b, Mapping) else {}
    for name in list(scores_a) + [n for n in scores_b if n not in scores_a]:
        sa, sb = scores_a.get(name) or {}, scores_b.get(name) or {}
        for key in ("mean", "pass_rate"):
            rows.append(MetricDelta(f"{name}.{key}", _number(sa.get(key)), _number(sb.get(key))))
    return rows


def _pairs(a: Sequence[EvalRow], b: Sequence[EvalRow]) -> tuple[list[tuple[EvalRow, EvalRow]], int]:
    waiting: dict[str, list[EvalRow]] = {}
    for row in b:
        waiting.setdefault(row.example_key, []).append(row)
    pairs = []
    for row in a:
        queue = waiting.get(row.example_key)
        if queue:
            pairs.append((row, queue.pop(0)))
    return pairs, sum(len(queue) for queue in waiting.values())


def _row_changes(a: EvalRow, b: EvalRow) -> list[ExampleChange]:
    def change(score: str | None, kind: str, va: object, vb: object) -> ExampleChange:
        return ExampleChange(a.example_key, a.inputs, score, kind, va, vb, a.trace_id, b.trace_id)

    if (a.error is None) != (b.error is None):
        kind = "ok→error" if b.error is not None else "error→ok"
        return [change(None, kind, a.error, b.error)]
    changes = []
    for name, sa in a.scores.items():
        sb = b.scores.get(name)
        if sb is None:
            continue
        if sa.passed is not None and sb.passed is not None and sa.passed != sb.passed:
            kind = "pass→fail" if sa.passed else "fail→pass"
            changes.append(change(name, kind, sa.value, sb.value))
        elif sa.number is not None and sb.number is not None and abs(sa.number - sb.number) > 1e-9:
            changes.append(change(name, "delta", sa.value, sb.value))
    return changes


_ORDER = {"pass→fail": 0, "ok→error": 1, "fail→pass": 2, "error→ok": 3, "delta": 4}


def compare_runs(
    a: RunInfo, rows_a: Sequence[EvalRow], b: RunInfo, rows_b: Sequence[EvalRow]
) -> RunComparison:
    """Metrics side by side, and the examples whose outcome changed (regressions first)."""
    pairs, only_b = _pairs(rows_a, rows_b)
    changes = [c for ra, rb in pairs for c in _row_changes(ra, rb)]
    changes.sort(key=lambda c: _ORDER[c.change])
    return RunComparison(
        a=a,
        b=b,
        metrics=tuple(metric_deltas(a.metrics, b.metrics)),
        changes=tuple(changes),
        matched=len(pairs),
        only_a=len(rows_a) - len(pairs),
        only_b=only_b,
    )
