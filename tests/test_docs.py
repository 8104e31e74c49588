"""The README documents what exists: every command, every public name, the set-up commands.

Modelled on sqlite-utils' ``tests/test_docs.py``: the CLI is walked from ``spyglass.cli.main``,
so a new command without help text or without a line in the README fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

import spyglass
from spyglass.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SETUP = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[langchain]' "
    "&& spyglass demo",
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]' && scripts/check",
)


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """``("prompts diff", command)`` for every command and group under ``group``."""
    for name, command in sorted(group.commands.items()):
        full = (*path, name)
        yield " ".join(full), command
        if isinstance(command, click.Group):
            yield from walk(command, full)


COMMANDS = dict(walk(main))


def cli_section() -> str:
    start = README.index("\n## Command line")
    end = README.index("\n## ", start + 1)
    return README[start:end]


def test_the_walk_finds_every_level() -> None:
    assert {"demo", "traces", "ui", "prompts", "prompts diff", "eval compare", "score"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_command_has_help(path: str) -> None:
    command = COMMANDS[path]
    assert command.help and command.help.strip(), f"`spyglass {path}` has no help text"
    assert command.get_short_help_str().strip()


@pytest.mark.parametrize(
    "path", sorted(p for p, c in COMMANDS.items() if not isinstance(c, click.Group))
)
def test_every_command_is_in_the_readme_command_table(path: str) -> None:
    assert re.search(rf"^\| `spyglass {re.escape(path)}\b", cli_section(), re.MULTILINE), (
        f"`spyglass {path}` has no row in the README's command table"
    )


@pytest.mark.parametrize(
    "path", sorted(p for p, c in COMMANDS.items() if isinstance(c, click.Group))
)
def test_every_group_is_in_the_readme(path: str) -> None:
    assert f"`spyglass {path} " in cli_section()


@pytest.mark.parametrize("name", spyglass.__all__)
def test_every_public_name_is_in_the_readme(name: str) -> None:
    assert re.search(rf"\bspyglass\.{re.escape(name)}\b", README), f"spyglass.{name}"


@pytest.mark.parametrize("line", SETUP)
def test_the_set_up_commands_are_in_the_readme_verbatim(line: str) -> None:
    assert line in README.splitlines()
