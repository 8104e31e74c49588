"""The ``spyglass`` command: nouns and verbs, each a thin adapter over library calls.

The root group lives here; each group of commands has its own module (``_traces``: traces,
show, search, stats, ui; ``_prompts``; ``_eval``: eval and score; ``_demo``; ``_collect``),
and what they share (``--db``, ``--json``, one-line errors, the console) is in ``_common``. A
``SpyglassError`` becomes one line on stderr and exit status 1, and so does click's own
complaint about the command line (an unknown option, a bad value, a missing argument:
``OneLineErrors``), so a script sees one kind of failure. Start-up stays fast because these
modules import only ``click`` at module level: each command imports the store, the viewer, the
collector or a framework when it runs. ``--json`` output is documented in the README and kept
stable.
"""

from __future__ import annotations

import click

from spyglass.cli._collect import collect
from spyglass.cli._common import OneLineErrors
from spyglass.cli._demo import demo
from spyglass.cli._eval import eval_group, score_command
from spyglass.cli._prompts import prompts_group
from spyglass.cli._traces import search, show, stats, traces, ui

__all__ = ["main"]


@click.group(
    "spyglass", cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="spyglass-trace", prog_name="spyglass")
def main() -> None:
    """spyglass: local-first LLM tracing and prompt versioning.

    Traces live in one SQLite file (--db, $SPYGLASS_DB, or ./spyglass.db).
    Start with `spyglass demo`, then `spyglass traces` and `spyglass show TRACE`.
    """


for command in (
    traces,
    show,
    search,
    stats,
    ui,
    demo,
    collect,
    prompts_group,
    eval_group,
    score_command,
):
    main.add_command(command)
