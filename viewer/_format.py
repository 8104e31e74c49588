"""Short human forms of durations, costs, tokens and times, and the styles every view shares.

The static views and the textual app format the same numbers the same way, so a cost or a
duration reads identically in ``spyglass show`` and in ``spyglass ui``. One form per kind of
value: an absolute time is ``2026-11-23 09:00:00`` in UTC (``started``; views label it UTC),
a span of time is ``812ms`` / ``3.40s`` / ``2m05s`` (``duration``). The JSON output keeps ISO
8601 with microseconds and milliseconds.
"""

from __future__ import annotations

from datetime import datetime, timezone

from spyglass.tracer._records import iso

STATUS_STYLE = {"ERROR": "bold red", "OK": "green", "UNSET": "dim"}
KIND_STYLE = {
    "LLM": "magenta",
    "RETRIEVER": "cyan",
    "TOOL": "yellow",
    "EMBEDDING": "blue",
    "AGENT": "bold magenta",
    "RERANKER": "cyan",
    "CHAIN": "white",
}
ROLE_STYLE = {"system": "yellow", "user": "cyan", "assistant": "green", "tool": "magenta"}


def duration(ms: float) -> str:
    """Milliseconds in a short human form: ``812ms``, ``3.40s``, ``2m05s``."""
    if ms < 1:
        return f"{ms:.2f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    minutes, seconds = divmod(int(ms / 1000), 60)
    return f"{minutes}m{seconds:02d}s"


def cost(usd: float | None, partial: bool = False) -> str:
    """USD with the precision that matters: ``$0.0031``, ``$1.25``; ``-`` when unknown.

    ``partial`` marks a lower bound (some calls had no known price) with a ``+``.
    """
    if usd is None:
        return "-"
    if usd == 0:
        text = "$0"
    elif usd < 0.0001:
        text = "<$0.0001"
    elif usd < 1:
        text = f"${usd:.4f}"
    else:
        text = f"${usd:,.2f}"
    return text + "+" if partial else text


def tokens(input_tokens: int | None, output_tokens: int | None, estimated: bool = False) -> str:
    """``in→out``, or ``-`` when the span reported none; ``~in→out`` when the counts are (or a
    total includes) spyglass's estimate for a model that reported no usage."""
    if not input_tokens and not output_tokens:
        return "-"
    return f"{'~' if estimated else ''}{input_tokens or 0}→{output_tokens or 0}"


def errors(count: int) -> tuple[str, str]:
    """A trace's failed spans as ``(text, style)``: ``-`` for none, the count in red (the
    root's status alone would hide a failed tool call the trace recovered from)."""
    return (str(count), "bold red") if count else ("-", "dim")


#: Before a failed span's name, so that a failure shows without colour too.
FAILED_MARK = "✗ "


def started(ns: int) -> str:
    """``2026-11-23 09:00:00``: an absolute time in UTC, to the second, as every view shows it."""
    return (iso(ns) or "")[:19].replace("T", " ")


def moment(when: datetime) -> str:
    """``started`` of a ``datetime`` (a naive one is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
