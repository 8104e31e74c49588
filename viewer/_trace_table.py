"""The trace list widget: one row per trace, keyed by trace id, cursor kept across reloads.

Reloads happen while the user reads (new traces land, the filter changes), so ``show`` puts
the cursor back on the trace it was on rather than on the same row number.

The columns fit the widget's width, as the static list does: each column is as wide as its
widest cell, the name takes what the others leave (between ``_NAME_MIN`` and ``_NAME_MAX``
cells), and when even the shortest name does not fit, the least important columns go first
(the trace id, then the span count, the cost, the tokens). The columns are laid out again
when the width or the widest cells change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from spyglass.tracer._records import TraceSummary
from spyglass.viewer import _format
from spyglass.viewer._format import STATUS_STYLE
from spyglass.viewer._safe import safe_text

#: Columns in display order; for each, the order in which narrow terminals drop it (0: never).
_COLUMNS = {
    "started UTC": 0,
    "name": 0,
    "status": 0,
    "errors": 0,
    "duration": 0,
    "spans": 2,
    "tokens": 4,
    "cost": 3,
    "trace": 1,
}
_NAME_MIN = 16
_NAME_MAX = 40
#: DataTable pads each cell with one blank on either side; the scrollbar takes two cells.
_PADDING = 2
_SCROLLBAR = 2


def _right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


def cells(s: TraceSummary) -> dict[str, Text]:
    """One trace's row, by column (the name uncut)."""
    return {
        "started UTC": Text(_format.started(s.start_ns)),
        "name": safe_text(s.name or "?", single_line=True),
        "status": Text(s.status, style=STATUS_STYLE.get(s.status, "")),
        "errors": _right(*_format.errors(s.error_count)),
        "duration": _right(_format.duration(s.duration_ms)),
        "spans": _right(str(s.span_count)),
        "tokens": _right(_format.tokens(s.input_tokens, s.output_tokens, s.tokens_estimated)),
        "cost": _right(_format.cost(s.cost_usd, s.cost_partial)),
        "trace": Text(s.trace_id[:12], style="dim"),
    }


def fit(width: int, rows: Sequence[dict[str, Text]]) -> tuple[tuple[str, int], ...]:
    """``(column, width)`` of the columns shown at ``width`` cells for these rows."""
    widths = {key: max([len(key), *(row[key].cell_len for row in rows)]) for key in _COLUMNS}
    shown = list(_COLUMNS)

    def room() -> int:
        fixed = sum(widths[key] for key in shown if key != "name")
        return width - _SCROLLBAR - fixed - _PADDING * len(shown)

    droppable = sorted((key for key in shown if _COLUMNS[key]), key=_COLUMNS.__getitem__)
    while room() < _NAME_MIN and droppable:
        shown.remove(droppable.pop(0))
    widths["name"] = max(_NAME_MIN, min(_NAME_MAX, room()))
    return tuple((key, widths[key]) for key in shown)


class TraceTable(DataTable[Text]):
    """Newest traces first; enter opens one (``DataTable.RowSelected``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._layout: tuple[tuple[str, int], ...] = ()
        self._rows: list[tuple[str, dict[str, Text]]] = []

    def on_resize(self, event: events.Resize) -> None:
        self._fill(self.current_trace_id)

    @property
    def current_trace_id(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)

    def show(self, summaries: Sequence[TraceSummary]) -> None:
        """Replace the rows, keeping the cursor on the same trace when it is still listed."""
        keep = self.current_trace_id
        self._rows = [(s.trace_id, cells(s)) for s in summaries]
        self.clear()
        self._fill(keep)

    def _fill(self, keep: str | None) -> None:
        if not self.size.width:
            return  # not laid out yet: the first resize fills the rows
        layout = fit(self.size.width, [row for _, row in self._rows])
        if layout != self._layout:
            self._layout = layout
            self.clear(columns=True)
            for key, width in layout:
                self.add_column(key, key=key, width=width)
        elif self.row_count:
            return  # a resize that changes nothing
        name_width = dict(layout)["name"]
        for trace_id, row in self._rows:
            name = row["name"].copy()
            name.truncate(name_width, overflow="ellipsis")
            self.add_row(*(name if key == "name" else row[key] for key, _ in layout), key=trace_id)
        if keep is not None and keep in {trace_id for trace_id, _ in self._rows}:
            self.move_cursor(row=self.get_row_index(keep))
