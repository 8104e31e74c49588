"""The trace list widget: one row per trace, keyed by trace id, cursor kept across reloads.

Reloads happen while the user reads (new traces land, the filter changes), so ``show`` puts
the cursor back on the trace it was on rather than on the same row number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from spyglass.tracer._records import TraceSummary
from spyglass.viewer import _format
from spyglass.viewer._format import STATUS_STYLE
from spyglass.viewer._safe import safe_text

_COLUMNS = (
    "started (UTC)",
    "name",
    "status",
    "errors",
    "duration",
    "spans",
    "tokens",
    "cost",
    "trace",
)

_NAME_WIDTH = 40


def _right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


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

    def on_mount(self) -> None:
        for column in _COLUMNS:
            # A long name (a whole question, say) must not push the numbers off the screen.
            width = _NAME_WIDTH if column == "name" else None
            self.add_column(column, key=column, width=width)

    @property
    def current_trace_id(self) -> str | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)

    def show(self, summaries: Sequence[TraceSummary]) -> None:
        """Replace the rows, keeping the cursor on the same trace when it is still listed."""
        keep = self.current_trace_id
        self.clear()
        for s in summaries:
            name = safe_text(s.name or "?", single_line=True)
            name.truncate(_NAME_WIDTH, overflow="ellipsis")
            self.add_row(
                Text(_format.started(s.start_ns)),
                name,
                Text(s.status, style=STATUS_STYLE.get(s.status, "")),
                _right(*_format.errors(s.error_count)),
                _right(_format.duration(s.duration_ms)),
                _right(str(s.span_count)),
                _right(_format.tokens(s.input_tokens, s.output_tokens, s.tokens_estimated)),
                _right(_format.cost(s.cost_usd, s.cost_partial)),
                Text(s.trace_id[:12], style="dim"),
                key=s.trace_id,
            )
        if keep is not None and keep in {s.trace_id for s in summaries}:
            self.move_cursor(row=self.get_row_index(keep))
