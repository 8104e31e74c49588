"""The index that answered a retrieval, as the views show it.

One line per index (``index InMemoryVectorStore docs · DeterministicFakeEmbedding 16d · 1,000
docs · fingerprint 82b6dddff5918390``) under a trace's header and in a retriever's ``--full``
panel and detail pane; a table of runs per prompt version × index in ``spyglass stats``; the
linked-runs table of ``prompts diff`` split by index when more than one answered. Everything
read from the file goes through ``safe_text``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from spyglass.tracer import attributes as A
from spyglass.tracer._records import SpanRecord, Trace
from spyglass.viewer import _format
from spyglass.viewer._grid import Column, Grid
from spyglass.viewer._safe import safe_text

if TYPE_CHECKING:
    from rich.table import Table

    from spyglass.prompts._index_runs import IndexRunStats
    from spyglass.tracer._index_stats import IndexRuns


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def index_key(attributes: Mapping[str, object]) -> tuple[str, ...] | None:
    """The index facts of a span, in display order; None for a span without them."""
    if A.SPYGLASS_INDEX_CLASS not in attributes:
        return None
    return tuple(_text(attributes.get(name)) or "" for name in A.INDEX_ATTRIBUTES)


def index_line(attributes: Mapping[str, object]) -> Text | None:
    """``index <class> <name> · <model> <dim>d · <n> docs · fingerprint <hex>``."""
    key = index_key(attributes)
    if key is None:
        return None
    cls, name, model, dimension, count, fingerprint = key
    line = Text("index ", style="dim")
    line.append_text(safe_text(f"{cls} {name}".strip(), "cyan", single_line=True))
    if model or dimension:
        embedded = f"{model} {dimension}d" if dimension else model
        line.append(" · ", style="dim")
        line.append_text(safe_text(embedded.strip(), single_line=True))
    if count:
        line.append(f" · {int(count):,} docs" if count.isdigit() else "", style="dim")
    line.append(" · fingerprint ", style="dim")
    line.append_text(safe_text(fingerprint or "-", "bold", single_line=True))
    return line


def trace_index_lines(trace: Trace) -> list[Text]:
    """One line per distinct index the trace's retrievals asked, in the order first asked."""
    seen: dict[tuple[str, ...], Text] = {}
    for span in trace.spans:
        if span.kind != "RETRIEVER":
            continue
        key = index_key(span.attributes)
        if key is not None and key not in seen:
            line = index_line(span.attributes)
            if line is not None:
                seen[key] = line
    return list(seen.values())


def span_index_line(span: SpanRecord) -> Text | None:
    return index_line(span.attributes) if span.kind == "RETRIEVER" else None


def index_stats_grid(indexes: Sequence[IndexRuns]) -> Grid:
    """``spyglass stats``: runs per prompt version × index."""
    grid = Grid(
        [
            Column("PROMPT", max_width=28),
            Column("INDEX", max_width=40),
            Column("FINGERPRINT", width=16),
            *(Column(name, "right") for name in ("DOCS", "RUNS", "ERRORS", "P50")),
        ],
        stretch="INDEX",
        optional=("DOCS", "P50"),
    )
    for i in indexes:
        label = f"{i.index_class} {i.index_name or ''}".strip()
        grid.add_row(
            safe_text(i.prompt or "-", "yellow", single_line=True),
            safe_text(label, "cyan", single_line=True),
            safe_text(i.fingerprint or "-", single_line=True),
            "-" if i.document_count is None else f"{i.document_count:,}",
            str(i.runs),
            Text(str(i.errors), style="red" if i.errors else ""),
            "-" if i.p50_ms is None else _format.duration(i.p50_ms),
        )
    return grid


def runs_by_index_table(refs: tuple[str, str], split: Sequence[IndexRunStats]) -> Table:
    """``prompts diff``: each version's linked runs per index that answered them."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("BY INDEX")
    table.add_column("FINGERPRINT")
    for ref in refs:
        table.add_column(f"{ref} runs", justify="right")
        table.add_column("errors", justify="right")
        table.add_column("median", justify="right")
    for index in split:
        cells: list[Text | str] = [
            safe_text(index.label, "cyan", single_line=True),
            safe_text(index.fingerprint or "-", single_line=True),
        ]
        for runs in (index.a, index.b):
            rate = runs.error_rate
            cells.append(str(runs.runs))
            cells.append("-" if rate is None else f"{rate * 100:.1f}%")
            latency = runs.median_latency_ms
            cells.append("-" if latency is None else _format.duration(latency))
        table.add_row(*cells)
    return table
