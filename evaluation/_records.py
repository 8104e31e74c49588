"""What an evaluation run returns and stores: ``RunInfo``, ``EvalRow``, ``EvalResult``.

``evaluate()`` returns an ``EvalResult`` built in memory (outputs as the target returned them);
``spyglass eval show`` builds the same records from the file (outputs as stored JSON). Both
print the same documented JSON through ``to_dict()``: times ISO 8601 UTC, durations in ms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from spyglass.evaluation._metrics import RunComparison, compare_runs
from spyglass.tracer._score_types import Score

if TYPE_CHECKING:
    import pandas


def _iso(ns: int | None) -> str | None:
    from datetime import datetime, timezone

    if ns is None:
        return None
    moment = datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class RunInfo:
    """One ``eval_runs`` row: what ran, over what data, when, and the aggregate metrics."""

    run_id: str
    name: str
    project: str | None
    dataset_name: str | None
    dataset_hash: str | None
    example_count: int
    target: str | None
    evaluators: tuple[Mapping[str, object], ...]
    status: str
    started_ns: int
    ended_ns: int | None
    prompt_versions: tuple[str, ...] = ()
    metrics: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def duration_ms(self) -> float | None:
        return None if self.ended_ns is None else (self.ended_ns - self.started_ns) / 1e6

    def to_dict(self) -> dict[str, object]:
        duration = self.duration_ms
        return {
            "run_id": self.run_id,
            "name": self.name,
            "project": self.project,
            "dataset": {
                "name": self.dataset_name,
                "hash": self.dataset_hash,
                "examples": self.example_count,
            },
            "target": self.target,
            "evaluators": [dict(e) for e in self.evaluators],
            "status": self.status,
            "started_at": _iso(self.started_ns),
            "ended_at": _iso(self.ended_ns),
            "duration_ms": None if duration is None else round(duration, 3),
            "prompt_versions": list(self.prompt_versions),
            "metrics": dict(self.metrics),
        }


@dataclass(frozen=True)
class EvalRow:
    """One example of a run: what went in, what came out, its trace, its scores by name."""

    position: int
    example_key: str
    inputs: object
    output: object
    expected: object
    expected_doc_ids: tuple[str, ...] | None
    trace_id: str | None
    scores: Mapping[str, Score]
    error: str | None
    latency_ms: float | None

    @property
    def passed(self) -> bool | None:
        """False if the target failed or any score failed; True if some score passed and
        none failed; None when no score gives a verdict."""
        if self.error is not None:
            return False
        verdicts = [s.passed for s in self.scores.values() if s.passed is not None]
        return all(verdicts) if verdicts else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: outputs the target returned as objects are converted as spans record
        them (``to_jsonable``), so ``eval run --json`` and ``eval show --json`` agree."""
        from spyglass.tracer._serialize import to_jsonable

        return {
            "position": self.position,
            "example_key": self.example_key,
            "inputs": to_jsonable(self.inputs),
            "output": to_jsonable(self.output),
            "expected": to_jsonable(self.expected),
            "expected_doc_ids": (
                None if self.expected_doc_ids is None else list(self.expected_doc_ids)
            ),
            "trace_id": self.trace_id,
            "error": self.error,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "scores": {name: score.to_dict() for name, score in self.scores.items()},
        }


@dataclass(frozen=True)
class EvalResult:
    """What ``spyglass.evaluate`` returns: ``.metrics``, ``.rows`` and the run they belong to."""

    run: RunInfo
    rows: tuple[EvalRow, ...]

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def metrics(self) -> Mapping[str, object]:
        return self.run.metrics

    @property
    def prompt_versions(self) -> tuple[str, ...]:
        return self.run.prompt_versions

    def to_dict(self) -> dict[str, object]:
        return {**self.run.to_dict(), "rows": [row.to_dict() for row in self.rows]}

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per example: inputs, output, expected, trace id, error, latency, and a
        column per score (its value). Needs pandas."""
        import pandas

        records = []
        for row in self.rows:
            record: dict[str, object] = {
                "inputs": row.inputs,
                "output": row.output,
                "expected": row.expected,
                "trace_id": row.trace_id,
                "error": row.error,
                "latency_ms": row.latency_ms,
            }
            record.update({name: score.value for name, score in row.scores.items()})
            records.append(record)
        return pandas.DataFrame.from_records(records)

    def compare(self, other: EvalResult) -> RunComparison:
        """This run (A) against ``other`` (B): metrics side by side and the examples whose
        outcome changed, regressions first (``spyglass.viewer.comparison_view`` shows it)."""
        return compare_runs(self.run, self.rows, other.run, other.rows)

    def __repr__(self) -> str:
        errors = self.metrics.get("errors", 0)
        return (
            f"<EvalResult {self.name!r} run={self.run_id} examples={len(self.rows)} "
            f"errors={errors}>"
        )
