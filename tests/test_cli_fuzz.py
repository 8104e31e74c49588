"""Random command lines for every spyglass command: exit 0 or 1, never a traceback, and a
failure is exactly one line on stderr.

The commands come from walking the click group, so a new command is covered without touching
this file. Each example runs in a fresh directory under ``tmp_path`` holding a copy of a
populated file, an empty spyglass file, a directory and a few prompt files, with
``$SPYGLASS_DB`` pointing at one of them; no generated path is absolute or climbs out with
``..``, so nothing is written outside it (Hypothesis's own caches included).

Left out, on purpose: ``ui`` (an interactive app), ``demo`` (a whole traced RAG run, seconds;
``tests/test_demo.py`` covers it), ``traces --follow`` / ``-f`` (loops until Ctrl-C), and any
``module:name`` for ``eval run --target`` / ``--evaluator``, which would import and run code.
Arguments never hold a NUL character: a real command line cannot.
"""

from __future__ import annotations

import os
import reprlib
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import spyglass
from spyglass.cli import main
from spyglass.prompts import PromptRegistry


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


# `collect` serves until Ctrl-C (arguments that happen to be valid would start a real server on
# :4318 and wait there); its command-line errors are in tests/test_collect_cli.py.
SKIPPED = {"ui", "demo", "collect"}
COMMANDS = {path: command for path, command in walk(main) if path not in SKIPPED}
NEVER = {"--follow", "-f"}  # `traces -f` polls until Ctrl-C
NO_CODE = {"--target", "--evaluator"}  # module:name would import and run it

#: Values worth trying anywhere: edge numbers and dates, refs, paths of the example's folder.
SPECIAL = [
    "0", "-1", "1", "99999999999999999999", "9" * 5000, "1e999", "nan", "inf", "²", "٣",
    "1000-01-01", "0001-01-01", "9999-12-31", "300000d", "1h", "-1d", "",  " ", "-", "--",
    "@", "qa", "qa@1", "qa@production", "qa@latest", "qa@99999999999999999999", "qa@", "nightly",
    "traces.db", "empty.db", "missing.db", "folder", "prompts.json", "prompts.yaml",
    "bomb.yaml", "out.json", "out.yaml", "folder/new.json", "a\nb", "\x1b[31mred", "{x}",
    "[]", "{}", "true", "ok", "error", "human",
]  # fmt: skip
SAFE_TEXT = st.text(
    alphabet=st.characters(exclude_characters="\x00/", exclude_categories=("Cs",)), max_size=12
).filter(lambda text: ".." not in text)


def value_for(param: click.Parameter, harvested: list[str]) -> st.SearchStrategy[str]:
    pool = SPECIAL + harvested
    if isinstance(param.type, click.Choice):
        pool = [*pool, *(str(choice) for choice in param.type.choices)]
    values = st.one_of(st.sampled_from(pool), SAFE_TEXT, st.integers().map(str))
    if param.name in {name.lstrip("-") for name in NO_CODE}:
        values = values.filter(lambda text: ":" not in text)
    return values


@st.composite
def command_line(draw: st.DrawFn, command: click.Command, harvested: list[str]) -> list[str]:
    tokens: list[str] = []
    params = [p for p in command.params if not set(getattr(p, "opts", ())) & NEVER]
    for param in draw(st.permutations(params)):
        if not draw(st.booleans()):
            continue
        if isinstance(param, click.Option):
            tokens.append(draw(st.sampled_from(param.opts)))
            if not param.is_flag and draw(st.integers(0, 9)):  # sometimes the value is missing
                tokens.append(draw(value_for(param, harvested)))
        else:
            tokens.append(draw(value_for(param, harvested)))
    extra = draw(st.lists(st.one_of(st.sampled_from(SPECIAL), SAFE_TEXT), max_size=2))
    for token in extra:  # stray words and options, anywhere
        tokens.insert(draw(st.integers(0, len(tokens))), token)
    return tokens


def populate(db: Path) -> list[str]:
    """Traces (one whose tool failed), two prompt versions with an alias, a score and an
    evaluation run; returns ids and names to try as arguments."""
    registry = PromptRegistry(db)
    first = registry.register("qa", "Answer {q}")
    registry.register("qa", [("system", "Be brief"), ("user", "{q}")])
    registry.set_alias("qa", "production", 1)
    spyglass.autolog(db=db, integrations=(), project="proj")
    with spyglass.trace("agent", kind="AGENT") as span:
        assert span is not None
        first.format(q="where?")
        with pytest.raises(KeyError), spyglass.trace("lookup", kind="TOOL"):
            raise KeyError("missing")
    with pytest.raises(ValueError), spyglass.trace("crashed"):
        raise ValueError("boom")
    spyglass.flush()
    spyglass.score(span.trace_id, "correctness", 0.5, db=db)
    result = spyglass.evaluate(lambda q: q, [{"inputs": {"q": "a"}}], [], name="nightly", db=db)
    spyglass.autolog(disable=True)
    return [span.trace_id, span.trace_id[:6], result.run_id, result.run_id[:6]]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """The folder every example starts from, and the values harvested from its file."""
    base = tmp_path_factory.mktemp("fuzz-files")
    # Hypothesis keeps caches in ./.hypothesis unless told otherwise: keep them in the temp dir.
    set_hypothesis_home_dir(base.parent / "hypothesis-home")
    with pytest.MonkeyPatch.context() as env:  # the module's fixture runs before conftest's
        env.setenv("XDG_CACHE_HOME", str(base.parent / "xdg-cache"))
        env.setenv("XDG_CONFIG_HOME", str(base.parent / "xdg-config"))
        harvested = populate(base / "traces.db")
    PromptRegistry(base / "empty.db")  # a migrated file with nothing in it
    (base / "folder").mkdir()
    (base / "prompts.json").write_text('{"spyglass_prompts": 1, "prompts": []}')
    (base / "prompts.yaml").write_text("spyglass_prompts: 1\nprompts: []\n")
    (base / "bomb.yaml").write_text(
        'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "spyglass_prompts: 1\nprompts: [{name: qa, versions: *c}]\n"
    )
    yield base, harvested
    set_hypothesis_home_dir(None)


def check(command: str, args: list[str], db: str, files: tuple[Path, list[str]]) -> None:
    base, _ = files
    where = Path(tempfile.mkdtemp(dir=base.parent))
    for item in base.iterdir():
        if item.is_dir():
            shutil.copytree(item, where / item.name)
        else:
            shutil.copy(item, where)
    line = ["spyglass", *command.split(), *args]
    home = os.getcwd()
    os.chdir(where)  # relative paths (the generated ones, ./spyglass.db) land in `where`
    try:
        result = CliRunner().invoke(
            main, [*command.split(), *args], env={"SPYGLASS_DB": db, "COLUMNS": "100"}, input=""
        )
    finally:
        os.chdir(home)
        shutil.rmtree(where)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"{reprlib.repr(line)} raised:\n{trace}")
    assert result.exit_code in (0, 1), (line, result.exit_code, result.output)
    assert "Traceback" not in result.stderr, (line, result.stderr)
    if result.exit_code == 1:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("spyglass: error: "), (line, lines)
        assert len(lines[0]) <= 1100, (line, len(lines[0]))


@pytest.mark.parametrize("db", ["traces.db", "empty.db"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_random_arguments_exit_0_or_1_with_one_line(
    command: str, db: str, files: tuple[Path, list[str]]
) -> None:
    @settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "6")),
        deadline=None,
        database=None,  # no .hypothesis folder in the working directory
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        args = data.draw(command_line(COMMANDS[command], files[1]))
        check(command, args, db, files)

    run()


def test_every_command_is_covered_but_the_interactive_and_slow_ones() -> None:
    every = {path for path, _ in walk(main)}
    assert every > SKIPPED and set(COMMANDS) == every - SKIPPED
    assert {"traces", "prompts export", "prompts import", "eval run", "score"} <= set(COMMANDS)
