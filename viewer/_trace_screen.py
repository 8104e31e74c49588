"""One trace: its header, the span tree with duration bars, and the detail pane.

The trace and, for a span that rendered a registered prompt, that prompt's versions are read
in thread workers; the screen shows "loading…" meanwhile and stays responsive. A prompt read
that finishes after the cursor moved on is dropped (it is tagged with its span's id).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static

from spyglass.errors import SpyglassError
from spyglass.tracer._records import SpanRecord, Trace
from spyglass.tracer._store import Store
from spyglass.viewer._detail import DetailPane
from spyglass.viewer._messages import PromptLoaded, SpanChosen, TraceLoaded
from spyglass.viewer._prompt_info import load_prompt_info
from spyglass.viewer._safe import safe_text
from spyglass.viewer._span_tree import SpanTree
from spyglass.viewer._static import trace_header


class TraceScreen(Screen[None]):
    """Opened from the list with enter; esc goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('messages')", "Messages"),
        Binding("2", "tab('documents')", "Documents"),
        Binding("3", "tab('attributes')", "Attributes"),
        Binding("4", "tab('prompt')", "Prompt"),
    ]

    def __init__(self, store: Store, trace_id: str) -> None:
        super().__init__()
        self._store = store
        self._trace_id = trace_id
        self._span: SpanRecord | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="trace-header", markup=False)
        with Horizontal(id="trace-body"):
            yield SpanTree(id="spans")
            yield DetailPane(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="trace")
    def _load(self) -> None:
        try:
            found = self._store.trace(self._trace_id)
        except SpyglassError as exc:
            self.post_message(TraceLoaded(None, str(exc)))
            return
        self.post_message(TraceLoaded(found, scores=_scores_line(self._store, found)))

    def on_trace_loaded(self, message: TraceLoaded) -> None:
        header = self.query_one("#trace-header", Static)
        if message.trace is None:
            header.update(safe_text(message.error or "cannot read the trace", "red"))
            return
        head = trace_header(message.trace.summary, message.trace.tags)
        if message.scores is not None:
            head = Text.assemble(head, "\n", message.scores)
        header.update(head)
        tree = self.query_one(SpanTree)
        tree.load(message.trace, max(60, tree.size.width - 2))
        tree.focus()

    def on_span_chosen(self, message: SpanChosen) -> None:
        self._span = message.span
        self.query_one(DetailPane).show_span(message.span)
        if message.span.prompt_name:
            self._load_prompt(message.span)

    @work(thread=True, exclusive=True, group="prompt")
    def _load_prompt(self, span: SpanRecord) -> None:
        assert span.prompt_name is not None
        info = load_prompt_info(self._store.path, span.prompt_name, span.prompt_version)
        self.post_message(PromptLoaded(span.span_id, info))

    def on_prompt_loaded(self, message: PromptLoaded) -> None:
        if self._span is not None and self._span.span_id == message.span_id:
            self.query_one(DetailPane).show_prompt(self._span, message.info)

    def action_tab(self, key: str) -> None:
        self.query_one(DetailPane).switch(key)

    def action_back(self) -> None:
        self.app.pop_screen()


def _scores_line(store: Store, trace: Trace) -> Text | None:
    """``scores  correctness 0.80 (llm)  helpful PASS (human)`` for the header; None if none.

    Read in the loading worker through the store (every migrated file has a scores table); a
    failure to read them costs the line, not the screen.
    """
    try:
        records = store.scores(trace_id=trace.trace_id)
    except Exception:
        return None
    if not records:
        return None
    line = Text("scores", style="dim")
    for record in records[-8:]:
        score = record.score
        value = score.value
        if value is None:  # a failed evaluation (a judge's label may still say why)
            shown = score.label or "failed"
        else:
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        line.append("  ")
        line.append_text(safe_text(score.name, "bold", single_line=True))
        line.append(" ")
        line.append_text(safe_text(shown, single_line=True))
        line.append(f" ({score.source})", style="dim")
    return line
