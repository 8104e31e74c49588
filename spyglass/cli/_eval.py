"""``spyglass eval ...`` and ``spyglass score``: evaluation from the terminal.

``spyglass.cli`` imports this module to register the commands, so it imports only ``click`` at
module level; each command imports what it needs when it runs, and reaches the CLI's shared
helpers (one-line errors, console, JSON) then too, which keeps the two modules free of an
import cycle. Read commands (list, show, compare) open the file read-only and never create
one; ``eval run`` creates it as ``evaluate`` does; ``score`` needs an existing file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

DB_HELP = "SQLite file (default: $SPYGLASS_DB or ./spyglass.db)."
JSON_HELP = "Print JSON (the format is in the README)."


def _db_option(fn: F) -> F:
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)(
        fn
    )


def _errors(fn: F) -> F:
    """spyglass's errors as one line on stderr and exit 1 (``spyglass.cli._errors_to_exit``)."""

    @wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        from spyglass.cli import _errors_to_exit

        return _errors_to_exit(fn)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _path(db: str | None) -> Path:
    if db is not None:
        return Path(db)
    from spyglass.tracer._runtime import default_db

    return default_db()


@contextmanager
def _reading(db: str | None) -> Iterator[sqlite3.Connection]:
    from spyglass.tracer._db import open_for_read

    conn = open_for_read(_path(db))
    try:
        yield conn
    finally:
        conn.close()


def _print(renderable: object) -> None:
    from spyglass.cli import _console

    _console().print(renderable)


def _json(value: object) -> None:
    from spyglass.cli import _print_json

    _print_json(value)


@click.group("eval")
def eval_group() -> None:
    """Evaluate an app over a dataset; list, show and compare runs."""


@eval_group.command("run")
@_db_option
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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@_errors
def eval_run(
    db: str | None,
    dataset: str,
    target: str,
    evaluators: tuple[str, ...],
    name: str | None,
    concurrency: int,
    as_json: bool,
) -> None:
    """Run TARGET on every example of DATASET (.jsonl or .csv), each traced, and score it."""
    from spyglass._eval_specs import load_object
    from spyglass._evaluate import evaluate

    app = load_object(target)
    result = evaluate(app, dataset, list(evaluators), name=name, db=db, concurrency=concurrency)
    if as_json:
        _json(result.to_dict())
        return
    from rich.text import Text

    from spyglass._eval_view import metrics_table, run_header

    _print(run_header(result.run))
    _print(metrics_table(result.metrics))
    _print(Text(f"spyglass eval show {result.run_id}  for every example", style="dim"))


@eval_group.command("list")
@_db_option
@click.option("-n", "limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@_errors
def eval_list(db: str | None, limit: int, as_json: bool) -> None:
    """List evaluation runs, newest first, with their headline scores."""
    from spyglass._eval_runs import list_runs

    with _reading(db) as conn:
        runs = list_runs(conn, limit)
    if as_json:
        _json([run.to_dict() for run in runs])
        return
    from rich.text import Text

    from spyglass._eval_view import runs_table

    _print(runs_table(runs) if runs else Text("no evaluation runs", style="dim"))


@eval_group.command("show")
@_db_option
@click.argument("run")
@click.option("--failed", "failed_only", is_flag=True, help="Only examples that failed.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@_errors
def eval_show(db: str | None, run: str, failed_only: bool, as_json: bool) -> None:
    """Show one run (RUN: id, id prefix or name): metrics, then every example with its scores."""
    from spyglass._eval_records import EvalResult
    from spyglass._eval_runs import get_run, load_rows

    with _reading(db) as conn:
        info = get_run(conn, run)
        result = EvalResult(info, tuple(load_rows(conn, info.run_id)))
    if as_json:
        _json(result.to_dict())
        return
    from spyglass._eval_view import run_view
    from spyglass.cli import _console

    console = _console()
    console.print(run_view(result, failed_only=failed_only, width=console.width))


@eval_group.command("compare")
@_db_option
@click.argument("run_a")
@click.argument("run_b")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@_errors
def eval_compare(db: str | None, run_a: str, run_b: str, as_json: bool) -> None:
    """Compare two runs: metrics side by side, and the examples that changed."""
    from spyglass._eval_metrics import compare_runs
    from spyglass._eval_runs import get_run, load_rows

    with _reading(db) as conn:
        a, b = get_run(conn, run_a), get_run(conn, run_b)
        comparison = compare_runs(a, load_rows(conn, a.run_id), b, load_rows(conn, b.run_id))
    if as_json:
        _json(comparison.to_dict())
        return
    _print(comparison)  # renders itself to the console's width


def parse_value(text: str) -> float | bool | str:
    """``true`` / ``false`` → bool, a number → float, anything else → a label."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return float(text)
    except ValueError:
        return text


@click.command("score")
@_db_option
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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@_errors
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
    from spyglass._scores import score

    record = score(
        trace_id,
        name,
        parse_value(value),
        comment=comment,
        span_id=span_id,
        source=source,  # type: ignore[arg-type]
        db=_path(db),
    )
    if as_json:
        _json(record.to_dict())
        return
    target = record.trace_id[:12] + (
        f" span {record.score.span_id}" if record.score.span_id else ""
    )
    click.echo(f"scored {target}: {record.score.name} = {record.score.value!r}")
