"""The first screen: the filter box over the trace list, kept live while it is open.

Every store read runs in a thread worker and reports back with a message, so typing and
scrolling never wait on SQLite. Live updates poll ``PRAGMA data_version`` (a counter SQLite
bumps when another connection commits): a poll that finds no change costs one tiny query and
no reload. Results carry a generation number, so a slow, stale load never overwrites a newer
filter's rows.

The filter applies as you type, once typing pauses for ``filter_delay`` seconds (each key
restarts the wait, so a word typed quickly costs one query, not one per letter); enter applies
it at once and goes back to the list.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from spyglass.errors import SpyglassError
from spyglass.tracer._follow import data_version
from spyglass.tracer._store import Store
from spyglass.viewer._messages import StoreChanged, TracesLoaded
from spyglass.viewer._query import TraceQuery, parse_query
from spyglass.viewer._safe import safe_text
from spyglass.viewer._trace_table import TraceTable

PLACEHOLDER = "/ to filter: words  model:NAME  status:error  has:error  prompt:NAME@V  session:ID"
#: Seconds of no typing after which the filter box's text applies.
FILTER_DELAY = 0.3


class TraceListScreen(Screen[None]):
    """Newest traces first, filtered by the box above them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "leave_filter", "Back to list", show=False),
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
        self._store = store
        self._internal = internal
        self._limit = limit
        self._poll_interval = poll_interval
        self._filter_delay = filter_delay
        self._typing: Timer | None = None
        self._counted = Text("loading…", style="dim")
        self._query = TraceQuery()
        self._generation = 0
        self._version: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"spyglass  {self._store.path.name}", style="bold"), id="title")
        yield Input(placeholder=PLACEHOLDER, id="filter")
        yield TraceTable(id="traces")
        yield Static(Text("loading…", style="dim"), id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TraceTable).focus()
        self.reload()
        if self._poll_interval:
            self.set_interval(self._poll_interval, self._check_store)

    def reload(self) -> None:
        self._generation += 1
        self._load(self._query, self._generation)

    @work(thread=True, exclusive=True, group="list")
    def _load(self, query: TraceQuery, generation: int) -> None:
        try:
            # Read the version first: a write after it triggers another reload, never a miss.
            self._version = data_version(self._store)
            filters = query.filters()
            filters["internal"] = self._internal
            found = self._store.traces(limit=self._limit, **filters)
        except SpyglassError as exc:
            self.post_message(TracesLoaded([], generation, str(exc)))
            return
        self.post_message(TracesLoaded(found, generation))

    @work(thread=True, exclusive=True, group="poll")
    def _check_store(self) -> None:
        try:
            version = data_version(self._store)
        except SpyglassError:
            return  # the next poll tries again; the list keeps what it shows
        if self._version is not None and version != self._version:
            self.post_message(StoreChanged())

    def on_store_changed(self, _: StoreChanged) -> None:
        self.reload()

    def on_traces_loaded(self, message: TracesLoaded) -> None:
        if message.generation != self._generation:
            return  # a newer filter's load is on its way
        self.query_one(TraceTable).show(message.summaries)
        status = self.query_one("#status", Static)
        if message.error:
            status.update(safe_text(message.error, "red"))
            return
        count = len(message.summaries)
        text = f"{count} trace{'s' if count != 1 else ''}"
        if count == self._limit:
            text += f" (newest {self._limit})"
        if not self._query.empty:
            text += " matching the filter"
        self._counted = Text(text + "  ·  enter: open  /: filter  ?: help", style="dim")
        status.update(self._counted)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(self._filter_delay, lambda: self._apply(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._typing is not None:
            self._typing.stop()
        if self._apply(event.value):
            self.query_one(TraceTable).focus()

    def _apply(self, text: str) -> bool:
        """Filter by ``text``; False (and the reason on the status line) if it does not parse.
        A filter equal to the one shown costs no reload."""
        try:
            query = parse_query(text)
        except SpyglassError as exc:
            self.query_one("#status", Static).update(safe_text(str(exc), "red"))
            return False
        if query != self._query:
            self._query = query
            self.reload()
        else:  # back to the filter shown: put its count back over an error typed meanwhile
            self.query_one("#status", Static).update(self._counted)
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._open(str(event.row_key.value))

    def _open(self, trace_id: str) -> None:
        # Imported on first use: the first screen appears sooner without the trace screen's
        # modules (the tree, the tabs, rich panels).
        from spyglass.viewer._trace_screen import TraceScreen

        self.app.push_screen(TraceScreen(self._store, trace_id))

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(TraceTable).focus()
