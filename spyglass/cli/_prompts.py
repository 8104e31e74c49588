"""``spyglass prompts ...``: the registry from the terminal, each command a thin adapter.

``spyglass.cli`` imports this module to register the group, so it imports only ``click`` and
the CLI's shared helpers (``_common``) at module level: ``spyglass --help`` stays fast and
loads no SQLite code, OTel or framework.

Read commands (list, log, show, diff, traces, export) open the file with ``open_for_read``
and never create one; register, alias and import create and migrate it as the API does.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from spyglass.cli._common import (
    db_option,
    db_path,
    errors_to_exit,
    json_option,
    limit_option,
    print_json,
    print_renderable,
)

if TYPE_CHECKING:
    from spyglass.prompts._reader import RegistryReader
    from spyglass.prompts._registry import PromptRegistry


def _reader(db: str | None) -> RegistryReader:
    from spyglass.prompts._reader import RegistryReader
    from spyglass.tracer._db import open_for_read

    return RegistryReader(open_for_read, db_path(db))


def _registry(db: str | None) -> PromptRegistry:
    from spyglass.prompts._registry import PromptRegistry

    return PromptRegistry(db_path(db))


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
        body = _read_stdin() if file == "-" else _read(file)
        # Editors end files with a newline; it is not part of the prompt.
        body = body[:-1] if body.endswith("\n") else body
    else:
        body = text or ""
    if not chat:
        return body
    return read_messages(body, file if file not in (None, "-") else "--template")


def _read(file: str) -> str:
    from spyglass.prompts._files import read_limited

    return read_limited(Path(file))


def _read_stdin() -> str:
    from spyglass.errors import PromptError
    from spyglass.prompts._files import MAX_FILE_BYTES

    try:
        body = sys.stdin.read(MAX_FILE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read stdin: {exc}") from None
    if len(body) > MAX_FILE_BYTES:
        raise PromptError(f"stdin holds more than {MAX_FILE_BYTES:,} characters")
    return body


@prompts_group.command()
@db_option
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
@json_option()
@errors_to_exit
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
    from spyglass.prompts._secrets import check_no_secrets
    from spyglass.prompts._template import normalize

    check_name(name)
    body = normalize(_read_template(file, text, chat))
    parameters = parse_text(params, "json", "--params") if params is not None else None
    if parameters is not None and not isinstance(parameters, dict):
        from spyglass.errors import PromptError

        raise PromptError("--params must be a JSON object")
    # Before the registry opens (and maybe creates) the file; _register checks again.
    check_no_secrets(name, body, message, model, parameters, tags)
    version, created = _registry(db)._register(name, body, message, model, parameters, tags)
    if as_json:
        print_json({"created": created, **version.to_dict()})
    elif created:
        click.echo(
            f"registered {version.ref} (variables: {', '.join(version.variables) or 'none'})"
        )
    else:
        click.echo(f"{version.ref} unchanged: same template, model and parameters as the latest")


@prompts_group.command("list")
@db_option
@json_option()
@errors_to_exit
def list_prompts(db: str | None, as_json: bool) -> None:
    """List prompts: latest version, number of versions, aliases."""
    summaries = _reader(db).summaries()
    if as_json:
        print_json([s.to_dict() for s in summaries])
        return
    from spyglass.viewer._prompts import list_table

    print_renderable(list_table(summaries) if summaries else "no prompts")


@prompts_group.command()
@db_option
@click.argument("name")
@json_option()
@errors_to_exit
def log(db: str | None, name: str, as_json: bool) -> None:
    """Show every version of a prompt, newest first."""
    reader = _reader(db)
    versions, aliases = reader.versions(name), reader.aliases(name)
    if as_json:
        print_json([v.to_dict() for v in reversed(versions)])
        return
    from spyglass.viewer._prompts import log_table

    print_renderable(log_table(versions, aliases))


@prompts_group.command()
@db_option
@click.argument("ref")
@json_option()
@errors_to_exit
def show(db: str | None, ref: str, as_json: bool) -> None:
    """Show one version: NAME, NAME@VERSION or NAME@ALIAS."""
    reader = _reader(db)
    version = reader.get(ref)
    aliases = reader.aliases(version.name)
    if as_json:
        pointing = sorted(alias for alias, number in aliases.items() if number == version.version)
        print_json({**version.to_dict(), "aliases": pointing})
        return
    from spyglass.viewer._prompts import version_view

    print_renderable(version_view(version, aliases))


@prompts_group.command()
@db_option
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead.")
@errors_to_exit
def alias(db: str | None, name: str, alias_name: str, version: str | None, delete: bool) -> None:
    """Point ALIAS at VERSION (a number, an alias or latest), or --delete it."""
    from spyglass.errors import PromptError

    if delete:
        if version is not None:
            raise PromptError("give a VERSION or --delete, not both")
        _registry(db).delete_alias(name, alias_name)
        click.echo(f"deleted {name}@{alias_name}")
        return
    if version is None:
        raise PromptError("give the VERSION to point the alias at (or --delete)")
    target = _registry(db).set_alias(name, alias_name, version)
    click.echo(f"{name}@{alias_name} → {target.version}")


@prompts_group.command()
@db_option
@click.argument("name")
@click.argument("a")
@click.argument("b")
@json_option()
@errors_to_exit
def diff(db: str | None, name: str, a: str, b: str, as_json: bool) -> None:
    """Compare versions A and B (numbers or aliases) and what their traces did.

    Shows the template diff, variable, model and parameter changes, and the runs, error rate,
    median latency and mean tokens of the traces linked to each version.
    """
    result = _reader(db).diff(name, a, b)
    if as_json:
        print_json(result.to_dict())
        return
    from spyglass.viewer._prompts import diff_view

    print_renderable(diff_view(result))


@prompts_group.command()
@db_option
@click.argument("ref")
@limit_option(20, "How many traces.")
@json_option()
@errors_to_exit
def traces(db: str | None, ref: str, limit: int, as_json: bool) -> None:
    """List the traces that used a version, newest first.

    REF is NAME (the latest version), NAME@VERSION or NAME@ALIAS.
    """
    found = _reader(db).traces(ref, limit=limit)
    if as_json:
        print_json([summary.to_dict() for summary in found])
        return
    from spyglass.viewer._static import empty, traces_table

    print_renderable(traces_table(found) if found else empty(f"no traces used {ref}"))


_FORMAT = click.Choice(["json", "yaml"])


@prompts_group.command("export")
@db_option
@click.argument("path", default="-")
@click.option(
    "--format",
    "fmt",
    type=_FORMAT,
    default=None,
    help="Default: from PATH's extension; JSON for stdout.",
)
@errors_to_exit
def export_prompts(db: str | None, path: str, fmt: str | None) -> None:
    """Write the whole registry to one JSON or YAML file (- for stdout)."""
    from spyglass.prompts._files import format_for, write_atomically
    from spyglass.prompts._registry import export_text

    reader = _reader(db)
    if path == "-":
        click.echo(export_text(reader, fmt or "json"), nl=False)
        return
    from spyglass.errors import PromptError

    target = Path(path)
    if target.is_dir():  # the rename at the end would fail: say so before any work
        raise PromptError(f"cannot write {path}: it is a directory; give a file name")
    text = export_text(reader, format_for(target, fmt))
    try:
        write_atomically(target, text)
    except OSError as exc:
        raise PromptError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"exported {len(reader.names())} prompts to {os.fspath(target)}")


@prompts_group.command("import")
@db_option
@click.argument("path")
@click.option("--format", "fmt", type=_FORMAT, default=None, help="Default: from PATH's extension.")
@json_option()
@errors_to_exit
def import_prompts(db: str | None, path: str, fmt: str | None, as_json: bool) -> None:
    """Add an exported file's versions and aliases; importing twice adds nothing."""
    from spyglass.errors import PromptError

    if not Path(path).is_file():  # before opening the registry, which would create the file
        what = "it is a directory" if Path(path).is_dir() else "no such file"
        raise PromptError(f"cannot read {path}: {what}")
    from spyglass.prompts._files import read_document

    document = read_document(Path(path), fmt)  # a bad file leaves no new database behind
    result = _registry(db)._import_document(document)
    if as_json:
        print_json(result.to_dict())
        return
    created = ", ".join(result.created) or "none"
    moved = ", ".join(result.aliases) or "none"
    click.echo(
        f"new versions: {created}; aliases set: {moved}; already present: {result.unchanged}"
    )
