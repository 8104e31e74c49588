"""``spyglass eval ...`` and ``spyglass score`` through click's runner, error paths included."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import spyglass
from spyglass.cli import main
from spyglass.cli._eval import eval_group, parse_value

README = Path(__file__).resolve().parent.parent / "README.md"
APP = """
def good(question):
    return {"Where?": "here", "When?": "now"}.get(question, "?")

def bad(question):
    if question == "When?":
        raise RuntimeError("clock broke")
    return "there"
"""
DATA = [
    {"inputs": {"question": "Where?"}, "expected": "here"},
    {"inputs": {"question": "When?"}, "expected": "now"},
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 0, err
    return out


def fails(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 1 and out == ""
    assert err.startswith("spyglass: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with an app module and a dataset, as the working directory."""
    (tmp_path / "evalapp.py").write_text(APP)
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(row) + "\n" for row in DATA))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("evalapp", None)


def _two_runs(db: Path) -> None:
    for target in ("good", "bad"):
        ok(
            *("eval", "run", "qa.jsonl", "--target", f"evalapp:{target}", "--name", target),
            *("--evaluator", "exact_match", "--evaluator", "contains", "--db", str(db)),
            "--allow-errors",
        )


def test_eval_run_prints_metrics_and_json(project: Path, db: Path) -> None:
    out = ok(
        *("eval", "run", "qa.jsonl", "--target", "evalapp:good", "--evaluator", "exact_match"),
        *("--name", "first", "--concurrency", "2", "--db", str(db)),
    )
    assert "first" in out and "exact_match" in out and "100.0%" in out
    payload = json.loads(
        run("eval", "run", "qa.jsonl", "--target", "evalapp:bad", "--json", "--db", str(db))[1]
    )
    assert payload["name"] == "bad" and payload["metrics"]["errors"] == 1
    assert payload["dataset"] == {"name": "qa", "hash": payload["dataset"]["hash"], "examples": 2}
    assert [row["error"] for row in payload["rows"]] == [None, "RuntimeError: clock broke"]
    assert payload["rows"][0]["trace_id"] and payload["status"] == "completed"


def test_eval_list_show_and_compare(project: Path, db: Path) -> None:
    _two_runs(db)
    listed = json.loads(ok("eval", "list", "--json", "--db", str(db)))
    assert [run["name"] for run in listed] == ["bad", "good"]
    assert "good" in ok("eval", "list", "--db", str(db))
    shown = json.loads(ok("eval", "show", "good", "--json", "--db", str(db)))
    assert [row["scores"]["exact_match"]["value"] for row in shown["rows"]] == [True, True]
    prefix = listed[0]["run_id"][:6]
    assert json.loads(ok("eval", "show", prefix, "--json", "--db", str(db)))["name"] == "bad"
    table = ok("eval", "show", "bad", "--failed", "--db", str(db))
    assert "clock broke" in table and "Where?" in table  # "there" fails exact_match too
    compared = json.loads(ok("eval", "compare", "good", "bad", "--json", "--db", str(db)))
    changes = {(c["inputs"]["question"], c["change"]) for c in compared["changes"]}
    assert changes == {("Where?", "pass→fail"), ("When?", "ok→error")}
    assert compared["examples"] == {"matched": 2, "only_a": 0, "only_b": 0}
    text = ok("eval", "compare", "good", "bad", "--db", str(db))
    assert "pass→fail" in text and "ok→error" in text and "exact_match.pass_rate" in text


def test_score_command(project: Path, db: Path) -> None:
    _two_runs(db)
    trace_id = json.loads(ok("eval", "show", "good", "--json", "--db", str(db)))["rows"][0][
        "trace_id"
    ]
    out = ok("score", trace_id[:8], "helpful", "true", "--comment", "nice", "--db", str(db))
    assert out == f"scored {trace_id[:12]}: helpful = True\n"
    record = json.loads(ok("score", trace_id, "grade", "B+", "--json", "--db", str(db)))
    assert record["value"] == "B+" and record["kind"] == "label" and record["source"] == "human"
    from spyglass.tracer._scores import scores

    assert [s.score.name for s in scores(db, trace_id=trace_id, run=None)][-2:] == [
        "helpful",
        "grade",
    ]


def test_score_takes_a_negative_value(project: Path, db: Path) -> None:
    """``spyglass score ID x -5``: click read ``-5`` as an unknown option."""
    _two_runs(db)
    trace_id = json.loads(ok("eval", "show", "good", "--json", "--db", str(db)))["rows"][0][
        "trace_id"
    ]
    assert ok("score", trace_id, "delta", "-5", "--db", str(db)) == (
        f"scored {trace_id[:12]}: delta = -5.0\n"
    )
    record = json.loads(ok("score", trace_id, "x", "-0.25", "--comment", "c", "--json",
                           "--db", str(db)))  # fmt: skip
    assert record["value"] == -0.25 and record["comment"] == "c"
    assert "--commnet" in fails("score", trace_id, "x", "1", "--commnet", "c", "--db", str(db))


def test_parse_value() -> None:
    assert parse_value("TRUE") is True and parse_value("false") is False
    assert parse_value("0.5") == 0.5 and parse_value("4") == 4.0
    assert parse_value("good") == "good"


def test_error_paths_are_one_line(project: Path, db: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.db")
    assert "no database at" in fails("eval", "list", "--db", missing)
    assert "no database at" in fails("eval", "show", "x", "--db", missing)
    assert "no database at" in fails("score", "abcd", "x", "1", "--db", missing)
    assert not Path(missing).exists()  # read commands never create a file
    _two_runs(db)
    assert "no evaluation run" in fails("eval", "show", "nope", "--db", str(db))
    assert "no evaluation run" in fails("eval", "compare", "good", "nope", "--db", str(db))
    assert "no trace with id" in fails("score", "abcdef", "x", "1", "--db", str(db))
    base = ("eval", "run", "qa.jsonl", "--db", str(db))
    assert "unknown evaluator" in fails(*base, "--target", "evalapp:good", "--evaluator", "nope")
    assert "needs an argument" in fails(*base, "--target", "evalapp:good", "--evaluator", "regex")
    assert "has no attribute" in fails(*base, "--target", "evalapp:missing")
    assert "cannot import" in fails(*base, "--target", "no_such_module:f")
    assert "module:attribute" in fails(*base, "--target", "evalapp")
    assert "no dataset file" in fails(
        "eval", "run", "none.jsonl", "--target", "evalapp:good", "--db", str(db)
    )


def test_every_eval_command_has_help_and_is_in_the_readme() -> None:
    readme = README.read_text()
    for name, command in eval_group.commands.items():
        assert command.help, name
        assert re.search(rf"`spyglass eval {name}\b", readme), name
    assert "`spyglass score TRACE NAME VALUE" in readme
    assert spyglass.evaluate is not None


def test_model_text_is_shown_literally(project: Path, db: Path) -> None:
    (project / "evilapp.py").write_text(
        "def answer(question):\n    return '\\x1b[31m[bold]red[/bold]'\n"
    )
    ok("eval", "run", "qa.jsonl", "--target", "evilapp:answer", "--name", "evil", "--db", str(db))
    sys.modules.pop("evilapp", None)
    out = ok("eval", "show", "evil", "--db", str(db))
    assert "\\x1b[31m[bold]red[/bold]" in out and "\x1b" not in out


def test_eval_run_exit_status_gates_ci(project: Path, db: Path) -> None:
    """0 ok, 1 bad input, 2 examples raised (unless --allow-errors), 3 a threshold missed;
    each reason one line on stderr; the JSON on stdout whatever the status."""
    base = ("eval", "run", "qa.jsonl", "--evaluator", "exact_match", "--db", str(db))
    code, out, err = run(*base, "--target", "evalapp:bad", "--json")
    assert code == 2 and json.loads(out)["metrics"]["errors"] == 1
    assert err == "spyglass: 1 of 2 examples raised\n"
    assert run(*base, "--target", "evalapp:bad", "--allow-errors")[0] == 0
    assert run(*base, "--target", "evalapp:good", "--fail-under", "exact_match=1")[0] == 0
    code, _, err = run(*base, "--target", "evalapp:bad", "--allow-errors",
                       "--fail-under", "exact_match.pass_rate=0.9")  # fmt: skip
    assert code == 3
    assert err.splitlines()[-1] == (
        "spyglass: threshold missed: exact_match.pass_rate = 0, under 0.9"
    )
    code, _, err = run(*base, "--target", "evalapp:bad", "--fail-under", "exact_match=0.9")
    assert code == 2 and "threshold missed" in err  # raised examples come first
    assert "no evaluator 'nope' in this run; evaluators: exact_match" in fails(
        *base, "--target", "evalapp:good", "--fail-under", "nope=0.5"
    )
    assert "want METRIC=NUMBER" in fails(
        *base, "--target", "evalapp:good", "--fail-under", "exact_match"
    )


def test_eval_run_help_documents_the_exit_statuses() -> None:
    out = ok("eval", "run", "--help")
    for line in ("0  every example ran", "1  bad input", "2  examples raised", "3  a --fail-under"):
        assert line in out
    readme = README.read_text()
    assert "--fail-under METRIC=VALUE" in readme and "--allow-errors" in readme
