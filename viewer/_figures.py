"""How the evaluation views write numbers: one precision for each kind of figure.

A score or a mean has three decimals (``0.889``, ``1.000``), a rate is a percentage with one
(``88.9%``), a latency is a length of time as every view writes one (``13ms``, ``2.40s``). A
delta is written like its figure with a sign (``-0.889``, ``-88.9%``, ``-7ms``): the change
of a rate is in percentage points. So ``eval show``, ``eval list`` and ``eval compare`` print
the same figure the same way.
"""

from __future__ import annotations

from rich.text import Text

from spyglass.viewer._format import duration

__all__ = ["delta", "figure", "number", "percent"]


def _value(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def number(value: object) -> str:
    """A score or a mean: three decimals."""
    found = _value(value)
    return "-" if found is None else f"{found:.3f}"


def percent(value: object) -> str:
    """A rate in 0..1 as a percentage with one decimal."""
    found = _value(value)
    return "-" if found is None else f"{100 * found:.1f}%"


def _kind(metric: str) -> str:
    """``rate``, ``time`` (``latency_p50_ms``; not a score named ``latency``) or ``number``."""
    if metric.endswith(("pass_rate", "error_rate")):
        return "rate"
    return "time" if metric.startswith("latency_") and metric.endswith("_ms") else "number"


def figure(metric: str, value: object) -> str:
    """``value`` of a metric named as ``eval compare`` names them (``error_rate``,
    ``latency_p50_ms``, ``exact_match.mean``, ``exact_match.pass_rate``)."""
    found = _value(value)
    if found is None:
        return "-"
    kind = _kind(metric)
    if kind == "rate":
        return percent(found)
    return duration(found) if kind == "time" else number(found)


def delta(metric: str, value: float | None) -> Text:
    """The change from A to B, green when better (lower for errors and latency)."""
    if value is None:
        return Text("-", style="dim")
    if abs(value) < 1e-12:
        return Text(figure(metric, 0.0), style="dim")
    sign = "+" if value > 0 else "-"
    shown = sign + figure(metric, abs(value))
    lower_is_better = metric == "error_rate" or _kind(metric) == "time"
    good = (value < 0) if lower_is_better else (value > 0)
    return Text(shown, style="green" if good else "red")
