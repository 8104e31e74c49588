"""``spyglass eval ...`` and ``spyglass score``: evaluation from the terminal.

``spyglass.cli`` imports this module to register the commands, so it imports only ``click`` and
the CLI's shared helpers (``_common``) at module level; each command imports what it needs
when it runs. Read commands (list, show, compare) open the file read-only and never create
one; ``eval run`` creates it as ``evaluate`` does; ``score`` needs an existing file.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import click

from spyglass.cli._common import (
    console,
    db_option,
    db_path,
    errors_to_exit,
    json_option,
    limit_option,
    print_json,
    print_renderable,
    reading,
)


@click.group("eval")
def eval_group() -> None:
    """Evaluate an app over a dataset; list, show and compare runs."""


#: ``eval run``'s exit statuses, as ``--help`` and the README give them.
EXIT_OK, EXIT_EXAMPLES_RAISED, EXIT_THRESHOLD_MISSED = 0, 2, 3
_RUN_HELP = f"""Run TARGET on every example of DATASET (.jsonl or .csv), each traced, and score it.

\b
Exit status, for CI:
  {EXIT_OK}  every example ran and every --fail-under threshold held
  1  bad input (a usage error, an unknown target, dataset or metric)
  {EXIT_EXAMPLES_RAISED}  examples raised (unless --allow-errors); takes precedence over 3
  {EXIT_THRESHOLD_MISSED}  a --fail-under threshold was missed
"""


def _threshold(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[str, str | None, float]]:
    """``NAME[.mean|.pass_rate]=VALUE`` as ``(name, figure, value)``, checked before the run."""
    out = []
    for raw in values:
        metric, sep, number = raw.rpartition("=")
        try:
            value = float(number)
        except ValueError:
            value = float("nan")
        if not sep or not metric or value != value:
            raise click.BadParameter(f"{raw!r}: want METRIC=NUMBER, e.g. exact_match=0.8")
        name, figure = metric, None
        for key in (".mean", ".pass_rate"):
            if metric.endswith(key):
                name, figure = metric[: -len(key)], key[1:]
        out.append((name, figure, value))
    return out


@eval_group.command("run", help=_RUN_HELP)
@db_option
@click.argument("dataset", type=click.Path(dir_okay=False))
@click.option("--target", required=True, help="The app to evaluate, as module:function.")
@click.option(
    "--evaluator",
    "evaluators",
    multiple=True,
    help="A built-in (exact_match, contains, regex=P, valid_json, json_schema=FILE, "
    "latency_budget=MS, token_budget=N, hit_rate[=K], mrr[=K], groundedness) or module:name. "
    "Repeatable.",
)
@click.option("--name", default=None, help="Name of the run (default: the target's name).")
@click.option("--concurrency", type=click.IntRange(min=1), default=4, show_default=True)
@click.option(
    "--fail-under",
    "thresholds",
    multiple=True,
    callback=_threshold,
    metavar="METRIC=VALUE",
    help="Exit 3 when a score's figure is below VALUE: NAME (its mean, or its pass rate when "
    "it has no mean), NAME.mean or NAME.pass_rate. Repeatable.",
)
@click.option("--allow-errors", is_flag=True, help="Exit 0, not 2, when examples raised.")
@json_option()
@errors_to_exit
def eval_run(
    db: str | None,
    dataset: str,
    target: str,
    evaluators: tuple[str, ...],
    name: str | None,
    concurrency: int,
    thresholds: list[tuple[str, str | None, float]],
    allow_errors: bool,
    as_json: bool,
) -> None:
    from spyglass._evaluate import evaluate
    from spyglass.evaluation._bind import load_object

    app = load_object(target)
    _check_metrics(evaluators, thresholds)
    result = evaluate(app, dataset, list(evaluators), name=name, db=db, concurrency=concurrency)
    if as_json:
        print_json(result.to_dict())
    else:
        from rich.text import Text

        from spyglass.viewer._eval import metrics_table, run_header

        print_renderable(run_header(result.run))
        print_renderable(metrics_table(result.metrics))
        print_renderable(
            Text(f"spyglass eval show {result.run_id}  for every example", style="dim")
        )
    sys.exit(_exit_status(result.metrics, thresholds, allow_errors))


def _check_metrics(
    evaluators: tuple[str, ...], thresholds: list[tuple[str, str | None, float]]
) -> None:
    """Every ``--fail-under`` names an evaluator of the run: a typo fails before the run."""
    from spyglass.errors import ConfigurationError
    from spyglass.evaluation._bind import bind

    if not thresholds:
        return
    known = [bound.name for bound in bind(list(evaluators))]
    for name, _, _ in thresholds:
        if name not in known:
            listed = ", ".join(known) or "none"
            raise ConfigurationError(
                f"--fail-under: no evaluator {name!r} in this run; evaluators: {listed}"
            )


def _exit_status(
    metrics: Mapping[str, object],
    thresholds: list[tuple[str, str | None, float]],
    allow_errors: bool,
) -> int:
    """The status the run ends with; each missed threshold and the errors, one line each on
    stderr."""
    from spyglass.errors import ConfigurationError

    scores = metrics.get("scores")
    scores = scores if isinstance(scores, Mapping) else {}
    missed = []
    for name, figure, wanted in thresholds:
        figures = scores.get(name)
        if not isinstance(figures, Mapping):
            known = ", ".join(scores) or "none"
            raise ConfigurationError(
                f"--fail-under: no score {name!r} in this run; scores: {known}"
            )
        key = figure or ("mean" if figures.get("mean") is not None else "pass_rate")
        got = figures.get(key)
        if not isinstance(got, (int, float)) or got < wanted:
            shown = "none" if got is None else f"{got:.4g}"
            missed.append(f"{name}.{key} = {shown}, under {wanted:g}")
    errors = metrics.get("errors")
    raised = isinstance(errors, int) and errors > 0
    if raised:
        click.echo(f"spyglass: {errors} of {metrics.get('examples')} examples raised", err=True)
    for line in missed:
        click.echo(f"spyglass: threshold missed: {line}", err=True)
    if raised and not allow_errors:
        return EXIT_EXAMPLES_RAISED
    return EXIT_THRESHOLD_MISSED if missed else EXIT_OK


@eval_group.command("list")
@db_option
@limit_option(20)
@json_option()
@errors_to_exit
def eval_list(db: str | None, limit: int, as_json: bool) -> None:
    """List evaluation runs, newest first, with their headline scores."""
    from spyglass.evaluation._store import list_runs

    with reading(db) as conn:
        runs = list_runs(conn, min(limit, 2**63 - 1))  # SQLite's largest LIMIT: "all"
    if as_json:
        print_json([run.to_dict() for run in runs])
        return
    from rich.text import Text

    from spyglass.viewer._eval import runs_table

    print_renderable(runs_table(runs) if runs else Text("no evaluation runs", style="dim"))


@eval_group.command("show")
@db_option
@click.argument("run")
@click.option("--failed", "failed_only", is_flag=True, help="Only examples that failed.")
@click.option("--full", is_flag=True, help="Inputs and outputs whole, wrapped, not clipped.")
@json_option()
@errors_to_exit
def eval_show(db: str | None, run: str, failed_only: bool, full: bool, as_json: bool) -> None:
    """Show one run (RUN: id, id prefix or name): metrics, then every example with its scores."""
    from spyglass.evaluation._records import EvalResult
    from spyglass.evaluation._store import get_run, load_rows

    with reading(db) as conn:
        info = get_run(conn, run)
        result = EvalResult(info, tuple(load_rows(conn, info.run_id)))
    if as_json:
        print_json(result.to_dict())
        return
    from spyglass.viewer._eval import run_view

    out = console()
    out.print(run_view(result, failed_only=failed_only, width=out.width, full=full))


@eval_group.command("compare")
@db_option
@click.argument("run_a")
@click.argument("run_b")
@click.option("--full", is_flag=True, help="The changed examples' inputs whole, wrapped.")
@json_option()
@errors_to_exit
def eval_compare(db: str | None, run_a: str, run_b: str, full: bool, as_json: bool) -> None:
    """Compare two runs (A: RUN_A, B: RUN_B): which is which and how they differ, metrics side
    by side, and the examples that changed."""
    from spyglass.evaluation._metrics import compare_runs
    from spyglass.evaluation._store import get_run, load_rows

    with reading(db) as conn:
        a, b = get_run(conn, run_a), get_run(conn, run_b)
        comparison = compare_runs(a, load_rows(conn, a.run_id), b, load_rows(conn, b.run_id))
    if as_json:
        print_json(comparison.to_dict())
        return
    from spyglass.viewer._eval_compare import comparison_view

    out = console()
    out.print(comparison_view(comparison, width=out.width, full=full))


def parse_value(text: str) -> float | bool | str:
    """``true`` / ``false`` → bool, a number → float, anything else → a label."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return float(text)
    except ValueError:
        return text


# A negative VALUE (``-5``, ``-0.5``) looks like an option to click: unknown options are left
# as arguments, so it reaches VALUE (a misspelt option then shows as an extra argument).
@click.command("score", context_settings={"ignore_unknown_options": True})
@db_option
@click.argument("trace_id", metavar="TRACE")
@click.argument("name")
@click.argument("value")
@click.option("--comment", default=None, help="Why: stored with the score.")
@click.option("--span", "span_id", default=None, help="Score this span (id or prefix) instead.")
@click.option(
    "--source",
    type=click.Choice(["human", "code", "llm"]),
    default="human",
    show_default=True,
)
@json_option()
@errors_to_exit
def score_command(
    db: str | None,
    trace_id: str,
    name: str,
    value: str,
    comment: str | None,
    span_id: str | None,
    source: str,
    as_json: bool,
) -> None:
    """Store a score for a trace: VALUE is true/false, a number, or a label."""
    from spyglass.tracer._scores import score

    record = score(
        trace_id,
        name,
        parse_value(value),
        comment=comment,
        span_id=span_id,
        source=source,  # type: ignore[arg-type]
        db=db_path(db),
    )
    if as_json:
        print_json(record.to_dict())
        return
    target = record.trace_id[:12] + (
        f" span {record.score.span_id}" if record.score.span_id else ""
    )
    click.echo(f"scored {target}: {record.score.name} = {record.score.value!r}")
