"""Terminal views of evaluation runs: the run list and one run (``_eval_compare``: two runs).

Tables are laid out for the width they are printed at: text columns (inputs, outputs, the
scores headline) take what the fixed ones leave, and in the run list the less important
columns go first on a narrow terminal. Inputs and outputs are model text, so they go through
the viewer's ``safe_text`` (control characters shown as escapes, markup never interpreted);
they are clipped to their column on one line, or with ``full`` shown whole, wrapped.
Figures are written as ``_figures`` says: one precision for each kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from spyglass.evaluation._case import text_of
from spyglass.evaluation._records import EvalResult, EvalRow, RunInfo
from spyglass.tracer._score_stats import ScoreSummary
from spyglass.tracer._score_types import Score
from spyglass.tracer._scores import ScoreRecord
from spyglass.viewer._figures import number, percent
from spyglass.viewer._format import duration, started
from spyglass.viewer._grid import Column, Grid
from spyglass.viewer._safe import clip, literal, safe_text

#: The width of a text column when nothing else says (a view built without a width).
CELL = 36
#: Padding rich puts between two columns of ``_table``.
PAD = 3


def eval_table(
    *columns: str,
    right: Sequence[str] = (),
    flexible: Sequence[str] = (),
    widths: Mapping[str, int] | None = None,
    wrap: bool = False,
) -> Table:
    """Columns keep their header's width, except ``flexible`` (text) ones, which give way
    first when the terminal is narrow; ``wrap``: flexible columns wrap rather than end in
    "…"."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        wraps = wrap and column in flexible
        table.add_column(
            column,
            justify="right" if column in right else "left",
            no_wrap=not wraps,
            overflow="fold" if wraps else "ellipsis",
            min_width=(widths or {}).get(column, 8 if column in flexible else len(column)),
        )
    return table


def short(value: object, width: int | None = CELL) -> Text:
    """Model text on one line clipped to ``width``; ``None``: whole (for a wrapping column)."""
    text = text_of(value)
    if width is None:
        return safe_text(text)
    return safe_text(clip(text, width), single_line=True)


def score_text(value: object) -> str:
    """A score's value as the views write it: ``true`` / ``false``, a number, a label."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    return text_of(value)


def _score_cell(score: Score | None) -> Text:
    if score is None:
        return Text("·", style="dim")
    if score.failed:
        return Text("err", style="yellow")
    style = {True: "green", False: "red"}.get(score.passed, "")  # type: ignore[arg-type]
    if isinstance(score.value, bool):
        return Text("✓" if score.value else "✗", style=style)
    if isinstance(score.value, str):
        return safe_text(clip(score.value, 12), style, single_line=True)
    return Text(number(score.value), style=style)


def _headline(metrics: Mapping[str, object]) -> str:
    """Every score's pass rate (or mean, when it has no verdicts), in evaluator order."""
    scores = metrics.get("scores")
    parts = []
    for name, figures in scores.items() if isinstance(scores, Mapping) else []:
        if isinstance(figures, Mapping):
            rate = figures.get("pass_rate")
            shown = percent(rate) if rate is not None else number(figures.get("mean"))
            parts.append(f"{name} {shown}")
    return ", ".join(parts)


_RUN_COLUMNS = (
    Column("RUN", width=16),
    Column("NAME", max_width=40),
    Column("DATASET", max_width=28),
    Column("EXAMPLES", "right"),
    Column("ERRORS", "right"),
    Column("STARTED", width=16),
    Column("TOOK", "right", max_width=8),
    Column("STATUS", max_width=9),
    Column("SCORES"),
)


def runs_table(runs: Sequence[RunInfo]) -> RenderableType:
    """The run list, fitted to the width: the scores take what is left; on a narrow terminal
    TOOK, DATASET, STARTED and EXAMPLES go first."""
    grid = Grid(_RUN_COLUMNS, stretch="SCORES", optional=("TOOK", "DATASET", "STARTED", "EXAMPLES"))
    for run in runs:
        errors = run.metrics.get("errors", "-")
        took = run.duration_ms
        grid.add_row(
            Text(run.run_id, style="cyan"),
            safe_text(run.name, "bold", single_line=True),
            safe_text(run.dataset_name or "-", single_line=True),
            str(run.example_count),
            Text(str(errors), style="red" if errors else ""),
            started(run.started_ns)[:16],  # to the minute: room for the scores
            "-" if took is None else duration(took),
            Text(run.status, style={"failed": "red", "running": "yellow"}.get(run.status, "")),
            safe_text(_headline(run.metrics), single_line=True),
        )
    return grid


def run_header(run: RunInfo) -> Text:
    """Name, id, status, dataset, target, prompt versions, latency and errors of a run."""
    text = Text()
    text.append(literal(run.name, single_line=True), style="bold")
    text.append(f"  run {run.run_id}  {run.status}\n", style="dim")
    dataset = f"{run.dataset_name} ({run.example_count} examples, hash {run.dataset_hash})"
    text.append(literal(f"dataset  {dataset}\ntarget   {run.target}") + "\n")
    text.append(f"started  {started(run.started_ns)} UTC")
    if run.duration_ms is not None:
        text.append(f", took {duration(run.duration_ms)}")
    text.append("\n")
    if run.prompt_versions:
        text.append(literal(f"prompts  {', '.join(run.prompt_versions)}", single_line=True))
        text.append("\n")
    latency = run.metrics.get("latency_ms")
    if isinstance(latency, Mapping):
        p50, p95 = latency.get("p50"), latency.get("p95")
        shown = [
            f"{label} {duration(value) if isinstance(value, (int, float)) else '-'}"
            for label, value in (("p50", p50), ("p95", p95))
        ]
        text.append(f"latency  {', '.join(shown)}   ")
    text.append(f"errors {run.metrics.get('errors', '-')}")
    return text


def metrics_table(metrics: Mapping[str, object]) -> Table:
    table = eval_table(
        "SCORE", "MEAN", "PASS RATE", "COUNT", "FAILED", right=("MEAN", "PASS RATE", "COUNT")
    )
    scores = metrics.get("scores")
    for name, figures in scores.items() if isinstance(scores, Mapping) else []:
        if not isinstance(figures, Mapping):
            continue
        failed = figures.get("failed") or 0
        table.add_row(
            safe_text(name, "bold", single_line=True),
            number(figures.get("mean")),
            percent(figures.get("pass_rate")),
            str(figures.get("count", "-")),
            Text(str(failed), style="yellow" if failed else ""),
        )
    return table


def _shown_length(value: object) -> int:
    """How wide model text is once escaped for the terminal, on one line."""
    return len(literal(" ".join(text_of(value).split()), single_line=True))


def share(room: int, first: int, second: int) -> tuple[int, int]:
    """Two text columns' widths in ``room``: each its longest text when both fit, else the
    shorter keeps its own (up to half) and the longer takes the rest; at least 8 each."""
    half = room // 2
    if first + second <= room:
        return max(8, first), max(8, second)
    if first <= half:
        return max(8, first), max(8, room - first)
    if second <= half:
        return max(8, room - second), max(8, second)
    return max(8, half), max(8, room - half)


def _scores_inline(row: EvalRow, names: Sequence[str]) -> Text:
    text = Text()
    for name in names:
        if name in row.scores:
            text.append(f"{name} ", style="dim")
            text.append_text(_score_cell(row.scores[name]))
            text.append("  ")
    return text


def _examples_table(rows: Sequence[EvalRow], names: Sequence[str], width: int, full: bool) -> Table:
    """A column per score when they fit in ``width``, else one wrapped SCORES column; the
    inputs and the output share what is left (``full``: shown whole, wrapped)."""
    # Fixed columns: # (3), TRACE (12), two text columns of at least 8; padding each.
    needed = 3 + 12 + 16 + sum(max(len(n), 5) for n in names) + PAD * (len(names) + 4)
    per_score = needed <= width
    columns = [*names] if per_score else ["SCORES"]
    table = eval_table(
        *("#", "INPUTS", "OUTPUT", *columns, "TRACE"),
        right=("#",),
        flexible=("INPUTS", "OUTPUT"),
        widths={"#": 3, "TRACE": 12, **{n: max(len(n), 5) for n in names}},
        wrap=full,
    )
    if not per_score:
        table.columns[3].no_wrap = False
        table.columns[3].min_width = 24
    # Left to themselves, rich squeezes the narrow columns (# and TRACE) out first.
    scores_width = sum(max(len(n), 5) for n in names) if per_score else 24
    fixed = 3 + 12 + scores_width + PAD * (len(columns) + 3)
    inputs_width, output_width = share(
        width - fixed,
        max((_shown_length(r.inputs) for r in rows), default=0),
        max((_shown_length(r.error or r.output) for r in rows), default=0),
    )
    table.columns[1].max_width, table.columns[2].max_width = inputs_width, output_width
    for row in rows:
        if row.error:
            output = Text(row.error if full else clip(row.error, output_width), style="red")
        else:
            output = short(row.output, None if full else output_width)
        scores = (
            [_score_cell(row.scores.get(name)) for name in names]
            if per_score
            else [_scores_inline(row, names)]
        )
        trace = Text((row.trace_id or "-")[:12], style="dim")
        inputs = short(row.inputs, None if full else inputs_width)
        table.add_row(str(row.position + 1), inputs, output, *scores, trace)
    return table


def run_view(
    result: EvalResult, *, failed_only: bool = False, width: int = 120, full: bool = False
) -> RenderableType:
    """The run's header and metrics, then its examples (``failed_only``: those that failed;
    ``full``: their inputs and outputs whole)."""
    scores = result.metrics.get("scores")
    names = list(scores) if isinstance(scores, Mapping) else []
    shown = [r for r in result.rows if not failed_only or r.passed is False]
    parts: list[RenderableType] = [run_header(result.run), Text(""), metrics_table(result.metrics)]
    if shown:
        parts += [Text(""), _examples_table(shown, names, width, full)]
    elif failed_only:
        parts.append(Text("no failing examples", style="dim"))
    return Group(*parts)


def scores_table(records: Sequence[ScoreRecord]) -> Table:
    """A trace's scores (``spyglass.tracer._scores.scores(conn, trace_id=...)``), for the viewer:
    name, value, label, source, evaluator, span, comment."""
    table = eval_table(
        *("SCORE", "VALUE", "SOURCE", "EVALUATOR", "SPAN", "COMMENT"),
        flexible=("EVALUATOR", "COMMENT"),
        widths={"SPAN": 8},
    )
    for record in records:
        score = record.score
        value = _score_cell(score)
        if score.label is not None and not isinstance(score.value, str):
            value.append(f" {clip(score.label, 12)}", style="dim")
        table.add_row(
            safe_text(clip(score.name, 24), "bold", single_line=True),
            value,
            score.source,
            safe_text(clip(score.evaluator or "-", 30), single_line=True),
            Text((score.span_id or "-")[:8], style="dim"),
            safe_text(clip(score.comment or "", 80), single_line=True),
        )
    return table


def score_summary_table(summaries: Sequence[ScoreSummary]) -> Table:
    """Per score name, for ``spyglass stats``: count, mean, pass rate, failed, sources."""
    table = eval_table(
        "SCORE", "COUNT", "MEAN", "PASS RATE", "FAILED", "SOURCES",
        right=("COUNT", "MEAN", "PASS RATE", "FAILED"),
        flexible=("SOURCES",),
    )  # fmt: skip
    for summary in summaries:
        table.add_row(
            safe_text(clip(summary.name, 32), "bold", single_line=True),
            str(summary.count),
            number(summary.mean),
            percent(summary.pass_rate),
            str(summary.failed),
            ", ".join(summary.sources),
        )
    return table
