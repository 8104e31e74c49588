"""What an LLM call cost, in USD, computed when traces are read and never stored.

Prices change and stored token counts do not, so cost is a view over the tokens. A
``PriceBook`` answers ``cost(provider, model, usage, at)`` from two sources, first match wins:

1. the user's price file (``$SPYGLASS_PRICES``, else ``~/.config/spyglass/prices.toml`` or
   ``prices.json``): per-million-token prices for models the bundled data lacks or misprices;
2. the offline price database bundled by ``genai-prices`` (see ``_cost_bundled``).

A model found in neither has no cost (``None``): spyglass never guesses a price. Every price is
reduced to a ``Pricing``: periods (a start date, or an hour window) of tiers (by the call's
input size) of linear per-token rates. That is exactly genai-prices' model for token usage, it
is cheap to evaluate per span, and it fits in a small JSON cache, so a ``spyglass show`` that
meets only known models never imports genai-prices (about 0.2 s) at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path

from spyglass.errors import ConfigurationError
from spyglass.tracer import attributes as A

ENV_PRICES = "SPYGLASS_PRICES"
"""Path of a TOML or JSON price file; overrides ``~/.config/spyglass/prices.{toml,json}``."""

PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")
_PER_MILLION = 1_000_000


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(frozen=True)
class Usage:
    """Token counts of one call, as the OTel GenAI conventions define them: input includes
    cache reads and writes, output includes reasoning."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, object]) -> Usage:
        return cls(
            _count(attrs.get(A.GEN_AI_USAGE_INPUT_TOKENS)),
            _count(attrs.get(A.GEN_AI_USAGE_OUTPUT_TOKENS)),
            _count(attrs.get(A.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)),
            _count(attrs.get(A.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS)),
            _count(attrs.get(A.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS)),
        )

    @property
    def empty(self) -> bool:
        return not (self.input_tokens or self.output_tokens)


@dataclass(frozen=True)
class Rates:
    """USD per token of each kind, plus a fixed fee per call."""

    request: float
    input: float
    cache_read: float
    cache_write: float
    output: float
    reasoning: float

    def cost(self, usage: Usage) -> float | None:
        plain_input = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
        plain_output = usage.output_tokens - usage.reasoning_tokens
        if plain_input < 0 or plain_output < 0:
            return None  # counts that contradict each other: no cost rather than a wrong one
        return (
            self.request
            + plain_input * self.input
            + usage.cache_read_tokens * self.cache_read
            + usage.cache_write_tokens * self.cache_write
            + plain_output * self.output
            + usage.reasoning_tokens * self.reasoning
        )

    def to_json(self) -> list[float]:
        return [
            self.request,
            self.input,
            self.cache_read,
            self.cache_write,
            self.output,
            self.reasoning,
        ]


@dataclass(frozen=True)
class Period:
    """Prices valid from a date, or within a daily UTC hour window, or always.

    ``tiers`` are ``(start, rates)`` sorted by start: a call whose input exceeds ``start``
    tokens pays that tier's rates on all its tokens (the providers' "cliff" pricing).
    """

    tiers: tuple[tuple[int, Rates], ...]
    since: date | None = None
    hours: tuple[time, time] | None = None

    def active(self, at: datetime) -> bool:
        if self.since is not None:
            return at.date() >= self.since
        if self.hours is not None:
            start, end = self.hours
            now = at.time()
            return (now >= start or now < end) if end < start else start <= now < end
        return True

    def rates(self, input_tokens: int) -> Rates:
        chosen = self.tiers[0][1]
        for start, rates in self.tiers[1:]:
            if input_tokens > start:
                chosen = rates
        return chosen


@dataclass(frozen=True)
class Pricing:
    """How one model is priced: the last active period applies, else the first."""

    periods: tuple[Period, ...]
    source: str

    def cost(self, usage: Usage, at_ns: int) -> float | None:
        period = self.periods[0]
        if len(self.periods) > 1:
            at = datetime.fromtimestamp(at_ns / 1e9, tz=timezone.utc)
            period = next((p for p in reversed(self.periods) if p.active(at)), period)
        return period.rates(usage.input_tokens).cost(usage)

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "periods": [
                {
                    "since": p.since.isoformat() if p.since else None,
                    "hours": [h.isoformat() for h in p.hours] if p.hours else None,
                    "tiers": [[start, rates.to_json()] for start, rates in p.tiers],
                }
                for p in self.periods
            ],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, object]) -> Pricing:
        periods = []
        for p in raw["periods"]:  # type: ignore[attr-defined]
            hours = p["hours"]
            periods.append(
                Period(
                    tiers=tuple((int(s), Rates(*map(float, r))) for s, r in p["tiers"]),
                    since=date.fromisoformat(p["since"]) if p["since"] else None,
                    hours=(time.fromisoformat(hours[0]), time.fromisoformat(hours[1]))
                    if hours
                    else None,
                )
            )
        return cls(tuple(periods), str(raw["source"]))


def user_pricing(entry: Mapping[str, object], where: str) -> Pricing:
    """A price-file entry (USD per million tokens) as a one-period, one-tier ``Pricing``."""
    prices: dict[str, float] = {}
    for key in PRICE_FIELDS:
        value = entry.get(key)
        if value is None and key in ("cache_read", "cache_write"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigurationError(
                f"{where}: {key!r} must be a price in USD per million tokens, got {value!r}"
            )
        prices[key] = float(value) / _PER_MILLION
    unknown = set(entry) - {*PRICE_FIELDS, "model", "provider"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    rates = Rates(
        request=0.0,
        input=prices["input"],
        cache_read=prices.get("cache_read", prices["input"]),
        cache_write=prices.get("cache_write", prices["input"]),
        output=prices["output"],
        reasoning=prices["output"],  # every provider bills reasoning tokens as output
    )
    return Pricing((Period(((0, rates),)),), "user")


def _parse_price_file(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read price file {path}: {exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"{path} is not valid JSON: {exc}") from exc
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ConfigurationError(
            f"{path}: reading TOML needs Python 3.11 or later; write the prices as JSON"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from exc


def load_price_file(path: Path) -> dict[tuple[str, str], Pricing]:
    """``{(provider or "", model): Pricing}`` from ``[[models]]`` entries of a price file."""
    data = _parse_price_file(path)
    entries = data.get("models") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigurationError(f"{path} must hold a list named 'models' of price entries")
    out: dict[tuple[str, str], Pricing] = {}
    for i, entry in enumerate(entries):
        where = f"{path}: models[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("model"), str):
            raise ConfigurationError(f"{where} needs a 'model' name")
        provider = entry.get("provider") or ""
        if not isinstance(provider, str):
            raise ConfigurationError(f"{where}: 'provider' must be a string")
        out[(provider.lower(), str(entry["model"]).lower())] = user_pricing(entry, where)
    return out


def _config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "spyglass"


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spyglass"


def default_price_file() -> Path | None:
    """``$SPYGLASS_PRICES`` (which must exist), else the first of prices.toml / prices.json."""
    named = os.environ.get(ENV_PRICES)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"{ENV_PRICES} names {path}, which is not a file")
        return path
    for name in ("prices.toml", "prices.json"):
        path = _config_dir() / name
        if path.is_file():
            return path
    return None


class PriceBook:
    """Prices by ``(provider, model)``: the user's entries, then genai-prices, else none.

    Each lookup is cached in memory; bundled ones also in ``cache_file`` (a JSON file keyed by
    the genai-prices data it came from) so later processes skip importing genai-prices.
    """

    def __init__(
        self,
        user: Mapping[tuple[str, str], Pricing] | None = None,
        *,
        bundled: bool = True,
        cache_file: Path | None = None,
    ) -> None:
        self._user = dict(user or {})
        self._bundled = bundled
        self._cache_file = cache_file
        self._memo: dict[tuple[str, str], Pricing | None] = {}
        self._disk: object = None

    @classmethod
    def default(cls) -> PriceBook:
        """The user's price file (if any), genai-prices, and the cache in ``~/.cache``."""
        path = default_price_file()
        user = load_price_file(path) if path is not None else {}
        return cls(user, cache_file=_cache_dir() / "prices.json")

    def lookup(self, provider: str | None, model: str | None) -> Pricing | None:
        if not model:
            return None
        key = ((provider or "").lower(), model.lower())
        if key not in self._memo:
            self._memo[key] = self._find(*key)
        return self._memo[key]

    def _find(self, provider: str, model: str) -> Pricing | None:
        found = self._user.get((provider, model)) or self._user.get(("", model))
        if found is not None or not self._bundled:
            return found
        from spyglass.tracer import _cost_bundled

        if self._disk is None:
            self._disk = _cost_bundled.DiskCache(self._cache_file)
        assert isinstance(self._disk, _cost_bundled.DiskCache)
        return self._disk.lookup(provider, model)

    def cost(
        self, provider: str | None, model: str | None, usage: Usage, at_ns: int
    ) -> float | None:
        """USD for one call, or ``None`` when the model has no known price."""
        if usage.empty:
            return None
        pricing = self.lookup(provider, model)
        return None if pricing is None else pricing.cost(usage, at_ns)


def total_cost(costs: Iterable[float | None]) -> float | None:
    """The sum of the known costs; ``None`` when none is known."""
    known = [c for c in costs if c is not None]
    return sum(known) if known else None


def round_usd(value: float | None) -> float | None:
    """Rounded for JSON: far below a cent's precision, without float noise."""
    return None if value is None else round(value, 10)
