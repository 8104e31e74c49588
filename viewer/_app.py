"""``spyglass ui``: the textual app, built by ``make_app`` for the CLI and the tests alike.

The app owns one ``Store`` (one read-only connection, used from worker threads under its
lock) and two screens: the trace list and a trace. ``poll_interval`` is how often the list
looks for new traces; tests pass ``None`` for a still file or a short interval to see
updates. Importing this module imports textual (about 0.4 s): the CLI imports it only when
``spyglass ui`` runs, and ``spyglass.viewer`` resolves ``make_app`` on first use, so
``spyglass --help`` stays light.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from spyglass.tracer._cost import PriceBook
from spyglass.tracer._store import Store
from spyglass.viewer._help import HelpScreen
from spyglass.viewer._list_screen import FILTER_DELAY, TraceListScreen

CSS = """
#title { height: 1; padding: 0 1; }
#filter { margin: 0 0; }
#traces { height: 1fr; }
#status { height: 1; padding: 0 1; }
#trace-header { height: auto; max-height: 5; padding: 0 1; }
#trace-body { height: 1fr; }
#spans { width: 3fr; border-right: solid $panel-lighten-2; }
#detail { width: 2fr; }
#span-line { height: 1; padding: 0 1; }
#help {
    width: 84; max-width: 100%; height: auto; padding: 1 2;
    border: round $accent; background: $surface;
}
HelpScreen { align: center middle; }
"""


class SpyglassApp(App[None]):
    """Trace list → trace (tree and details); ``?`` for help, ``q`` to quit."""

    TITLE = "spyglass"
    CSS = CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        # What a terminal user presses first; textual's default only hints at ctrl+q.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        limit: int,
        poll_interval: float | None,
        filter_delay: float = FILTER_DELAY,
        internal: bool = False,
    ) -> None:
        super().__init__()
        self.store = store
        self._internal = internal
        self._limit = limit
        self._poll_interval = poll_interval
        self._filter_delay = filter_delay

    def on_mount(self) -> None:
        self.push_screen(
            TraceListScreen(
                self.store,
                limit=self._limit,
                poll_interval=self._poll_interval,
                filter_delay=self._filter_delay,
                internal=self._internal,
            )
        )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(
    db: str | os.PathLike[str],
    *,
    store: Store | None = None,
    prices: PriceBook | None = None,
    limit: int = 200,
    poll_interval: float | None = 2.0,
    filter_delay: float = FILTER_DELAY,
    internal: bool = False,
) -> SpyglassApp:
    """The viewer over ``db`` (opened read-only unless ``store`` is given); the filter box
    applies what is typed once typing pauses for ``filter_delay`` seconds. An evaluation's
    judge calls are listed only with ``internal`` (or a ``name:spyglass.judge`` filter)."""
    return SpyglassApp(
        store if store is not None else Store(Path(db), prices=prices),
        limit=limit,
        poll_interval=poll_interval,
        filter_delay=filter_delay,
        internal=internal,
    )
