"""The evaluation tables as a user reads them: fitted to the terminal, whole with ``--full``,
A and B named, one precision per kind of figure, the target named as the user names it."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import spyglass
from spyglass.cli import main
from spyglass.evaluation._targets import describe
from spyglass.evaluators import contains, exact_match, hit_rate, mrr, valid_json

LONG = "Where exactly are the spans of a long-running process stored once the exporter flushes?"


def good(question: str) -> str:
    return "here" if question.startswith("Where") else "now"


def worse(question: str) -> str:
    return "there"


@pytest.fixture
def runs(db: Path) -> Path:
    data = [
        {"question": LONG, "expected": "here"},
        {"question": "When?", "expected": "now"},
        {"question": "Why?", "expected": "later"},
    ]
    checks = [exact_match(), contains(), hit_rate(), mrr(), valid_json(), exact_match(name="em2")]
    spyglass.evaluate(good, data, checks, name="first", db=db, progress=False)
    spyglass.evaluate(worse, data, checks, name="second", db=db, progress=False)
    return db


def cli(monkeypatch: pytest.MonkeyPatch, columns: int, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_run_list_keeps_name_and_status_on_a_narrow_terminal(
    runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = cli(monkeypatch, 80, "eval", "list", "--db", str(runs))
    assert "first" in narrow and "second" in narrow and "completed" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    wide = cli(monkeypatch, 220, "eval", "list", "--db", str(runs))
    assert "em2 66.7%" in wide  # every score's headline, not the first four


def test_examples_fill_the_terminal_and_full_shows_them_whole(
    runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = cli(monkeypatch, 100, "eval", "show", "first", "--db", str(runs))
    assert LONG not in narrow and "Where exactly" in narrow
    wide = cli(monkeypatch, 260, "eval", "show", "first", "--db", str(runs))
    assert LONG in wide  # the column grew with the terminal
    full = cli(monkeypatch, 100, "eval", "show", "first", "--full", "--db", str(runs))
    joined = " ".join(line.strip() for line in full.splitlines())
    assert all(word in joined for word in LONG.split())
    assert max(len(line) for line in full.splitlines()) <= 100


def test_compare_names_a_and_b_and_how_they_differ(
    runs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = cli(monkeypatch, 140, "eval", "compare", "first", "second", "--db", str(runs))
    lines = out.splitlines()
    assert lines[0].split() == ["A", "B"]
    name_row = next(line for line in lines if line.startswith("name"))
    assert name_row.split() == ["name", "first", "second"]
    assert any(line.startswith("started") for line in lines)
    target_row = next(line for line in lines if line.startswith("target"))
    assert "test_eval_views:good" in target_row and "test_eval_views:worse" in target_row
    assert "B vs A: target test_eval_views:good → test_eval_views:worse; B started" in out


def test_numbers_have_one_precision_per_kind(runs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = cli(monkeypatch, 140, "eval", "compare", "first", "second", "--db", str(runs))
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "." in line[:22]}
    assert rows["exact_match.mean"] == ["0.667", "0.000", "-0.667"]
    assert rows["exact_match.pass_rate"] == ["66.7%", "0.0%", "-66.7%"]
    assert "0.6667" not in out
    show = cli(monkeypatch, 140, "eval", "show", "first", "--db", str(runs))
    metric = next(line for line in show.splitlines() if line.startswith("exact_match"))
    assert metric.split()[:3] == ["exact_match", "0.667", "66.7%"]
    assert "latency  p50 " in show and " ms" not in show  # a length of time, as everywhere


def test_target_named_as_the_user_names_it() -> None:
    def build() -> object:
        def answer(question: str) -> str:
            return question

        return answer

    class Bot:
        def reply(self, question: str) -> str:
            return question

    assert describe(good) == "test_eval_views:good"
    assert describe(functools.partial(good)) == "test_eval_views:good"
    assert describe(build()) == (
        "test_eval_views:test_target_named_as_the_user_names_it.build.answer"
    )
    assert describe(Bot().reply).endswith(":test_target_named_as_the_user_names_it.Bot.reply")


def test_a_script_target_is_named_after_the_script(tmp_path: Path) -> None:
    script = tmp_path / "my_app.py"
    script.write_text(
        "import json, sys, spyglass\n"
        "def answer(question):\n    return question\n"
        "r = spyglass.evaluate(answer, [{'question': 'q'}], [], db=sys.argv[1], progress=False)\n"
        "print(json.dumps(r.run.target))\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == "my_app:answer"
