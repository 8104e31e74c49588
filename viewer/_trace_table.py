"""The trace list widget: one row per trace, keyed by trace id, cursor kept across reloads.

Reloads happen while the user reads (new traces land, the filter changes), so ``show`` puts
the cursor back on the trace it was on rather than on the same row number.

The columns fit the widget's width, as the static list does: the name takes what the others
leave (between ``_NAME_MIN`` and ``_NAME_MAX`` cells), and when even the shortest name does
not fit, the least important columns go first (the trace id, then the span count, the cost,
the tokens). The rows are rebuilt from the last summaries when the set of columns changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from spyglass.tracer._records import TraceSummary
from spyglass.viewer import _format
from spyglass.viewer._format import STATUS_STYLE
from spyglass.viewer._safe import safe_text


class _Column(NamedTuple):
    key: str
    width: int
    drop: int
    """Order in which narrow terminals drop the column (0: never)."""


_COLUMNS = (
    _Column("started UTC", 19, 0),
    _Column("name", 0, 0),
    _Column("status", 6, 0),
    _Column("errors", 6, 0),
    _Column("duration", 8, 0),
    _Column("spans", 5, 2),
    _Column("tokens", 11, 4),
    _Column("cost", 8, 3),
    _Column("trace", 12, 1),
)
_NAME_MIN = 16
_NAME_MAX = 40
#: DataTable pads each cell with one blank on either side; the scrollbar takes two cells.
_PADDING = 2
_SCROLLBAR = 2


def _right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


def fit(width: int) -> tuple[list[_Column], int]:
    """The columns shown at ``width`` cells, and the name's width."""
    columns = list(_COLUMNS)

    def rest() -> int:
        fixed = sum(c.width for c in columns if c.key != "name")
        return width - _SCROLLBAR - fixed - _PADDING * len(columns)

    droppable = sorted((c for c in columns if c.drop), key=lambda c: c.drop)
    while rest() < _NAME_MIN and droppable:
        columns.remove(droppable.pop(0))
    return columns, max(_NAME_MIN, min(_NAME_MAX, rest()))


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
        self._layout: tuple[tuple[str, ...], int] = ((), 0)
        self._summaries: Sequence[TraceSummary] = ()

    def on_resize(self, event: events.Resize) -> None:
        columns, name_width = fit(event.size.width)
        layout = (tuple(c.key for c in columns), name_width)
        if layout != self._layout:
            self._layout = layout
            keep = self.current_trace_id
            self.clear(columns=True)
            for column in columns:
                width = name_width if column.key == "name" else column.width
                self.add_column(column.key, key=column.key, width=width)
            self._fill(keep)

    @property
    def current_trace_id(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)

    def show(self, summaries: Sequence[TraceSummary]) -> None:
        """Replace the rows, keeping the cursor on the same trace when it is still listed."""
        keep = self.current_trace_id
        self._summaries = summaries
        self.clear()
        self._fill(keep)

    def _fill(self, keep: str | None) -> None:
        shown, name_width = self._layout
        if not shown:
            return  # not laid out yet: the first resize fills the rows
        for s in self._summaries:
            name = safe_text(s.name or "?", single_line=True)
            name.truncate(name_width, overflow="ellipsis")
            cells = {
                "started UTC": Text(_format.started(s.start_ns)),
                "name": name,
                "status": Text(s.status, style=STATUS_STYLE.get(s.status, "")),
                "errors": _right(*_format.errors(s.error_count)),
                "duration": _right(_format.duration(s.duration_ms)),
                "spans": _right(str(s.span_count)),
                "tokens": _right(
                    _format.tokens(s.input_tokens, s.output_tokens, s.tokens_estimated)
                ),
                "cost": _right(_format.cost(s.cost_usd, s.cost_partial)),
                "trace": Text(s.trace_id[:12], style="dim"),
            }
            self.add_row(*(cells[key] for key in shown), key=s.trace_id)
        if keep is not None and keep in {s.trace_id for s in self._summaries}:
            self.move_cursor(row=self.get_row_index(keep))
