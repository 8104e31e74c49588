"""Terminal views of evaluation runs: the run list, one run, two runs side by side.

Rich tables built from ``Text`` objects only: inputs and outputs are model text, so they go
through the viewer's ``safe_text`` (control characters shown as escapes, markup never
interpreted) and are clipped to one line; ``spyglass show TRACE`` has the whole story.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from spyglass.evaluation._case import text_of
from spyglass.evaluation._metrics import RunComparison
from spyglass.evaluation._records import EvalResult, EvalRow, RunInfo
from spyglass.tracer._score_stats import ScoreSummary
from spyglass.tracer._score_types import Score
from spyglass.tracer._scores import ScoreRecord
from spyglass.viewer._format import duration, started
from spyglass.viewer._safe import clip, literal, safe_text

CELL = 36


def _table(
    *columns: str,
    right: Sequence[str] = (),
    flexible: Sequence[str] = (),
    widths: Mapping[str, int] | None = None,
) -> Table:
    """Columns keep their header's width, except ``flexible`` (text) ones, which give way
    first when the terminal is narrow."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in right else "left",
            no_wrap=True,
            overflow="ellipsis",
            min_width=(widths or {}).get(column, 8 if column in flexible else len(column)),
        )
    return table


def _short(value: object, width: int = CELL) -> Text:
    return safe_text(clip(text_of(value), width), single_line=True)


def _percent(value: object) -> str:
    return "-" if not isinstance(value, (int, float)) else f"{100 * value:.1f}%"


def _number(value: object) -> str:
    return "-" if not isinstance(value, (int, float)) else f"{value:.3f}".rstrip("0").rstrip(".")


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
    return Text(_number(score.value), style=style)


def _headline(metrics: Mapping[str, object]) -> str:
    scores = metrics.get("scores")
    parts = []
    for name, figures in scores.items() if isinstance(scores, Mapping) else []:
        if isinstance(figures, Mapping):
            value = figures.get("pass_rate", figures.get("mean"))
            parts.append(f"{name} {_percent(value)}")
    return ", ".join(parts[:4]) + (", …" if len(parts) > 4 else "")


def runs_table(runs: Sequence[RunInfo]) -> Table:
    table = _table(
        *("RUN", "NAME", "DATASET", "EXAMPLES", "ERRORS", "STARTED", "TOOK", "STATUS", "SCORES"),
        right=("EXAMPLES", "ERRORS", "TOOK"),
        flexible=("NAME", "DATASET", "SCORES"),
        widths={"RUN": 16, "STARTED": 16, "STATUS": 9, "TOOK": 6},
    )
    for run in runs:
        errors = run.metrics.get("errors", "-")
        took = run.duration_ms
        table.add_row(
            Text(run.run_id, style="cyan"),
            safe_text(clip(run.name, 24), "bold", single_line=True),
            safe_text(clip(run.dataset_name or "-", 20), single_line=True),
            str(run.example_count),
            Text(str(errors), style="red" if errors else ""),
            started(run.started_ns)[:16],  # to the minute: room for the scores
            "-" if took is None else duration(took),
            Text(run.status, style={"failed": "red", "running": "yellow"}.get(run.status, "")),
            safe_text(_headline(run.metrics), single_line=True),
        )
    return table


def run_header(run: RunInfo) -> Text:
    """Name, id, status, dataset, target, prompt versions, latency and errors of a run."""
    text = Text()
    text.append(literal(run.name, single_line=True), style="bold")
    text.append(f"  run {run.run_id}  {run.status}\n", style="dim")
    dataset = f"{run.dataset_name} ({run.example_count} examples, hash {run.dataset_hash})"
    text.append(literal(f"dataset  {dataset}\ntarget   {run.target}") + "\n")
    if run.prompt_versions:
        text.append(literal(f"prompts  {', '.join(run.prompt_versions)}", single_line=True))
        text.append("\n")
    latency = run.metrics.get("latency_ms")
    if isinstance(latency, Mapping):
        p50, p95 = _number(latency.get("p50")), _number(latency.get("p95"))
        text.append(f"latency  p50 {p50} ms, p95 {p95} ms   ")
    text.append(f"errors {run.metrics.get('errors', '-')}")
    return text


def metrics_table(metrics: Mapping[str, object]) -> Table:
    table = _table("SCORE", "MEAN", "PASS RATE", "COUNT", "FAILED", right=("MEAN", "COUNT"))
    scores = metrics.get("scores")
    for name, figures in scores.items() if isinstance(scores, Mapping) else []:
        if not isinstance(figures, Mapping):
            continue
        failed = figures.get("failed") or 0
        table.add_row(
            safe_text(name, "bold", single_line=True),
            _number(figures.get("mean")),
            _percent(figures.get("pass_rate")),
            str(figures.get("count", "-")),
            Text(str(failed), style="yellow" if failed else ""),
        )
    return table


def _scores_inline(row: EvalRow, names: Sequence[str]) -> Text:
    text = Text()
    for name in names:
        if name in row.scores:
            text.append(f"{name} ", style="dim")
            text.append_text(_score_cell(row.scores[name]))
            text.append("  ")
    return text


def _examples_table(rows: Sequence[EvalRow], names: Sequence[str], width: int) -> Table:
    """A column per score when they fit in ``width``, else one wrapped SCORES column."""
    # Fixed columns: # (3), TRACE (12), two text columns of at least 8; 3 of padding each.
    needed = 3 + 12 + 16 + sum(max(len(n), 4) for n in names) + 3 * (len(names) + 4)
    per_score = needed <= width
    columns = [*names] if per_score else ["SCORES"]
    table = _table(
        *("#", "INPUTS", "OUTPUT", *columns, "TRACE"),
        right=("#",),
        flexible=("INPUTS", "OUTPUT"),
        widths={"#": 3, "TRACE": 12},
    )
    if not per_score:
        table.columns[3].no_wrap = False
        table.columns[3].min_width = 24
    # Left to themselves, rich squeezes the narrow columns (# and TRACE) out first.
    scores_width = sum(max(len(n), 4) for n in names) if per_score else 24
    fixed = 3 + 12 + scores_width + 3 * (len(columns) + 4)
    for text_column in table.columns[1:3]:
        text_column.max_width = max(8, (width - fixed) // 2)
    for row in rows:
        output = Text(clip(row.error, CELL), style="red") if row.error else _short(row.output)
        scores = (
            [_score_cell(row.scores.get(name)) for name in names]
            if per_score
            else [_scores_inline(row, names)]
        )
        trace = Text((row.trace_id or "-")[:12], style="dim")
        table.add_row(str(row.position + 1), _short(row.inputs), output, *scores, trace)
    return table


def run_view(result: EvalResult, *, failed_only: bool = False, width: int = 120) -> RenderableType:
    """The run's header and metrics, then its examples (``failed_only``: those that failed)."""
    scores = result.metrics.get("scores")
    names = list(scores) if isinstance(scores, Mapping) else []
    shown = [r for r in result.rows if not failed_only or r.passed is False]
    parts: list[RenderableType] = [run_header(result.run), Text(""), metrics_table(result.metrics)]
    if shown:
        parts += [Text(""), _examples_table(shown, names, width)]
    elif failed_only:
        parts.append(Text("no failing examples", style="dim"))
    return Group(*parts)


def _delta(value: float | None, metric: str) -> Text:
    if value is None or abs(value) < 1e-12:
        return Text("-" if value is None else "0", style="dim")
    lower_is_better = metric.startswith(("error_rate", "latency"))
    good = (value < 0) if lower_is_better else (value > 0)
    return Text(f"{value:+.4g}", style="green" if good else "red")


def _changes_table(comparison: RunComparison, width: int) -> Table:
    names = [c.score or "-" for c in comparison.changes]
    score_width = min(max(len(n) for n in names), 16)
    widths = {"CHANGE": 9, "SCORE": max(score_width, 5), "A": 6, "B": 6, "TRACE A": 8, "TRACE B": 8}
    table = _table(
        *("CHANGE", "SCORE", "INPUTS", "A", "B", "TRACE A", "TRACE B"),
        flexible=("INPUTS",),
        widths=widths,
    )
    # As in _examples_table: the flexible column takes what is left, so nothing is squeezed.
    table.columns[2].max_width = max(8, width - sum(widths.values()) - 3 * 7)
    for c in comparison.changes:
        style = {"pass→fail": "red", "ok→error": "red", "delta": ""}.get(c.change, "green")
        table.add_row(
            Text(c.change, style=style),
            safe_text(clip(c.score or "-", score_width), single_line=True),
            _short(c.inputs),
            _short(c.a, 6),
            _short(c.b, 6),
            Text((c.trace_a or "-")[:8], style="dim"),
            Text((c.trace_b or "-")[:8], style="dim"),
        )
    return table


def comparison_view(comparison: RunComparison, width: int = 120) -> RenderableType:
    """Both runs' names and prompt versions, metrics side by side, then what changed."""
    a, b = comparison.a, comparison.b
    title = Text()
    for letter, run in (("A", a), ("B", b)):
        title.append("\n" if letter == "B" else "")
        title.append(literal(f"{letter}  {run.name} ({run.run_id})  ", single_line=True), "bold")
        title.append(literal(", ".join(run.prompt_versions), single_line=True))
    metrics = _table("METRIC", "A", "B", "Δ", right=("A", "B", "Δ"), widths={"METRIC": 20})
    for m in comparison.metrics:
        metrics.add_row(m.metric, _number(m.a), _number(m.b), _delta(m.delta, m.metric))
    regressed = len({c.example_key for c in comparison.regressions})
    counts = Text(
        f"{comparison.matched} examples matched, {comparison.only_a} only in A, "
        f"{comparison.only_b} only in B; {regressed} regressed "
        f"({len(comparison.regressions)} scores or errors)",
        style="dim",
    )
    parts: list[RenderableType] = [title, Text(""), metrics, counts]
    if comparison.changes:
        parts += [Text(""), _changes_table(comparison, width)]
    return Group(*parts)


def scores_table(records: Sequence[ScoreRecord]) -> Table:
    """A trace's scores (``spyglass.tracer._scores.scores(conn, trace_id=...)``), for the viewer:
    name, value, label, source, evaluator, span, comment."""
    table = _table(
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
    table = _table(
        "SCORE", "COUNT", "MEAN", "PASS RATE", "FAILED", "SOURCES",
        right=("COUNT", "MEAN", "PASS RATE", "FAILED"),
        flexible=("SOURCES",),
    )  # fmt: skip
    for summary in summaries:
        table.add_row(
            safe_text(clip(summary.name, 32), "bold", single_line=True),
            str(summary.count),
            _number(summary.mean),
            _percent(summary.pass_rate),
            str(summary.failed),
            ", ".join(summary.sources),
        )
    return table
