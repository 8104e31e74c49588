"""``eval compare``: two runs side by side.

First which run is A and which is B, field by field (name, run id, start, prompt versions,
target, dataset), with a line saying how they differ; then the metrics with their deltas,
each figure in its one precision (``_figures``); then the examples whose outcome changed,
regressions first. The inputs column takes the width the others leave (``full``: the inputs
whole, wrapped).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from spyglass.evaluation._metrics import RunComparison
from spyglass.evaluation._records import RunInfo
from spyglass.viewer._eval import PAD, eval_table, score_text, short
from spyglass.viewer._figures import delta, figure
from spyglass.viewer._format import duration, started
from spyglass.viewer._safe import clip, safe_text


def _fields(run: RunInfo) -> dict[str, str]:
    dataset = f"{run.dataset_name or '-'} ({run.example_count} examples, {run.dataset_hash})"
    return {
        "name": run.name,
        "run": run.run_id,
        "started": f"{started(run.started_ns)} UTC",
        "prompts": ", ".join(run.prompt_versions) or "-",
        "target": run.target or "-",
        "dataset": dataset,
    }


def differences(a: RunInfo, b: RunInfo) -> str:
    """How B differs from A, in a line: ``prompts rag-qa@1 → rag-qa@2; B started 2m05s
    later``."""
    fa, fb = _fields(a), _fields(b)
    parts = [f"{key} {fa[key]} → {fb[key]}" for key in ("prompts", "target", "dataset")
             if fa[key] != fb[key]]  # fmt: skip
    if not parts:
        parts.append("same prompts, target and dataset")
    gap = (b.started_ns - a.started_ns) / 1e6
    parts.append(f"B started {duration(abs(gap))} {'later' if gap >= 0 else 'earlier'}")
    return "; ".join(parts)


def _runs_table(a: RunInfo, b: RunInfo, width: int) -> Table:
    table = eval_table("", "A", "B", flexible=("A", "B"), widths={"": 7})
    half = max(12, (width - 7 - 2 * PAD) // 2)
    for column in table.columns[1:]:
        column.max_width = half
    fa, fb = _fields(a), _fields(b)
    for key, value in fa.items():
        same = value == fb[key] and key not in ("run", "started")
        table.add_row(
            Text(key, style="dim"),
            safe_text(value, "bold" if key == "name" else "", single_line=True),
            safe_text("same" if same else fb[key], "dim" if same else "bold", single_line=True),
        )
    return table


def _changes_table(comparison: RunComparison, width: int, full: bool) -> Table:
    names = [c.score or "-" for c in comparison.changes]
    score_width = min(max(len(n) for n in names), 16)
    widths = {"CHANGE": 9, "SCORE": max(score_width, 5), "A": 6, "B": 6, "TRACE A": 8, "TRACE B": 8}
    table = eval_table(
        *("CHANGE", "SCORE", "INPUTS", "A", "B", "TRACE A", "TRACE B"),
        flexible=("INPUTS",),
        widths=widths,
        wrap=full,
    )
    # As in the examples table: the flexible column takes what is left, so nothing is squeezed.
    inputs_width = max(8, width - sum(widths.values()) - PAD * 6)
    table.columns[2].max_width = inputs_width
    for c in comparison.changes:
        style = {"pass→fail": "red", "ok→error": "red", "delta": ""}.get(c.change, "green")
        table.add_row(
            Text(c.change, style=style),
            safe_text(clip(c.score or "-", score_width), single_line=True),
            short(c.inputs, None if full else inputs_width),
            short(score_text(c.a), 6),
            short(score_text(c.b), 6),
            Text((c.trace_a or "-")[:8], style="dim"),
            Text((c.trace_b or "-")[:8], style="dim"),
        )
    return table


def comparison_view(
    comparison: RunComparison, width: int = 120, full: bool = False
) -> RenderableType:
    """Which run is A and which B and how they differ, metrics side by side, then what
    changed (``full``: the changed examples' inputs whole)."""
    a, b = comparison.a, comparison.b
    metrics = eval_table("METRIC", "A", "B", "Δ", right=("A", "B", "Δ"), widths={"METRIC": 20})
    for m in comparison.metrics:
        metrics.add_row(
            m.metric, figure(m.metric, m.a), figure(m.metric, m.b), delta(m.metric, m.delta)
        )
    regressed = len({c.example_key for c in comparison.regressions})
    counts = Text(
        f"{comparison.matched} examples matched, {comparison.only_a} only in A, "
        f"{comparison.only_b} only in B; {regressed} regressed "
        f"({len(comparison.regressions)} scores or errors)",
        style="dim",
    )
    parts: list[RenderableType] = [
        _runs_table(a, b, width),
        safe_text("B vs A: " + differences(a, b), "dim", single_line=True),
        Text(""),
        metrics,
        counts,
    ]
    if comparison.changes:
        parts += [Text(""), _changes_table(comparison, width, full)]
    return Group(*parts)
