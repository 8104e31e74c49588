"""The ``spyglass`` command: nouns and verbs, each a thin adapter over library calls.

Start-up stays fast because nothing heavy is imported at module level: each command imports the
store, the viewer or a framework when it runs. A ``SpyglassError`` becomes one line on stderr
and exit status 1; ``--json`` output is documented in the README and kept stable.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from spyglass.tracer._records import TraceSummary
    from spyglass.tracer._store import Store

F = TypeVar("F", bound=Callable[..., object])

DB_HELP = "SQLite file (default: $SPYGLASS_DB or ./spyglass.db)."


def _db_option(fn: F) -> F:
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)(
        fn
    )


def _fail(message: str) -> None:
    click.echo(f"spyglass: error: {message}", err=True)
    sys.exit(1)


def _errors_to_exit(fn: F) -> F:
    """Turn spyglass's own errors into one line on stderr and exit status 1."""

    @wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        from spyglass.errors import SpyglassError

        try:
            return fn(*args, **kwargs)
        except SpyglassError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            sys.exit(130)
        return None

    return wrapper  # type: ignore[return-value]


def _store(db: str | None) -> Store:
    from spyglass.tracer._store import Store

    return Store(db)


def _console() -> Console:
    from rich.console import Console

    # Not a terminal (a pipe, a file): no width to fit, so do not squeeze names into "…".
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140
    return Console(highlight=False, soft_wrap=False, width=width)


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spyglass-trace", prog_name="spyglass")
def main() -> None:
    """spyglass: local-first LLM tracing and prompt versioning.

    Traces live in one SQLite file (--db, $SPYGLASS_DB, or ./spyglass.db).
    Start with `spyglass demo`, then `spyglass traces` and `spyglass show TRACE`.
    """


@main.command()
@_db_option
@click.option(
    "-n",
    "limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many traces.",
)
@click.option("--project", default=None, help="Only this project.")
@click.option("--since", default=None, help="Only traces started since: 30m, 1h, 2d, 1w or a date.")
@click.option(
    "--status",
    type=click.Choice(["ok", "error", "unset"], case_sensitive=False),
    default=None,
    help="Only traces with this status.",
)
@click.option(
    "--search", "search", default=None, help="Only traces whose text contains these words."
)
@click.option("--session", "session_id", default=None, help="Only traces of this session id.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new traces as they land.")
@click.option("--json", "as_json", is_flag=True, help="JSON: a list of trace summaries.")
@_errors_to_exit
def traces(
    db: str | None,
    limit: int,
    project: str | None,
    since: str | None,
    status: str | None,
    search: str | None,
    session_id: str | None,
    follow: bool,
    as_json: bool,
) -> None:
    """List recent traces, newest first."""
    from spyglass.viewer._static import empty, traces_table

    store = _store(db)
    filters: dict[str, str | None] = {
        "project": project,
        "since": since,
        "status": status,
        "search": search,
        "session_id": session_id,
    }
    found = store.traces(limit=limit, **filters)
    if as_json and not follow:
        _print_json([summary.to_dict() for summary in found])
        return
    console = _console()
    if not follow:
        console.print(traces_table(found) if found else empty("no traces"))
        return
    seen = {summary.trace_id for summary in found}
    for summary in reversed(found):
        _emit(console, summary, as_json)
    while True:
        time.sleep(1.0)
        for summary in reversed(store.traces(limit=200, **filters)):
            if summary.trace_id not in seen:
                seen.add(summary.trace_id)
                _emit(console, summary, as_json)


def _emit(console: Console, summary: TraceSummary, as_json: bool) -> None:
    from spyglass.viewer._static import traces_table

    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    else:
        console.print(traces_table([summary]))


@main.command()
@_db_option
@click.argument("trace_id")
@click.option("--full", is_flag=True, help="Also show messages, documents, tool calls, errors.")
@click.option("--json", "as_json", is_flag=True, help="JSON: the trace and all its spans.")
@_errors_to_exit
def show(db: str | None, trace_id: str, full: bool, as_json: bool) -> None:
    """Show one trace as a span tree (TRACE is an id or a unique prefix)."""
    found = _store(db).trace(trace_id)
    if as_json:
        _print_json(found.to_dict())
        return
    from spyglass.viewer._static import trace_tree

    console = _console()
    console.print(trace_tree(found, full=full, width=console.width))


@main.command()
@_db_option
@click.argument("text")
@click.option(
    "-n",
    "limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="How many matching spans.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON: a list of matching spans.")
@_errors_to_exit
def search(db: str | None, text: str, limit: int, as_json: bool) -> None:
    """Full-text search over prompts, outputs, documents and tool calls."""
    hits = _store(db).search(text, limit=limit)
    if as_json:
        _print_json([hit.to_dict() for hit in hits])
        return
    from spyglass.viewer._static import empty, search_table

    _console().print(search_table(hits) if hits else empty(f"nothing matches {text!r}"))


@main.command()
@_db_option
@_errors_to_exit
def demo(db: str | None) -> None:
    """Run an offline, traced demo app into the database, then show its trace."""
    from spyglass._demo import run_demo

    run_demo(db or os.environ.get("SPYGLASS_DB") or "spyglass.db", _console())


if __name__ == "__main__":  # pragma: no cover
    main()
