"""The ``?`` screen: every key of the viewer and the filter syntax, on one page."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("j / k, ↓ / ↑", "move in the list or the span tree"),
    ("enter", "open the trace under the cursor"),
    ("esc", "back to the list (or leave the filter box)"),
    ("/", "filter as you type: words, model:NAME, prompt:NAME@V,"),
    ("", "session:ID, status:error (root failed),"),
    ("", "has:error (any span failed), name:PREFIX, tag:TAG;"),
    ("", "enter: back to the list"),
    ("1 2 3 4", "detail tabs: Messages, Documents, Attributes, Prompt"),
    ("tab", "move focus between the tree and the tabs"),
    ("?", "this help"),
    ("q, ctrl+c", "quit"),
)
#: What the views' marks mean.
LEGEND = "✗ a failed span   ~ estimated tokens   times in UTC"


def help_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    """Keys and filter syntax; any of esc, q, ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Text("spyglass — keys", style="bold"), markup=False)
            yield Static(help_table(), markup=False)
            yield Static(Text(LEGEND), markup=False)
            yield Static(
                Text("New traces appear while the list is open.", style="dim"), markup=False
            )
