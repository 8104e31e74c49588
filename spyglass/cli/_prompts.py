"""``spyglass prompts ...``: the registry from the terminal, each command a thin adapter.

``spyglass.cli`` imports this module to register the group, so it imports only ``click`` at
module level (``spyglass --help`` stays fast and loads no SQLite code, OTel or framework), and
it reaches the CLI's shared helpers (error handling, console, JSON) when a command runs, which
also keeps the two modules free of an import cycle.

Read commands (list, log, show, diff, traces, export) open the file with ``open_for_read``
and never create one; register, alias and import create and migrate it as the API does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from spyglass.prompts._reader import RegistryReader
    from spyglass.prompts._registry import PromptRegistry

F = TypeVar("F", bound=Callable[..., object])

JSON_HELP = "Print JSON (the format is in the README)."


def _db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False),
        default=None,
        help="SQLite file (default: $SPYGLASS_DB or ./spyglass.db).",
    )(fn)


def _json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help=JSON_HELP)(fn)


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


def _reader(db: str | None) -> RegistryReader:
    from spyglass.prompts._reader import RegistryReader
    from spyglass.tracer._db import open_for_read

    return RegistryReader(open_for_read, _path(db))


def _registry(db: str | None) -> PromptRegistry:
    from spyglass.prompts._registry import PromptRegistry

    return PromptRegistry(_path(db))


def _print(renderable: object) -> None:
    from spyglass.cli import _console

    _console().print(renderable)


def _print_json(value: object) -> None:
    from spyglass.cli import _print_json as print_json

    print_json(value)


def _say(message: str) -> None:
    click.echo(message)


@click.group("prompts")
def prompts_group() -> None:
    """Versioned prompts, in the same file as the traces.

    NAME@VERSION or NAME@ALIAS picks a version (qa@3, qa@production); NAME alone or
    NAME@latest is the newest.
    """


def _read_template(file: str | None, text: str | None, chat: bool) -> object:
    from spyglass.errors import PromptError
    from spyglass.prompts._files import read_messages

    if (file is None) == (text is None):
        raise PromptError("give the template with exactly one of --file or --template")
    if file is not None:
        try:
            body = sys.stdin.read() if file == "-" else _read(file)
        except (OSError, UnicodeDecodeError) as exc:
            raise PromptError(f"cannot read {file}: {exc}") from None
        # Editors end files with a newline; it is not part of the prompt.
        body = body[:-1] if body.endswith("\n") else body
    else:
        body = text or ""
    if not chat:
        return body
    return read_messages(body, file if file not in (None, "-") else "--template")


def _read(file: str) -> str:
    return Path(file).read_text(encoding="utf-8")


@prompts_group.command()
@_db_option
@click.argument("name")
@click.option(
    "--file", "-f", "file", default=None, help="Read the template from a file ('-': stdin)."
)
@click.option("--template", "-t", "text", default=None, help="The template text.")
@click.option("-m", "--message", default=None, help="Commit message.")
@click.option("--chat", is_flag=True, help="A chat prompt: a JSON or YAML list of {role, content}.")
@click.option("--model", default=None, help="Model name stored with the version.")
@click.option(
    "--params",
    "params",
    default=None,
    help="Model parameters, a JSON object: '{\"temperature\": 0.2}'.",
)
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@_json_option
@_errors
def register(
    db: str | None,
    name: str,
    file: str | None,
    text: str | None,
    message: str | None,
    chat: bool,
    model: str | None,
    params: str | None,
    tags: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a new version of a prompt (an identical one is not added twice)."""
    from spyglass.prompts._files import parse_text
    from spyglass.prompts._refs import check_name
    from spyglass.prompts._template import normalize

    check_name(name)
    body = normalize(_read_template(file, text, chat))
    parameters = parse_text(params, "json", "--params") if params is not None else None
    if parameters is not None and not isinstance(parameters, dict):
        from spyglass.errors import PromptError

        raise PromptError("--params must be a JSON object")
    version, created = _registry(db)._register(name, body, message, model, parameters, tags)
    if as_json:
        _print_json({"created": created, **version.to_dict()})
    elif created:
        _say(f"registered {version.ref} (variables: {', '.join(version.variables) or 'none'})")
    else:
        _say(f"{version.ref} unchanged: same template, model and parameters as the latest")


@prompts_group.command("list")
@_db_option
@_json_option
@_errors
def list_prompts(db: str | None, as_json: bool) -> None:
    """List prompts: latest version, number of versions, aliases."""
    summaries = _reader(db).summaries()
    if as_json:
        _print_json([s.to_dict() for s in summaries])
        return
    from spyglass.prompts._render import list_table

    _print(list_table(summaries) if summaries else "no prompts")


@prompts_group.command()
@_db_option
@click.argument("name")
@_json_option
@_errors
def log(db: str | None, name: str, as_json: bool) -> None:
    """Show every version of a prompt, newest first."""
    reader = _reader(db)
    versions, aliases = reader.versions(name), reader.aliases(name)
    if as_json:
        _print_json([v.to_dict() for v in reversed(versions)])
        return
    from spyglass.prompts._render import log_table

    _print(log_table(versions, aliases))


@prompts_group.command()
@_db_option
@click.argument("ref")
@_json_option
@_errors
def show(db: str | None, ref: str, as_json: bool) -> None:
    """Show one version: NAME, NAME@VERSION or NAME@ALIAS."""
    reader = _reader(db)
    version = reader.get(ref)
    aliases = reader.aliases(version.name)
    if as_json:
        pointing = sorted(alias for alias, number in aliases.items() if number == version.version)
        _print_json({**version.to_dict(), "aliases": pointing})
        return
    from spyglass.prompts._render import version_view

    _print(version_view(version, aliases))


@prompts_group.command()
@_db_option
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead.")
@_errors
def alias(db: str | None, name: str, alias_name: str, version: str | None, delete: bool) -> None:
    """Point ALIAS at VERSION (a number, an alias or latest), or --delete it."""
    from spyglass.errors import PromptError

    if delete:
        if version is not None:
            raise PromptError("give a VERSION or --delete, not both")
        _registry(db).delete_alias(name, alias_name)
        _say(f"deleted {name}@{alias_name}")
        return
    if version is None:
        raise PromptError("give the VERSION to point the alias at (or --delete)")
    target = _registry(db).set_alias(name, alias_name, version)
    _say(f"{name}@{alias_name} → {target.version}")


@prompts_group.command()
@_db_option
@click.argument("name")
@click.argument("a")
@click.argument("b")
@_json_option
@_errors
def diff(db: str | None, name: str, a: str, b: str, as_json: bool) -> None:
    """Compare versions A and B (numbers or aliases) and what their traces did.

    Shows the template diff, variable, model and parameter changes, and the runs, error rate,
    median latency and mean tokens of the traces linked to each version.
    """
    result = _reader(db).diff(name, a, b)
    if as_json:
        _print_json(result.to_dict())
        return
    from spyglass.prompts._render import diff_view

    _print(diff_view(result))


@prompts_group.command()
@_db_option
@click.argument("ref")
@click.option(
    "-n",
    "limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many traces.",
)
@_json_option
@_errors
def traces(db: str | None, ref: str, limit: int, as_json: bool) -> None:
    """List the traces that used a version, newest first.

    REF is NAME (the latest version), NAME@VERSION or NAME@ALIAS.
    """
    found = _reader(db).traces(ref, limit=limit)
    if as_json:
        _print_json([summary.to_dict() for summary in found])
        return
    from spyglass.viewer._static import empty, traces_table

    _print(traces_table(found) if found else empty(f"no traces used {ref}"))


_FORMAT = click.Choice(["json", "yaml"])


@prompts_group.command("export")
@_db_option
@click.argument("path", default="-")
@click.option(
    "--format",
    "fmt",
    type=_FORMAT,
    default=None,
    help="Default: from PATH's extension; JSON for stdout.",
)
@_errors
def export_prompts(db: str | None, path: str, fmt: str | None) -> None:
    """Write the whole registry to one JSON or YAML file (- for stdout)."""
    from spyglass.prompts._files import format_for, write_atomically
    from spyglass.prompts._registry import export_text

    reader = _reader(db)
    if path == "-":
        click.echo(export_text(reader, fmt or "json"), nl=False)
        return
    target = Path(path)
    write_atomically(target, export_text(reader, format_for(target, fmt)))
    _say(f"exported {len(reader.names())} prompts to {os.fspath(target)}")


@prompts_group.command("import")
@_db_option
@click.argument("path")
@click.option("--format", "fmt", type=_FORMAT, default=None, help="Default: from PATH's extension.")
@_json_option
@_errors
def import_prompts(db: str | None, path: str, fmt: str | None, as_json: bool) -> None:
    """Add an exported file's versions and aliases; importing twice adds nothing."""
    from spyglass.errors import PromptError

    if not Path(path).is_file():  # before opening the registry, which would create the file
        raise PromptError(f"cannot read {path}: no such file")
    result = _registry(db).import_from(path, fmt)
    if as_json:
        _print_json(result.to_dict())
        return
    created = ", ".join(result.created) or "none"
    moved = ", ".join(result.aliases) or "none"
    _say(f"new versions: {created}; aliases set: {moved}; already present: {result.unchanged}")
