"""``spyglass stats``: calls, tokens, cost and latency per model, and runs per prompt version
(and per prompt version × index: ``_index_stats``).

Pure aggregation over rows the store reads through partial indexes (only spans with a model,
or with a prompt). A call counts once: a span whose tokens another span counts
(``spyglass.usage.counted_elsewhere``, a framework span over a provider-SDK span) is skipped,
as the trace roll-up skips it. Percentiles interpolate linearly between the two nearest
durations (numpy's default), so p50 of an even count is the mean of the middle two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spyglass.tracer._cost import PriceBook, Usage, round_usd
from spyglass.tracer._records import iso

if TYPE_CHECKING:
    from spyglass.tracer._index_stats import IndexRuns


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ascending values; ``None`` for no values."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class ModelStats:
    """One model (at one provider) over the window."""

    provider: str | None
    model: str
    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None
    #: Some calls had tokens but the model has no known price: ``cost_usd`` is a lower bound.
    cost_partial: bool = False
    #: Some calls reported no usage: their tokens, in the sums, are estimates.
    tokens_estimated: bool = False
    durations_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.durations_ms, 50)

    @property
    def p95_ms(self) -> float | None:
        return percentile(self.durations_ms, 95)

    def add(self, usage: Usage, cost: float | None, duration_ms: float, error: bool) -> None:
        self.calls += 1
        self.errors += error
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read_tokens
        self.cache_write_tokens += usage.cache_write_tokens
        self.reasoning_tokens += usage.reasoning_tokens
        self.durations_ms.append(duration_ms)
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost
        elif not usage.empty:
            self.cost_partial = True

    def to_dict(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "model": self.model,
            "calls": self.calls,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "tokens_estimated": self.tokens_estimated,
            "cost_usd": round_usd(self.cost_usd),
            "p50_ms": _ms(self.p50_ms),
            "p95_ms": _ms(self.p95_ms),
        }


@dataclass
class PromptStats:
    """One version of one registered prompt over the window: ``runs`` are the traces that
    used it, ``errors`` those in which any span failed (not only the root)."""

    name: str
    version: str | None
    runs: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    durations_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.version is not None else self.name

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.durations_ms, 50)

    def to_dict(self) -> dict[str, object]:
        return {
            "prompt": self.label,
            "name": self.name,
            "version": self.version,
            "runs": self.runs,
            "errors": self.errors,
            "p50_ms": _ms(self.p50_ms),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass
class Stats:
    """What ``spyglass stats`` shows: per model and per prompt version."""

    since_ns: int | None
    project: str | None
    models: list[ModelStats]
    prompts: list[PromptStats]
    indexes: list[IndexRuns] = field(default_factory=list)
    """Runs per prompt version × the index that answered them (``_index_stats``)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "since": iso(self.since_ns),
            "project": self.project,
            "models": [m.to_dict() for m in self.models],
            "prompts": [p.to_dict() for p in self.prompts],
            "indexes": [i.to_dict() for i in self.indexes],
        }


def _int(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def model_stats(rows: Iterable[Sequence[object]], prices: PriceBook) -> list[ModelStats]:
    """Rows ``(provider, model, start_ns, end_ns, status, input, output, cache_read,
    cache_write, reasoning, counted_elsewhere, estimated)``; most expensive first, then most
    called."""
    acc: dict[tuple[str | None, str], ModelStats] = {}
    for provider, model, start, end, status, *tokens, counted, estimated in rows:
        if counted:
            continue
        key = (provider if isinstance(provider, str) else None, str(model))
        stats = acc.get(key)
        if stats is None:
            stats = acc[key] = ModelStats(*key)
        usage = Usage(*(_int(t) for t in tokens))
        cost = prices.cost(key[0], key[1], usage, _int(start))
        stats.add(usage, cost, (_int(end) - _int(start)) / 1e6, status == "ERROR")
        stats.tokens_estimated = stats.tokens_estimated or bool(estimated and not usage.empty)
    for stats in acc.values():
        stats.durations_ms.sort()
    return sorted(acc.values(), key=lambda s: (-(s.cost_usd or 0.0), -s.calls, s.model))


def _version_key(version: str | None) -> tuple[int, int | str]:
    if version is None:
        return (0, 0)
    return (1, int(version)) if version.isdigit() else (2, version)


def prompt_stats(rows: Iterable[Sequence[object]]) -> list[PromptStats]:
    """Rows ``(name, version, start_ns, end_ns, failed, input, output)``, ``failed`` true for
    a run in which any span failed; by name, version."""
    acc: dict[tuple[str, str | None], PromptStats] = {}
    for name, version, start, end, failed, input_tokens, output_tokens in rows:
        key = (str(name), None if version is None else str(version))
        stats = acc.get(key)
        if stats is None:
            stats = acc[key] = PromptStats(*key)
        stats.runs += 1
        stats.errors += bool(failed)
        stats.input_tokens += _int(input_tokens)
        stats.output_tokens += _int(output_tokens)
        stats.durations_ms.append((_int(end) - _int(start)) / 1e6)
    for stats in acc.values():
        stats.durations_ms.sort()
    return sorted(acc.values(), key=lambda s: (s.name, _version_key(s.version)))
