"""Static rich views: the trace list, a trace's span tree, search hits.

Pure functions from store records to rich renderables; the CLI prints them. Every piece of
stored text goes through ``safe_text`` so nothing a model wrote is interpreted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from spyglass.tracer import attributes as A
from spyglass.tracer._records import SearchHit, SpanRecord, Trace, TraceSummary, iso
from spyglass.viewer._safe import clip, safe_text

STATUS_STYLE = {"ERROR": "bold red", "OK": "green", "UNSET": "dim"}
KIND_STYLE = {
    "LLM": "magenta",
    "RETRIEVER": "cyan",
    "TOOL": "yellow",
    "EMBEDDING": "blue",
    "AGENT": "bold magenta",
    "RERANKER": "cyan",
    "CHAIN": "white",
}
ROLE_STYLE = {"system": "yellow", "user": "cyan", "assistant": "green", "tool": "magenta"}


def duration(ms: float) -> str:
    """Milliseconds in a short human form: ``812ms``, ``3.40s``, ``2m05s``."""
    if ms < 1:
        return f"{ms:.2f}ms"
    if ms < 1000:
        return f"{ms:.0f}ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f}s"
    minutes, seconds = divmod(int(ms / 1000), 60)
    return f"{minutes}m{seconds:02d}s"


def traces_table(summaries: Sequence[TraceSummary]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("TRACE", "left"),
        ("STARTED UTC", "left"),
        ("NAME", "left"),
        ("STATUS", "left"),
        ("DURATION", "right"),
        ("SPANS", "right"),
        ("TOKENS", "right"),
    )
    for column, justify in columns:
        is_name = column == "NAME"
        table.add_column(
            column,
            justify=justify,
            no_wrap=True,
            min_width=16 if is_name else None,
            ratio=1 if is_name else None,
        )
    for s in summaries:
        table.add_row(
            Text(s.trace_id[:12], style="bold"),
            (iso(s.start_ns) or "")[5:19].replace("T", " "),
            safe_text(s.name or "?", single_line=True),
            Text(s.status, style=STATUS_STYLE.get(s.status, "")),
            duration(s.duration_ms),
            str(s.span_count),
            f"{s.input_tokens}/{s.output_tokens}" if s.input_tokens or s.output_tokens else "-",
        )
    return table


def _span_label(span: SpanRecord, trace_start: int) -> Text:
    label = Text()
    label.append(f"{span.kind:<9} ", style=KIND_STYLE.get(span.kind, ""))
    label.append_text(safe_text(span.name, "bold", single_line=True))
    label.append(f"  {duration(span.duration_ms)}", style="dim")
    label.append(f"  +{duration((span.start_ns - trace_start) / 1e6)}", style="dim")
    if span.model:
        label.append("  ")
        label.append_text(safe_text(span.model, "magenta", single_line=True))
    if span.input_tokens is not None or span.output_tokens is not None:
        label.append(f"  {span.input_tokens or 0}→{span.output_tokens or 0} tok", style="dim")
    if span.status == "ERROR":
        label.append("  ERROR ", style="bold red")
        label.append_text(safe_text(clip(span.status_message or "", 80), "red"))
    return label


def _attr_text(value: object) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=None)


def _messages(raw: object) -> list[tuple[str, str]]:
    try:
        messages = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return [("?", str(raw))]
    out: list[tuple[str, str]] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        parts = message.get("parts") or []
        texts = []
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("content", "")))
            elif isinstance(part, dict) and part.get("type") == "tool_call":
                texts.append(f"→ {part.get('name')}({_attr_text(part.get('arguments'))})")
            elif isinstance(part, dict):
                texts.append(_attr_text(part))
        out.append((str(message.get("role", "?")), "\n".join(texts)))
    return out


def _details(span: SpanRecord, width: int) -> list[RenderableType]:
    """The ``--full`` panels under a span: messages, documents, input/output, tool, error."""
    body: list[RenderableType] = []
    attrs = span.attributes
    for key, title in ((A.GEN_AI_INPUT_MESSAGES, "input"), (A.GEN_AI_OUTPUT_MESSAGES, "output")):
        if key in attrs:
            text = Text()
            for role, content in _messages(attrs[key]):
                text.append(f"{role}: ", style=ROLE_STYLE.get(role, "bold"))
                text.append_text(safe_text(content))
                text.append("\n")
            text.rstrip()
            body.append(
                Panel(text, title=f"{title} messages", title_align="left", border_style="dim")
            )
    if span.documents:
        table = Table(box=None, header_style="bold", expand=False)
        for column in ("#", "score", "id", "content"):
            table.add_column(column, overflow="fold")
        for doc in span.documents:
            table.add_row(
                str(doc.position + 1),
                "-" if doc.score is None else f"{doc.score:.4f}",
                safe_text(doc.id or "", single_line=True),
                safe_text(clip(doc.content or "", max(20, width - 40))),
            )
        body.append(Panel(table, title="documents", title_align="left", border_style="dim"))
    for key, title in (
        (A.GEN_AI_RETRIEVAL_QUERY_TEXT, "query"),
        (A.GEN_AI_TOOL_CALL_ARGUMENTS, "tool arguments"),
        (A.GEN_AI_TOOL_CALL_RESULT, "tool result"),
        (A.SPYGLASS_INPUT, "input"),
        (A.SPYGLASS_OUTPUT, "output"),
    ):
        if key in attrs and not (key == A.SPYGLASS_INPUT and A.GEN_AI_INPUT_MESSAGES in attrs):
            body.append(
                Panel(
                    safe_text(_attr_text(attrs[key])),
                    title=title,
                    title_align="left",
                    border_style="dim",
                )
            )
    if A.GEN_AI_PROMPT_NAME in attrs:
        prompt = f"{attrs[A.GEN_AI_PROMPT_NAME]} v{attrs.get(A.GEN_AI_PROMPT_VERSION, '?')}"
        body.append(safe_text(f"prompt: {prompt}", "yellow"))
    for event in span.events:
        if event.get("name") == "exception":
            event_attrs = event.get("attributes") or {}
            assert isinstance(event_attrs, dict)
            summary = f"{event_attrs.get('exception.type')}: {event_attrs.get('exception.message')}"
            trace_text = str(event_attrs.get("exception.stacktrace") or "")
            body.append(
                Panel(
                    safe_text(f"{summary}\n{trace_text}".rstrip()),
                    title="error",
                    title_align="left",
                    border_style="red",
                )
            )
    return body


def trace_tree(trace: Trace, *, full: bool = False, width: int = 100) -> RenderableType:
    """The span tree with offsets and durations; ``full`` adds content panels per span."""
    s = trace.summary
    head = Text()
    head.append(f"trace {s.trace_id}", style="bold")
    head.append("  ")
    head.append_text(safe_text(s.name or "?", single_line=True))
    head.append(f"  {s.status}", style=STATUS_STYLE.get(s.status, ""))
    head.append(f"  {duration(s.duration_ms)}  {s.span_count} spans", style="dim")
    if s.input_tokens or s.output_tokens:
        head.append(f"  {s.input_tokens}→{s.output_tokens} tokens", style="dim")
    if s.session_id:
        head.append("  session ", style="dim")
        head.append_text(safe_text(s.session_id, single_line=True))
    tree = Tree(head, guide_style="dim")

    def add(node: Tree, span: SpanRecord) -> None:
        branch = node.add(_span_label(span, s.start_ns))
        if full:
            for renderable in _details(span, width):
                branch.add(renderable)
        for child in trace.children(span):
            add(branch, child)

    for root in trace.roots:
        add(tree, root)
    return tree


def search_table(hits: Sequence[SearchHit]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("TRACE", "STARTED (UTC)", "SPAN", "MATCH"):
        table.add_column(column, no_wrap=column != "MATCH", overflow="fold")
    for hit in hits:
        table.add_row(
            Text(hit.trace_id[:12], style="bold"),
            (iso(hit.start_ns) or "")[:19].replace("T", " "),
            safe_text(f"{hit.kind} {hit.span_name}", single_line=True),
            safe_text(hit.snippet, single_line=True),
        )
    return table


def empty(message: str) -> Group:
    return Group(Text(message, style="dim"))
