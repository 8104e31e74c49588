"""genai-prices' offline price database, reduced to spyglass ``Pricing`` and cached on disk.

genai-prices decides how a model is priced: which provider and model a name matches, which
price applies on a date, which tokens count as cached. Rather than re-implement those rules,
each price period is *measured*: genai-prices prices a handful of basis usages, and since its
token pricing is linear within an input-size tier, the differences give exact per-token rates.
A test checks the reduction against ``genai_prices.calc_price`` on many usages.

The reduced form is a few numbers per model, stored in a JSON file keyed by the genai-prices
data file it came from (a new genai-prices version starts a fresh cache). Looking a model up
there costs microseconds; importing genai-prices costs about 0.2 s, so it happens only when a
model is met for the first time.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from datetime import date, datetime, time, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from spyglass.tracer._cost import Period, Pricing, Rates

logger = logging.getLogger("spyglass")

#: Bump when the cached form changes.
CACHE_FORMAT = 1

#: OTel ``gen_ai.provider.name`` values genai-prices does not resolve by itself.
PROVIDER_ALIASES = {"x_ai": "x-ai", "gcp.gen_ai": "google"}


def data_key() -> str | None:
    """Identifies the installed genai-prices data without importing it."""
    spec = importlib.util.find_spec("genai_prices")
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data.py"
    try:
        stat = data.stat()
    except OSError:
        return None
    return f"{CACHE_FORMAT}:{stat.st_size}:{stat.st_mtime_ns}"


def _utc(value: time) -> time:
    if value.tzinfo is None:
        return value
    return datetime.combine(date(1970, 1, 1), value).astimezone(timezone.utc).time()


def _rates(model_price: Any, n: int) -> Rates:
    """Per-token rates of one tier, measured at an input size ``n`` inside that tier."""
    from genai_prices import Usage

    def price(**usage: int) -> Decimal:
        return Decimal(model_price.calc_price(Usage(**usage))["total_price"])

    base = price(input_tokens=n)
    per_input = price(input_tokens=n + 1) - base
    request = base - per_input * n
    return Rates(
        request=float(request),
        input=float(per_input),
        cache_read=float((price(input_tokens=n, cache_read_tokens=n) - request) / n),
        cache_write=float((price(input_tokens=n, cache_write_tokens=n) - request) / n),
        output=float(price(input_tokens=n, output_tokens=1) - base),
        reasoning=float(price(input_tokens=n, output_tokens=1, output_reasoning_tokens=1) - base),
    )


def _period(model_price: Any, constraint: Any) -> Period:
    from genai_prices import types

    starts = sorted(
        {
            tier.start
            for value in vars(model_price).values()
            if isinstance(value, types.TieredPrices)
            for tier in value.tiers
        }
    )
    tiers = tuple((start, _rates(model_price, start + 1)) for start in [0, *starts])
    if constraint is None:
        return Period(tiers)
    if isinstance(constraint, types.StartDateConstraint):
        return Period(tiers, since=constraint.start_date)
    if isinstance(constraint, types.TimeOfDateConstraint):
        return Period(tiers, hours=(_utc(constraint.start_time), _utc(constraint.end_time)))
    raise ValueError(f"unknown price constraint {constraint!r}")


def from_genai_prices(provider: str, model: str) -> Pricing | None:
    """The bundled price of ``model`` (at ``provider``, if named); ``None`` if it has none.

    A named provider that genai-prices does not know (a local server, a demo) means no
    price: the same model name elsewhere is no evidence of what this call cost.
    """
    from genai_prices import data_snapshot, types

    snapshot = data_snapshot.get_snapshot()
    provider_id = PROVIDER_ALIASES.get(provider, provider) or None
    try:
        found, info = snapshot.find_provider_model(model, None, provider_id, None)
    except LookupError:
        return None
    conditional = (
        info.prices
        if isinstance(info.prices, list)
        else [types.ConditionalPrice(prices=info.prices)]
    )
    try:
        periods = tuple(_period(c.prices, c.constraint) for c in conditional)
    except (ValueError, ArithmeticError) as exc:
        logger.debug("spyglass cannot price %s/%s: %s", provider, model, exc)
        return None
    return Pricing(periods, f"genai-prices {found.id}/{info.id}")


class DiskCache:
    """Bundled prices by ``(provider, model)``, remembered across processes in a JSON file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.key = data_key()
        self.entries: dict[str, object] = {}
        if path is not None and self.key is not None:
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
            if isinstance(stored, dict) and stored.get("key") == self.key:
                entries = stored.get("entries")
                self.entries = entries if isinstance(entries, dict) else {}

    def lookup(self, provider: str, model: str) -> Pricing | None:
        name = f"{provider}\t{model}"
        if name in self.entries:
            raw = self.entries[name]
            try:
                return None if raw is None else Pricing.from_json(raw)  # type: ignore[arg-type]
            except (KeyError, TypeError, ValueError):
                pass  # a damaged entry: measure it again
        if self.key is None:
            return None  # genai-prices is not installed
        pricing = from_genai_prices(provider, model)
        self.entries[name] = None if pricing is None else pricing.to_json()
        self._save()
        return pricing

    def _save(self) -> None:
        """Replace the file atomically; a cache that cannot be written only costs speed."""
        if self.path is None:
            return
        import tempfile

        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".prices-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"key": self.key, "entries": self.entries}, handle)
            os.replace(tmp, self.path)
        except OSError as exc:
            logger.debug("spyglass cannot write the price cache %s: %s", self.path, exc)
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
