"""The ``spyglass`` command: nouns and verbs, each a thin adapter over library calls.

Start-up stays fast because nothing heavy is imported at module level: each command imports the
store, the viewer or a framework when it runs. A ``SpyglassError`` becomes one line on stderr
and exit status 1, and so does click's own complaint about the command line (an unknown
option, a bad value, a missing argument: ``_Main``), so a script sees one kind of failure.
``--json`` output is documented in the README and kept stable.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from spyglass.tracer._filters import TraceFilters
    from spyglass.tracer._records import TraceSummary
    from spyglass.tracer._store import Store

F = TypeVar("F", bound=Callable[..., object])

DB_HELP = "SQLite file (default: $SPYGLASS_DB or ./spyglass.db)."
FOLLOW_INTERVAL_S = 0.5


def _db_option(fn: F) -> F:
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)(
        fn
    )


def _fail(message: str) -> None:
    from spyglass.errors import one_line

    click.echo(f"spyglass: error: {one_line(message)}", err=True)
    sys.exit(1)


#: Raised (click 8.2+) by a group run without a command; click 8.1 prints the help itself.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Main(click.Group):
    """The ``spyglass`` group: click's usage errors as one line on stderr and exit status 1.

    Click prints a usage block and exits with 2; spyglass's errors are one line and 1, and a
    caller should not have to tell the two apart. A group run without a command prints its
    help and exits with 0, as click did before 8.2.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def run() -> Any:  # click's errors raised to us rather than printed by click
            return super(_Main, self).main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )

        if not standalone_mode:
            return run()
        try:
            code = run()
        except _NO_ARGS_IS_HELP as exc:
            click.echo(exc.ctx.get_help())
            sys.exit(0)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(exc.format_message().rstrip(".") + where)
        except click.ClickException as exc:
            _fail(exc.format_message())
        except click.Abort:
            _fail("aborted")
        # Without standalone mode click returns what the command returned (None), or the
        # status of an explicit exit (--help, --version).
        sys.exit(code if isinstance(code, int) else 0)


def _errors_to_exit(fn: F) -> F:
    """Turn spyglass's own errors, and the system's refusals of a path given on the command
    line (a name too long, no permission, a full disk), into one line on stderr and exit
    status 1."""

    @wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        from spyglass.errors import SpyglassError

        try:
            return fn(*args, **kwargs)
        except SpyglassError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            sys.exit(130)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise  # the reader went away (`| head`): click ends quietly
            where = f": {exc.filename}" if exc.filename is not None else ""
            _fail(f"{exc.strerror or exc}{where}")
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


@click.group("spyglass", cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
    help="Only traces whose root span ended with this status.",
)
@click.option(
    "--errors",
    "errors",
    is_flag=True,
    default=None,
    help="Only traces in which any span failed, whatever the root's status.",
)
@click.option(
    "--search",
    "search",
    default=None,
    help="Only traces whose text has these words (matched as `spyglass search` does).",
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
    errors: bool | None,
    follow: bool,
    as_json: bool,
) -> None:
    """List recent traces, newest first; --follow prints new ones as they land.

    STATUS is the root span's outcome; ERRORS counts the failed spans anywhere in the trace
    (a tool call that failed inside a trace that went on counts). --errors keeps the traces
    with any; --status error those whose root failed.
    """
    from spyglass.viewer._static import empty, traces_table

    store = _store(db)
    filters: TraceFilters = {
        "project": project,
        "since": since,
        "status": status,
        "search": search,
        "session_id": session_id,
        "errors": errors,
    }
    if follow:
        _follow(store, filters, limit, as_json)
        return
    found = store.traces(limit=limit, **filters)
    if as_json:
        _print_json([summary.to_dict() for summary in found])
        return
    _console().print(traces_table(found) if found else empty("no traces"))


def _follow(store: Store, filters: TraceFilters, limit: int, as_json: bool) -> None:
    """Print the backlog, then each new trace once it is complete, until Ctrl-C."""
    from spyglass.viewer._follow import Follower
    from spyglass.viewer._static import traces_table

    console = _console()
    follower = Follower(store, filters)
    first = True

    def emit(summaries: list[TraceSummary]) -> None:
        nonlocal first
        for summary in summaries:
            if as_json:
                console.file.write(json.dumps(summary.to_dict(), ensure_ascii=False) + "\n")
            else:  # fixed-width columns: every line lines up under the one header
                console.print(traces_table([summary], header=first, fixed=True))
                first = False
        console.file.flush()  # a pipe would otherwise hold lines back

    try:
        emit(follower.backlog(limit))
        while True:
            time.sleep(FOLLOW_INTERVAL_S)
            emit(follower.poll())
    except BrokenPipeError:
        # The reader went away (`| head`): stop without a traceback, with rich's exit status.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


@main.command()
@_db_option
@click.argument("trace_id")
@click.option(
    "--full",
    is_flag=True,
    help="Also show messages, documents, tool calls, errors and prompt versions.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON: the trace and all its spans.")
@_errors_to_exit
def show(db: str | None, trace_id: str, full: bool, as_json: bool) -> None:
    """Show a trace as a span tree and timeline (TRACE: id or unique prefix)."""
    store = _store(db)
    found = store.trace(trace_id)
    from spyglass._scores import scores

    scored = scores(store.path, trace_id=found.trace_id)
    if as_json:
        _print_json({**found.to_dict(), "scores": [record.to_dict() for record in scored]})
        return
    from spyglass.viewer._static import trace_view

    console = _console()
    # Every line is laid out to the width already: cropping them again is wasted time.
    console.print(trace_view(found, full=full, width=console.width), crop=False)
    if scored:
        from spyglass._eval_view import scores_table

        console.print(scores_table(scored))


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
    """Full-text search over prompts, outputs, documents and tool calls.

    Every word of TEXT must occur, in any order, case and accents aside. Words match their
    other forms (refund finds Refunds, refunded); a word ending in * matches as a prefix
    (spy* finds spyglass); gpt-4o matches those words side by side. Newest spans first.
    """
    hits = _store(db).search(text, limit=limit)
    if as_json:
        _print_json([hit.to_dict() for hit in hits])
        return
    from spyglass.viewer._static import empty, search_table

    _console().print(search_table(hits) if hits else empty(f"nothing matches {text!r}"))


@main.command()
@_db_option
@click.option("--since", default=None, help="Only calls started since: 30m, 1h, 1d, 1w or a date.")
@click.option("--project", default=None, help="Only this project.")
@click.option("--json", "as_json", is_flag=True, help="JSON: per-model and per-prompt figures.")
@_errors_to_exit
def stats(db: str | None, since: str | None, project: str | None, as_json: bool) -> None:
    """Calls, tokens, cost, latency and errors per model and prompt version; scores."""
    store = _store(db)
    found = store.stats(since=since, project=project)
    from spyglass._scores import score_summary

    summaries = score_summary(store.path, since_ns=found.since_ns, project=project)
    if as_json:
        _print_json({**found.to_dict(), "scores": [summary.to_dict() for summary in summaries]})
        return
    from spyglass.viewer._static import stats_view

    console = _console()
    console.print(stats_view(found))
    if summaries:
        from spyglass._eval_view import score_summary_table

        console.print(score_summary_table(summaries))


@main.command()
@_db_option
@_errors_to_exit
def ui(db: str | None) -> None:
    """Browse traces interactively: filter, span tree, messages, documents.

    The filter box takes free words plus model:NAME, status:error (the root failed),
    has:error (any span failed), prompt:NAME@V and session:ID; ? shows every key.
    """
    store = _store(db)  # a missing or foreign file is one line on stderr, before any screen
    from spyglass.viewer._app import make_app

    make_app(store.path, store=store).run()


@main.command()
@_db_option
@_errors_to_exit
def demo(db: str | None) -> None:
    """Run an offline, traced RAG demo with two prompt versions, and show it."""
    from spyglass._demo import run_demo

    run_demo(db or os.environ.get("SPYGLASS_DB") or "spyglass.db", _console())


@main.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=4318,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--token",
    envvar="SPYGLASS_COLLECT_TOKEN",
    default=None,
    help="Require 'Authorization: Bearer TOKEN'. Default: $SPYGLASS_COLLECT_TOKEN, which "
    "other users cannot read as they can a command line.",
)
@_errors_to_exit
def collect(db: str | None, host: str, port: int, token: str | None) -> None:
    """Receive OTLP spans from any instrumentation into the file.

    Listens for OTLP/HTTP (POST /v1/traces, protobuf or JSON) until Ctrl-C or SIGTERM, then
    writes out everything it accepted. Point an app at it with
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.
    """
    from pathlib import Path

    from spyglass.collector import CollectorSettings, serve

    path = Path(db or os.environ.get("SPYGLASS_DB") or "spyglass.db")
    settings = CollectorSettings(db=path, host=host, port=port, token=token or None)
    if not token and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"spyglass collect: warning: {host} without --token lets anyone write", err=True)

    def ready(url: str) -> None:
        click.echo(f"spyglass collect: listening on {url}/v1/traces, writing to {path}", err=True)

    report = serve(settings, ready)
    counts = report.counts
    click.echo(
        f"spyglass collect: stopped; {report.stored} spans stored, {counts.rejected} rejected, "
        f"{counts.refused} requests told to retry",
        err=True,
    )
    if report.late_events:
        click.echo(
            f"spyglass collect: {report.late_events} GenAI log events came after their span "
            "was stored and were not kept",
            err=True,
        )
    if report.lost:
        _fail(f"{report.lost} accepted spans could not be written to {path}")


from spyglass.prompts._cli import prompts_group  # noqa: E402  (light: imports only click)

main.add_command(prompts_group)

from spyglass._eval_cli import eval_group, score_command  # noqa: E402  (light: imports only click)

main.add_command(eval_group)
main.add_command(score_command)


if __name__ == "__main__":  # pragma: no cover
    main()
