"""Bad command lines end as one line on stderr and exit status 1, never a traceback: numbers
past SQLite's 64-bit integers, a directory where a file goes, click's own usage errors, and
values that would make a message huge or break it over several lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import spyglass
from spyglass.cli import main
from spyglass.prompts import PromptRegistry
from spyglass.tracer._records import parse_since

HUGE = "99999999999999999999"  # > 2**63 - 1


@pytest.fixture
def filled(db: Path) -> Path:
    PromptRegistry(db).register("qa", "Answer {q}")
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("request"):
        pass
    spyglass.autolog(disable=True)
    return db


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def fails(*args: str) -> str:
    code, out, err = run(*args)
    assert (code, out) == (1, ""), (code, out, err)
    assert err.startswith("spyglass: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "args",
    [
        ("traces", "--since", "1000-01-01"),  # before 1678: every trace
        ("traces", "--since", "300000d"),
        ("traces", "--since", "9" * 400 + "w"),
        ("traces", "-n", HUGE),  # more than SQLite can count: all of them
        ("stats", "--since", "0001-01-01"),
        ("search", "request", "-n", HUGE),
        ("prompts", "traces", "qa", "-n", HUGE),
        ("eval", "list", "-n", HUGE),
    ],
)
def test_numbers_past_64_bits_mean_everything(filled: Path, args: tuple[str, ...]) -> None:
    code, out, err = run(*args, "--db", str(filled))
    assert (code, err) == (0, ""), err
    if args[0] == "traces":
        assert "request" in out


def test_a_version_past_64_bits_is_one_line(filled: Path) -> None:
    err = fails("prompts", "show", f"qa@{HUGE}", "--db", str(filled))
    assert "version must be at most 9223372036854775807" in err
    err = fails("prompts", "show", "qa@" + "9" * 5000, "--db", str(filled))  # int() refuses it
    assert len(err) < 200
    err = fails("prompts", "diff", "qa", "1", HUGE, "--db", str(filled))
    assert "at most" in err


def test_a_directory_as_the_database_is_one_line(tmp_path: Path) -> None:
    err = fails("traces", "--db", str(tmp_path))
    assert "is a directory" in err and "spyglass traces --help" in err
    fails("prompts", "register", "qa", "-t", "x", "--db", str(tmp_path))


def test_export_and_import_with_a_directory_are_one_line(filled: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out.json"
    folder.mkdir()
    for target in (str(folder), str(tmp_path)):
        err = fails("prompts", "export", target, "--format", "json", "--db", str(filled))
        assert f"cannot write {target}: it is a directory" in err
    err = fails("prompts", "import", str(folder), "--db", str(filled))
    assert f"cannot read {folder}: it is a directory" in err


def test_a_path_the_system_refuses_is_one_line(tmp_path: Path) -> None:
    from spyglass.errors import MAX_MESSAGE_CHARS

    err = fails("prompts", "register", "qa", "-t", "x", "--db", str(tmp_path / ("n" * 5000)))
    assert "File name too long" in err and len(err) < MAX_MESSAGE_CHARS + 100


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("traces", "--bogus"), "No such option '--bogus' (see 'spyglass traces --help')"),
        (("show",), "Missing argument 'TRACE_ID' (see 'spyglass show --help')"),
        (("traces", "-n", "0"), "0 is not in the range x>=1"),
        (("nope",), "No such command 'nope'"),
        (("prompts", "show"), "Missing argument 'REF'"),
        (("traces", "--status", "a\nb"), r"'a\nb' is not one of"),
    ],
)
def test_usage_errors_are_one_line_and_exit_1(args: tuple[str, ...], expected: str) -> None:
    assert expected in fails(*args)


def test_a_group_without_a_command_prints_its_help() -> None:
    for args in ((), ("prompts",), ("eval",)):
        code, out, err = run(*args)
        assert code == 0 and err == "" and "Usage: spyglass" in out


def test_the_installed_entry_point_behaves_the_same(tmp_path: Path) -> None:
    def spyglass_cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "spyglass.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    done = spyglass_cli("traces", "--db", str(tmp_path))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "directory" in done.stderr
    done = spyglass_cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("spyglass")
    done = spyglass_cli("traces", "-n", HUGE, "--json", "--db", str(tmp_path / "none.db"))
    assert done.returncode == 1 and done.stderr.startswith("spyglass: error: no database at")


def test_messages_are_one_line_and_capped() -> None:
    from spyglass.errors import MAX_MESSAGE_CHARS, one_line

    assert one_line("a\nb\x1b[31m\u202e") == "a\\nb\\x1b[31m\\u202e"
    capped = one_line("x" * 10**6)
    assert len(capped) < MAX_MESSAGE_CHARS + 40 and "1,000,000 characters in all" in capped


def test_since_bounds_stay_within_sqlite_integers() -> None:
    assert parse_since("1000-01-01") == -(2**63)
    assert parse_since("300000d") == -(2**63)
    assert parse_since("9999-12-31") == 2**63 - 1


def test_json_output_of_a_huge_limit(filled: Path) -> None:
    code, out, _ = run("traces", "-n", HUGE, "--json", "--db", str(filled))
    assert code == 0 and [row["name"] for row in json.loads(out)] == ["request"]
