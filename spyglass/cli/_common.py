"""What every command group shares: the ``--db`` and ``--json`` options, one-line errors, the
console, JSON output, and opening the file.

Imports only ``click`` at module level, so ``spyglass --help`` stays fast: each helper imports
the store, rich or SQLite code when a command runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., object])

DB_HELP = "SQLite file (default: $SPYGLASS_DB or ./spyglass.db)."
JSON_HELP = "Print JSON (the format is in the README)."


def db_option(fn: F) -> F:
    """``--db PATH``: every command takes it."""
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)(
        fn
    )


def json_option(help: str = JSON_HELP) -> Callable[[F], F]:
    """``--json``: the command's documented JSON instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def limit_option(default: int, help: str | None = None) -> Callable[[F], F]:
    """``-n N``: how many rows, at least one."""
    return click.option(
        "-n", "limit", type=click.IntRange(min=1), default=default, show_default=True, help=help
    )


def fail(message: str) -> None:
    from spyglass.errors import one_line

    click.echo(f"spyglass: error: {one_line(message)}", err=True)
    sys.exit(1)


#: Raised (click 8.2+) by a group run without a command; click 8.1 prints the help itself.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class OneLineErrors(click.Group):
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
            return super(OneLineErrors, self).main(
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
            fail(exc.format_message().rstrip(".") + where)
        except click.ClickException as exc:
            fail(exc.format_message())
        except click.Abort:
            fail("aborted")
        # Without standalone mode click returns what the command returned (None), or the
        # status of an explicit exit (--help, --version).
        sys.exit(code if isinstance(code, int) else 0)


def errors_to_exit(fn: F) -> F:
    """Turn spyglass's own errors, and the system's refusals of a path given on the command
    line (a name too long, no permission, a full disk), into one line on stderr and exit
    status 1."""

    @wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        from spyglass.errors import SpyglassError

        try:
            return fn(*args, **kwargs)
        except SpyglassError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            sys.exit(130)
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise  # the reader went away (`| head`): click ends quietly
            where = f": {exc.filename}" if exc.filename is not None else ""
            fail(f"{exc.strerror or exc}{where}")
        return None

    return wrapper  # type: ignore[return-value]


def console() -> Console:
    from rich.console import Console

    # Not a terminal (a pipe, a file): no width to fit, so do not squeeze names into "…".
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140
    return Console(highlight=False, soft_wrap=False, width=width)


def print_renderable(renderable: object) -> None:
    console().print(renderable)


def print_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def db_path(db: str | None) -> Path:
    """``--db``, else ``$SPYGLASS_DB``, else ``./spyglass.db``."""
    if db is not None:
        return Path(db)
    from spyglass.tracer._config import default_db

    return default_db()


@contextmanager
def reading(db: str | None) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the file (never creates one)."""
    from spyglass.tracer._db import open_for_read

    conn = open_for_read(db_path(db))
    try:
        yield conn
    finally:
        conn.close()
