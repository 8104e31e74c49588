"""Summaries of stored scores: per name across a file (``spyglass stats``), and mean values
over a set of traces (the prompt diff's per-version columns).

``PASSED_SQL`` is ``Score.passed`` written in SQL, so the pass rate is computed by SQLite over
any number of scores without reading them into Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spyglass.tracer._filters import chunks
from spyglass.tracer._score_types import FAIL_LABELS, PASS_LABELS, PASS_THRESHOLD
from spyglass.tracer._scores import Db, connection


def mean_scores_for_traces(db: Db, trace_ids: Sequence[str]) -> dict[str, float]:
    """Mean value per score name over these traces' number and bool scores (a bool counts
    1 / 0; labels and failed evaluations are left out); names without a value are absent."""
    totals: dict[str, list[float]] = {}
    with connection(db) as conn:
        for chunk in chunks(sorted(set(trace_ids))):
            for name, total, count in conn.execute(
                "SELECT name, sum(value), count(value) FROM scores "
                f"WHERE trace_id IN ({', '.join('?' * len(chunk))}) AND value IS NOT NULL "
                "GROUP BY name",
                list(chunk),
            ):
                entry = totals.setdefault(name, [0.0, 0.0])
                entry[0] += total
                entry[1] += count
    return {name: total / count for name, (total, count) in sorted(totals.items()) if count}


def _labels(labels: Iterable[str]) -> str:
    return ", ".join(f"'{label}'" for label in sorted(labels))


#: ``Score.passed`` in SQL: 1 pass, 0 fail, NULL neither.
PASSED_SQL = f"""CASE
    WHEN kind = 'bool' THEN value = 1
    WHEN kind = 'number' AND value BETWEEN 0 AND 1 THEN value >= {PASS_THRESHOLD}
    WHEN lower(label) IN ({_labels(PASS_LABELS)}) THEN 1
    WHEN lower(label) IN ({_labels(FAIL_LABELS)}) THEN 0
END"""


@dataclass(frozen=True)
class ScoreSummary:
    """One score name across a file: how many, mean value, pass rate, failures, sources."""

    name: str
    count: int
    mean: float | None
    pass_rate: float | None
    failed: int
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "count": self.count,
            "mean": None if self.mean is None else round(self.mean, 4),
            "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 4),
            "failed": self.failed,
            "sources": list(self.sources),
        }


def score_summary(
    db: Db = None, since_ns: int | None = None, project: str | None = None
) -> list[ScoreSummary]:
    """Per score name, over scores written since ``since_ns`` (epoch ns) on traces of
    ``project``: for ``spyglass stats``."""
    where, params = ["1"], list[object]()
    if since_ns is not None:
        where.append("created_ns >= ?")
        params.append(since_ns)
    if project is not None:
        where.append("trace_id IN (SELECT trace_id FROM traces WHERE project = ?)")
        params.append(project)
    with connection(db) as conn:
        rows = conn.execute(
            f"SELECT name, count(*), avg(value), sum(value IS NULL AND kind != 'label'), "
            f"sum({PASSED_SQL}), count({PASSED_SQL}), group_concat(DISTINCT source) "
            f"FROM scores WHERE {' AND '.join(where)} GROUP BY name ORDER BY name",
            params,
        ).fetchall()
    return [
        ScoreSummary(
            name=name,
            count=count,
            mean=mean,
            pass_rate=passes / judged if judged else None,
            failed=failed or 0,
            sources=tuple(sorted(str(sources).split(","))),
        )
        for name, count, mean, failed, passes, judged, sources in rows
    ]
