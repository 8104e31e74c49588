"""The detail pane: one span's summary line over tabs Messages, Documents, Attributes, Prompt.

It draws with the same renderables as ``spyglass show --full`` (messages role-coloured,
documents ranked with scores, errors with tracebacks), so the two views never disagree. Every
``Static`` gets ``Text`` or rich renderables built through ``safe_text`` and has markup off.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.highlighter import JSONHighlighter
from rich.panel import Panel
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from spyglass.tracer._records import SpanRecord
from spyglass.viewer import _content, _format, _static
from spyglass.viewer._format import KIND_STYLE, STATUS_STYLE
from spyglass.viewer._index_view import span_index_line
from spyglass.viewer._prompt_info import PromptInfo
from spyglass.viewer._safe import safe_text

#: (id, title, short title): the short titles when the pane is too narrow for the long ones
#: (an 80-column terminal gives it about 32 cells).
TABS = (
    ("messages", "Messages", "Msgs"),
    ("documents", "Documents", "Docs"),
    ("attributes", "Attributes", "Attrs"),
    ("prompt", "Prompt", "Prompt"),
)
#: Cells the long titles take in the tab bar (each tab pads its title by one on each side).
_TAB_BAR = sum(len(title) + 2 for _, title, _ in TABS)


def span_line(span: SpanRecord) -> Text:
    line = Text(f"{span.kind} ", style=KIND_STYLE.get(span.kind, ""))
    line.append_text(safe_text(span.name, "bold", single_line=True))
    line.append(f"  {span.status}", style=STATUS_STYLE.get(span.status, ""))
    line.append(f"  {_format.duration(span.duration_ms)}", style="dim")
    if span.model:
        line.append("  ")
        line.append_text(safe_text(span.model, "magenta", single_line=True))
    if span.input_tokens is not None or span.output_tokens is not None:
        shown = _format.tokens(span.input_tokens, span.output_tokens, span.tokens_estimated)
        line.append(f"  {shown} tok", "dim")
    if span.cost_usd is not None:
        line.append(f"  {_format.cost(span.cost_usd)}", style="dim")
    return line


def content_view(span: SpanRecord, width: int) -> RenderableType:
    """Messages, then the other texts (query, tool call, input, output), then the error."""
    parts = [p for p in _static.details(span, width) if isinstance(p, Panel)]
    return Group(*parts) if parts else Text("no messages or content recorded", style="dim")


def documents_view(span: SpanRecord, width: int) -> RenderableType:
    index = span_index_line(span)
    if not span.documents:
        empty = Text("no retrieved documents", style="dim")
        return empty if index is None else Group(index, empty)
    table = _static.documents_table(span, width)
    return table if index is None else Group(index, table)


def attributes_view(span: SpanRecord) -> Text:
    return JSONHighlighter()(safe_text(_content.attributes_json(span)))


def prompt_view(span: SpanRecord, info: PromptInfo | None) -> RenderableType:
    prompt = _content.prompt(span)
    if prompt is None:
        return Text("this span rendered no registered prompt", style="dim")
    head = safe_text(f"{prompt[0]}@{prompt[1] or '?'}", "bold yellow", single_line=True)
    if info is None:
        return Group(head, Text("reading the registry…", style="dim"))
    parts: list[RenderableType] = [head]
    if info.note:
        parts.append(safe_text(info.note, "dim"))
    if info.message or info.created_at:
        parts.append(safe_text(f"{info.created_at or ''}  {info.message or ''}".strip(), "dim"))
    if info.template is not None:
        parts.append(Panel(safe_text(info.template), title="template", title_align="left"))
    if info.diff is not None:
        parts.append(Panel(diff_text(info.diff), title=f"diff from v{info.previous}"))
    elif info.template is not None:
        parts.append(Text("first version: nothing to compare with", style="dim"))
    return Group(*parts)


def diff_text(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines():
        style = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1], "")
        text.append_text(safe_text(line, style))
        text.append("\n")
    text.rstrip()
    return text if text.plain else Text("templates are identical", style="dim")


class DetailPane(Vertical):
    """What the highlighted span holds."""

    def compose(self) -> ComposeResult:
        yield Static(Text("select a span", style="dim"), id="span-line", markup=False)
        with TabbedContent(id="tabs"):
            for key, title, _ in TABS:
                with TabPane(title, id=key), VerticalScroll():
                    yield Static(Text(""), id=f"{key}-body", markup=False)

    def on_resize(self, event: events.Resize) -> None:
        short = event.size.width < _TAB_BAR
        tabs = self.query_one(TabbedContent)
        for key, title, brief in TABS:
            tabs.get_tab(key).label = brief if short else title

    def _body(self, key: str) -> Static:
        return self.query_one(f"#{key}-body", Static)

    def show_span(self, span: SpanRecord) -> None:
        # The tabs' scroll area: the pane less its scrollbar and a cell of margin.
        width = max(24, self.size.width - 3)
        self.query_one("#span-line", Static).update(span_line(span))
        self._body("messages").update(content_view(span, width))
        self._body("documents").update(documents_view(span, width))
        self._body("attributes").update(attributes_view(span))
        self._body("prompt").update(prompt_view(span, None))

    def show_prompt(self, span: SpanRecord, info: PromptInfo) -> None:
        self._body("prompt").update(prompt_view(span, info))

    def switch(self, key: str) -> None:
        self.query_one(TabbedContent).active = key
