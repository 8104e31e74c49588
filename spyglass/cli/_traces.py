"""``spyglass traces | show | search | stats | ui``: reading traces, each a thin adapter over
``Store`` and the viewer.

Nothing heavy is imported at module level (``spyglass --help`` stays fast): each command imports
the store and the viewer when it runs. ``--json`` output is documented in the README.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING

import click

from spyglass.cli._common import (
    console,
    db_option,
    errors_to_exit,
    json_option,
    limit_option,
    print_json,
)

if TYPE_CHECKING:
    from spyglass.tracer._filters import TraceFilters
    from spyglass.tracer._records import TraceSummary
    from spyglass.tracer._store import Store

FOLLOW_INTERVAL_S = 0.5


def _store(db: str | None) -> Store:
    from spyglass.tracer._store import Store

    return Store(db)


@click.command()
@db_option
@limit_option(20, "How many traces.")
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
@click.option("--model", default=None, help="Only traces calling a model whose name starts so.")
@click.option("--prompt", default=None, help="Only traces that rendered NAME or NAME@VERSION.")
@click.option("--name", default=None, help="Only traces whose name starts with this.")
@click.option("--tag", default=None, help="Only traces with a span tagged so.")
@click.option(
    "--all",
    "internal",
    is_flag=True,
    help="Also list an evaluation's judge calls (traces named spyglass.judge.*).",
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new traces as they land.")
@json_option("JSON: a list of trace summaries.")
@errors_to_exit
def traces(
    db: str | None,
    limit: int,
    project: str | None,
    since: str | None,
    status: str | None,
    search: str | None,
    session_id: str | None,
    model: str | None,
    prompt: str | None,
    name: str | None,
    tag: str | None,
    internal: bool,
    errors: bool | None,
    follow: bool,
    as_json: bool,
) -> None:
    """List recent traces, newest first; --follow prints new ones as they land.

    STATUS is the root span's outcome; ERRORS counts the failed spans anywhere in the trace
    (a tool call that failed inside a trace that went on counts). --errors keeps the traces
    with any; --status error those whose root failed. An evaluation's judge calls are left
    out unless --all (or --name spyglass.judge...).
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
        "model": model,
        "prompt": prompt,
        "name": name,
        "tag": tag,
        "internal": internal,
    }
    if follow:
        _follow(store, filters, limit, as_json)
        return
    found = store.traces(limit=limit, **filters)
    if as_json:
        print_json([summary.to_dict() for summary in found])
        return
    console().print(traces_table(found) if found else empty("no traces"))


def _follow(store: Store, filters: TraceFilters, limit: int, as_json: bool) -> None:
    """Print the backlog, then each new trace once it is complete, until Ctrl-C."""
    from spyglass.tracer._follow import Follower
    from spyglass.viewer._static import traces_table

    out = console()
    follower = Follower(store, filters)
    first = True

    def emit(summaries: list[TraceSummary]) -> None:
        nonlocal first
        for summary in summaries:
            if as_json:
                out.file.write(json.dumps(summary.to_dict(), ensure_ascii=False) + "\n")
            else:  # fixed-width columns: every line lines up under the one header
                out.print(traces_table([summary], header=first, fixed=True))
                first = False
        out.file.flush()  # a pipe would otherwise hold lines back

    try:
        emit(follower.backlog(limit))
        while True:
            time.sleep(FOLLOW_INTERVAL_S)
            emit(follower.poll())
    except BrokenPipeError:
        # The reader went away (`| head`): stop without a traceback, with rich's exit status.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


@click.command()
@db_option
@click.argument("trace_id")
@click.option(
    "--full",
    is_flag=True,
    help="Also show messages, documents, tool calls, errors and prompt versions.",
)
@json_option("JSON: the trace and all its spans.")
@errors_to_exit
def show(db: str | None, trace_id: str, full: bool, as_json: bool) -> None:
    """Show a trace as a span tree and timeline (TRACE: id or unique prefix)."""
    store = _store(db)
    found = store.trace(trace_id)
    from spyglass.tracer._scores import scores

    scored = scores(store.path, trace_id=found.trace_id)
    if as_json:
        print_json({**found.to_dict(), "scores": [record.to_dict() for record in scored]})
        return
    from spyglass.viewer._static import trace_view

    out = console()
    # Every line is laid out to the width already: cropping them again is wasted time.
    out.print(trace_view(found, full=full, width=out.width), crop=False)
    if scored:
        from spyglass.viewer._eval import scores_table

        out.print(scores_table(scored))


@click.command()
@db_option
@click.argument("text")
@limit_option(50, "How many matching spans.")
@json_option("JSON: a list of matching spans.")
@errors_to_exit
def search(db: str | None, text: str, limit: int, as_json: bool) -> None:
    """Full-text search over prompts, outputs, documents and tool calls.

    Every word of TEXT must occur, in any order, case and accents aside. Words match their
    other forms (refund finds Refunds, refunded); a word ending in * matches as a prefix
    (spy* finds spyglass); gpt-4o matches those words side by side. Newest spans first.
    """
    hits = _store(db).search(text, limit=limit)
    if as_json:
        print_json([hit.to_dict() for hit in hits])
        return
    from spyglass.viewer._static import empty, search_table

    console().print(search_table(hits) if hits else empty(f"nothing matches {text!r}"))


@click.command()
@db_option
@click.option("--since", default=None, help="Only calls started since: 30m, 1h, 1d, 1w or a date.")
@click.option("--project", default=None, help="Only this project.")
@click.option("--all", "internal", is_flag=True, help="Also count an evaluation's judge calls.")
@json_option("JSON: per-model and per-prompt figures.")
@errors_to_exit
def stats(
    db: str | None, since: str | None, project: str | None, internal: bool, as_json: bool
) -> None:
    """Calls, tokens, cost, latency and errors per model and prompt version; scores.

    An evaluation's LLM judge calls are not the app's: --all counts them too."""
    store = _store(db)
    found = store.stats(since=since, project=project, internal=internal)
    from spyglass.tracer._score_stats import score_summary

    summaries = score_summary(store.path, since_ns=found.since_ns, project=project)
    if as_json:
        print_json({**found.to_dict(), "scores": [summary.to_dict() for summary in summaries]})
        return
    from spyglass.viewer._static import stats_view

    out = console()
    out.print(stats_view(found))
    if summaries:
        from spyglass.viewer._eval import score_summary_table

        out.print(score_summary_table(summaries))


@click.command()
@db_option
@click.option(
    "--all",
    "internal",
    is_flag=True,
    help="Also list an evaluation's judge calls (traces named spyglass.judge.*).",
)
@errors_to_exit
def ui(db: str | None, internal: bool) -> None:
    """Browse traces interactively: filter, span tree, messages, documents.

    The filter box takes free words plus model:NAME, status:error (the root failed),
    has:error (any span failed), prompt:NAME@V, session:ID, name:PREFIX and tag:TAG;
    ? shows every key.
    """
    store = _store(db)  # a missing or foreign file is one line on stderr, before any screen
    from spyglass.viewer._app import make_app

    make_app(store.path, store=store, internal=internal).run()
