"""A trace as waterfall rows: the span tree flattened in display order, and duration bars.

Both ``spyglass show`` and the textual trace screen draw the same rows: tree guides, then each
span's offset and duration as a bar against the trace's whole duration, in eighth-of-a-cell
steps so that short spans stay visible and neighbours stay distinguishable.

The walk is iterative: an agent loop can nest spans deeper than Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from spyglass.tracer._records import SpanRecord, Trace
from spyglass.viewer._format import KIND_STYLE

_EIGHTHS = " ▏▎▍▌▋▊▉█"
#: A bar that starts inside a cell and runs on: only right halves and eighths exist as glyphs.
_RIGHT = "█▐▐▕"
#: Guides deeper than this collapse into a marker, so the name keeps some room.
MAX_GUIDE_DEPTH = 12


@dataclass(frozen=True)
class Row:
    """One span in display order, with the tree guide drawn before its name."""

    span: SpanRecord
    depth: int
    guide: str


def rows(trace: Trace) -> list[Row]:
    """Spans depth-first in start order, each with ``├─`` / ``└─`` / ``│`` guides."""
    out: list[Row] = []
    # (span, depth, guides of the ancestors, is the last child)
    roots = trace.roots
    stack: list[tuple[SpanRecord, int, str, bool]] = [
        (roots[i], 0, "", i == len(roots) - 1) for i in range(len(roots) - 1, -1, -1)
    ]
    while stack:
        span, depth, above, last = stack.pop()
        guide = "" if depth == 0 else above + ("└─ " if last else "├─ ")
        if depth > MAX_GUIDE_DEPTH:
            guide = f"┄{depth}┄ " + guide[-3 * MAX_GUIDE_DEPTH :]
        out.append(Row(span, depth, guide))
        below = "" if depth == 0 else above + ("   " if last else "│  ")
        children = trace.children(span)
        for i in range(len(children) - 1, -1, -1):
            stack.append((children[i], depth + 1, below, i == len(children) - 1))
    return out


def bar(span: SpanRecord, trace_start: int, trace_ns: int, width: int) -> Text:
    """The span's offset and duration as a bar ``width`` cells wide, styled by kind."""
    cells, style = bar_cells(span, trace_start, trace_ns, width)
    return Text(cells, style=style)


def bar_cells(span: SpanRecord, trace_start: int, trace_ns: int, width: int) -> tuple[str, str]:
    """``bar`` as its characters and its style (lists of a thousand rows skip the ``Text``)."""
    if width <= 0:
        return "", ""
    total = max(trace_ns, 1)
    start = max(0, min(width * 8 - 1, (span.start_ns - trace_start) * width * 8 // total))
    end = (span.end_ns - trace_start) * width * 8 // total
    end = max(start + 1, min(width * 8, end))
    first, last = start // 8, (end - 1) // 8
    if first == last or start == first * 8:
        head = _EIGHTHS[min(end, (first + 1) * 8) - start]  # from its left edge, or ends here
    else:
        head = _RIGHT[(start - first * 8 + 1) // 3]  # starts inside the cell and runs on
    middle = "█" * max(0, last - first - 1)
    tail = _EIGHTHS[end - last * 8] if last > first else ""
    cells = " " * first + head + middle + tail
    style = "red" if span.status == "ERROR" else KIND_STYLE.get(span.kind, "white")
    return cells.ljust(width), style
