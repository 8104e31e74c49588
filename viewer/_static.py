"""Static rich views: the trace list, a trace as a waterfall, search hits, stats.

Pure functions from store records to rich renderables; the CLI prints them on a console that
knows the terminal's width and whether it may use colour (not on a pipe). Every piece of stored
text goes through ``safe_text``, so nothing a model wrote is interpreted as markup or as a
terminal escape. Lists never wrap a row: long names end in "…" to fit the width (see
``_grid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.text import Text

from spyglass.tracer._records import SearchHit, SpanRecord, Trace, TraceSummary
from spyglass.tracer._stats import Stats
from spyglass.viewer import _content, _format
from spyglass.viewer._format import KIND_STYLE, ROLE_STYLE, STATUS_STYLE
from spyglass.viewer._grid import GAP, Column, Grid
from spyglass.viewer._index_view import index_stats_grid, span_index_line, trace_index_lines
from spyglass.viewer._safe import clip, literal, safe_text
from spyglass.viewer._waterfall import bar_cells, rows

if TYPE_CHECKING:
    # The --full panels' modules load when used: the plain list and tree do without them.
    from rich.panel import Panel

_TRACE_COLUMNS = (
    Column("TRACE", width=12),
    Column("STARTED UTC", width=19),
    Column("NAME", max_width=60),
    Column("STATUS", width=6),
    Column("ERRORS", "right", width=6),
    Column("DURATION", "right", width=8),
    Column("SPANS", "right", max_width=6),
    Column("TOKENS", "right", max_width=15),
    Column("COST", "right", max_width=10),
)


def traces_table(
    summaries: Sequence[TraceSummary], *, header: bool = True, fixed: bool = False
) -> RenderableType:
    """The trace list. ``fixed`` gives every column a set width, so lists printed one after
    another (``--follow``) line up under one header."""
    if fixed:
        columns = [
            Column(c.header, c.justify, width=c.width or c.max_width) for c in _TRACE_COLUMNS
        ]
        columns[2] = Column("NAME", width=28)
        grid = Grid(columns, header=header)
    else:
        optional = ("SPANS", "STARTED UTC", "TOKENS", "DURATION")
        grid = Grid(_TRACE_COLUMNS, stretch="NAME", optional=optional, header=header)
    for s in summaries:
        grid.add_row(
            Text(s.trace_id[:12], style="bold"),
            _format.started(s.start_ns),
            safe_text(s.name or "?", single_line=True),
            Text(s.status, style=STATUS_STYLE.get(s.status, "")),
            _format.errors(s.error_count),
            _format.duration(s.duration_ms),
            str(s.span_count),
            _format.tokens(s.input_tokens, s.output_tokens, s.tokens_estimated),
            _format.cost(s.cost_usd, s.cost_partial),
        )
    return grid


def trace_header(s: TraceSummary, tags: Sequence[str] = ()) -> Text:
    """What the trace is, then its numbers, then (when it has any) its session, user and
    tags: two or three lines."""
    head = Text()
    head.append(f"trace {s.trace_id}", style="bold")
    head.append("  ")
    head.append_text(safe_text(s.name or "?", "bold", single_line=True))
    head.append(f"  {s.status}", style=STATUS_STYLE.get(s.status, ""))
    head.append(f"\nstarted {_format.started(s.start_ns)} UTC", style="dim")
    head.append(f"  {_format.duration(s.duration_ms)}  {s.span_count} spans", style="dim")
    if s.error_count:
        head.append(f" ({s.error_count} failed)", style="red")
    if s.input_tokens or s.output_tokens:
        shown = _format.tokens(s.input_tokens, s.output_tokens, s.tokens_estimated)
        head.append(f"  {shown} tokens", style="dim")
    if s.cost_usd is not None:
        head.append(f"  {_format.cost(s.cost_usd, s.cost_partial)}", style="dim")
    who = [(label, value) for label, value in (("session", s.session_id), ("user", s.user_id))]
    who.append(("tags", ", ".join(tags) or None))
    first = True
    for label, value in who:
        if value:
            head.append("\n" if first else "  ")
            head.append(f"{label} ", style="dim")
            head.append_text(safe_text(value, single_line=True))
            first = False
    return head


#: Room the waterfall's columns other than the name and the bar need at most: kind, model,
#: tokens, cost, status, time, and the gaps between all eight columns.
_FIXED = 9 + 16 + 11 + 8 + 6 + 7 + 7 * GAP


def waterfall(trace: Trace, width: int) -> RenderableType:
    """One row per span: tree and name, kind, model, tokens, cost, status, duration, bar."""
    bar_width = max(8, min(48, (width - _FIXED) * 2 // 5))
    grid = Grid(
        (
            Column("SPAN"),
            Column("KIND", max_width=9),
            Column("MODEL", max_width=16),
            Column("TOKENS", "right", max_width=11),
            Column("COST", "right", max_width=8),
            Column("STATUS"),
            Column("TIME", "right", max_width=7),
            Column("TIMELINE", width=bar_width),
        ),
        stretch="SPAN",
        optional=("STATUS", "KIND", "COST", "TOKENS", "MODEL"),
    )
    s = trace.summary
    for row in rows(trace):
        span = row.span
        name = Text(row.guide, style="dim")
        if span.status == "ERROR":
            name.append(_format.FAILED_MARK, style="bold red")
        name.append(literal(span.name, single_line=True))
        usage_style = "dim" if span.counted_elsewhere else ""
        cost = _format.cost(span.cost_usd) if span.cost_usd is not None else ""
        status = {"ERROR": "ERROR", "OK": "ok"}.get(span.status, "-")
        # (text, style) cells: a thousand-span trace makes eight thousand of them.
        grid.add_row(
            name,
            (span.kind, KIND_STYLE.get(span.kind, "")),
            (literal(span.model or "", single_line=True), "magenta"),
            (
                _format.tokens(span.input_tokens, span.output_tokens, span.tokens_estimated),
                usage_style,
            ),
            (cost, usage_style),
            (status, STATUS_STYLE.get(span.status, "")),
            _format.duration(span.duration_ms),
            bar_cells(span, s.start_ns, s.end_ns - s.start_ns, bar_width),
        )
    return grid


def _panel(body: RenderableType, title: str, style: str = "dim") -> Panel:
    from rich.panel import Panel

    return Panel(body, title=title, title_align="left", border_style=style)


def message_text(messages: Sequence[_content.Message]) -> Text:
    text = Text()
    for message in messages:
        text.append_text(safe_text(message.role, ROLE_STYLE.get(message.role, "bold")))
        text.append(": ", style=ROLE_STYLE.get(message.role, "bold"))
        text.append_text(safe_text(message.text))
        text.append("\n")
    text.rstrip()
    return text


#: Lines of text a document's snippet may take; past that its last line ends in "…".
SNIPPET_LINES = 3
#: Below this width documents are blocks (rank, score and id over the text), not a table.
_TABLE_WIDTH = 60


def snippet(text: str, width: int, lines: int = SNIPPET_LINES) -> Text:
    """``text`` on at most ``lines`` lines of ``width`` cells, whitespace collapsed, control
    characters escaped (before wrapping, so the escapes count)."""
    import textwrap

    flat = " ".join(literal(text).split())
    wrapped = textwrap.wrap(flat, width=max(1, width)) or [""]
    if len(wrapped) > lines:
        last = wrapped[lines - 1]
        wrapped = [*wrapped[: lines - 1], last[: max(0, width - 1)] + "…"]
    return Text("\n".join(wrapped))


def documents_table(span: SpanRecord, width: int) -> RenderableType:
    """Each retrieved document's rank, score, id and text, in ``width`` cells: a table whose
    snippet column takes the room the other columns leave, or on a narrow pane (the ui's
    Documents tab) one block per document with the text over the whole width. Either way a
    snippet runs to ``SNIPPET_LINES`` lines."""
    from rich.table import Table

    ids = [safe_text(clip(doc.id or "", 24), single_line=True) for doc in span.documents]
    if width < _TABLE_WIDTH:
        blocks: list[RenderableType] = []
        for doc, shown in zip(span.documents, ids, strict=True):
            head = Text(f"{doc.position + 1}  ", style="bold")
            head.append("-" if doc.score is None else f"{doc.score:.4f}", style="cyan")
            head.append("  ")
            head.append_text(shown)
            blocks += [head, snippet(doc.content or "", width)]
        return Group(*blocks)
    # Each column pads a cell on both sides; a panel's border and padding take four more.
    id_width = max([len("id"), *(len(shown) for shown in ids)])
    room = max(20, width - 4 - (4 + 2) - (6 + 2) - (id_width + 2) - 2)
    table = Table(box=None, header_style="bold", expand=False)
    for column in ("rank", "score", "id"):
        table.add_column(column, no_wrap=True)
    table.add_column("snippet", no_wrap=True, max_width=room)
    for doc, shown in zip(span.documents, ids, strict=True):
        table.add_row(
            str(doc.position + 1),
            "-" if doc.score is None else f"{doc.score:.4f}",
            shown,
            snippet(doc.content or "", room),
        )
    return table


def details(span: SpanRecord, width: int) -> list[RenderableType]:
    """The ``--full`` panels of a span: messages, documents, tool calls, error, prompt."""
    body: list[RenderableType] = []
    for title, messages in _content.messages(span):
        body.append(_panel(message_text(messages), title))
    index = span_index_line(span)
    if index is not None:
        body.append(index)
    if span.documents:
        body.append(_panel(documents_table(span, width), f"documents ({len(span.documents)})"))
    for title, text in _content.texts(span):
        body.append(_panel(safe_text(text), title))
    problem = _content.error(span)
    if problem is not None:
        shown = safe_text(f"{problem.type}: {problem.message}", "bold red")
        if problem.traceback:
            shown.append("\n")
            shown.append_text(safe_text(problem.traceback))
        body.append(_panel(shown, "error", "red"))
    prompt = _content.prompt(span)
    if prompt is not None:
        body.append(safe_text(f"prompt {prompt[0]}@{prompt[1] or '?'}", "yellow"))
    return body


def trace_view(trace: Trace, *, full: bool = False, width: int = 100) -> RenderableType:
    """The waterfall; ``full`` adds, span by span, the content panels under a rule."""
    parts: list[RenderableType] = [
        trace_header(trace.summary, trace.tags),
        *trace_index_lines(trace),
        waterfall(trace, width),
    ]
    if full:
        from rich.rule import Rule

        for row in rows(trace):
            panels = details(row.span, width)
            if panels:
                title = safe_text(f"{row.span.kind} {row.span.name}", single_line=True)
                parts.append(Rule(title, align="left", style="dim"))
                parts.extend(panels)
    return Group(*parts)


def search_table(hits: Sequence[SearchHit]) -> RenderableType:
    """One line per matching span; the matching passage gets the room that is left."""
    grid = Grid(
        (
            Column("TRACE", width=12),
            Column("STARTED UTC", width=19),
            Column("SPAN", max_width=32),
            Column("MATCH"),
        ),
        stretch="MATCH",
        optional=("STARTED UTC",),
    )
    for hit in hits:
        grid.add_row(
            Text(hit.trace_id[:12], style="bold"),
            _format.started(hit.start_ns),
            safe_text(f"{hit.kind} {hit.span_name}", single_line=True),
            safe_text(hit.snippet, single_line=True),
        )
    return grid


def _ms(value: float | None) -> str:
    return "-" if value is None else _format.duration(value)


def stats_view(stats: Stats) -> RenderableType:
    """Per model, then per prompt version, then per prompt version × index."""
    numbers = [
        Column(name, "right")
        for name in ("CALLS", "ERRORS", "INPUT", "OUTPUT", "COST", "P50", "P95")
    ]
    models = Grid(
        [Column("MODEL", max_width=40), Column("PROVIDER", max_width=16), *numbers],
        stretch="MODEL",
        optional=("PROVIDER", "P95", "ERRORS", "INPUT", "OUTPUT"),
    )
    for m in stats.models:
        approx = "~" if m.tokens_estimated else ""
        models.add_row(
            safe_text(m.model, "magenta", single_line=True),
            safe_text(m.provider or "-", single_line=True),
            str(m.calls),
            Text(str(m.errors), style="red" if m.errors else ""),
            f"{approx}{m.input_tokens:,}",
            f"{approx}{m.output_tokens:,}",
            _format.cost(m.cost_usd, m.cost_partial),
            _ms(m.p50_ms),
            _ms(m.p95_ms),
        )
    parts: list[RenderableType] = [models if stats.models else empty("no model calls")]
    if stats.prompts:
        figures = [Column(name, "right") for name in ("RUNS", "ERRORS", "P50", "INPUT", "OUTPUT")]
        prompts = Grid(
            [Column("PROMPT", max_width=40), *figures],
            stretch="PROMPT",
            optional=("INPUT", "OUTPUT"),
        )
        for p in stats.prompts:
            prompts.add_row(
                safe_text(p.label, "yellow", single_line=True),
                str(p.runs),
                Text(str(p.errors), style="red" if p.errors else ""),
                _ms(p.p50_ms),
                f"{p.input_tokens:,}",
                f"{p.output_tokens:,}",
            )
        parts += [Text(""), prompts]
    if stats.indexes:
        parts += [Text(""), index_stats_grid(stats.indexes)]
    return Group(*parts)


def empty(message: str) -> Group:
    return Group(Text(message, style="dim"))
