"""A failure deep in a trace is findable: the root's status, the trace's failed spans, and the
``--errors`` / ``has:error`` filters, through the store, the CLI, the live follower and the app.

The file is written by the real pipeline (``autolog`` and ``spyglass.trace``): one trace whose
root went on after its tool call failed (status OK, one failed span), one clean trace and one
whose root failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from textual.widgets import Static

import spyglass
from spyglass.cli import main
from spyglass.errors import ConfigurationError
from spyglass.prompts import PromptRegistry
from spyglass.tracer._follow import Follower
from spyglass.viewer import make_app
from spyglass.viewer._query import parse_query
from spyglass.viewer._trace_table import TraceTable


def write_traces(db: Path) -> None:
    registry = PromptRegistry(db)
    first = registry.register("qa", "v1 {q}")
    second = registry.register("qa", "v2 {q}")
    spyglass.autolog(db=db, integrations=(), project="proj")
    with spyglass.trace("recovered", kind="AGENT"):  # its tool failed; the agent went on
        first.format(q="?")
        with pytest.raises(KeyError), spyglass.trace("lookup", kind="TOOL"):
            raise KeyError("no such order")
    with spyglass.trace("clean"):
        second.format(q="?")
    with pytest.raises(ValueError), spyglass.trace("crashed"):
        raise ValueError("boom")
    spyglass.flush()
    spyglass.autolog(disable=True)


@pytest.fixture
def filled(db: Path) -> Path:
    write_traces(db)
    return db


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def names(rows: list[dict[str, object]]) -> list[object]:
    return [row["name"] for row in rows]


def test_store_status_is_the_roots_and_errors_count_every_span(filled: Path) -> None:
    store = spyglass.Store(filled)
    by_name = {s.name: s for s in store.traces()}
    recovered = by_name["recovered"]
    assert recovered.status == "OK" and recovered.error_count == 1 and recovered.has_errors
    assert by_name["crashed"].status == "ERROR" and by_name["crashed"].has_errors
    assert not by_name["clean"].has_errors
    assert [s.name for s in store.traces(errors=True)] == ["crashed", "recovered"]
    assert [s.name for s in store.traces(errors=False)] == ["clean"]
    assert [s.name for s in store.traces(status="error")] == ["crashed"]
    assert [s.name for s in store.traces(status="ok", errors=True)] == ["recovered"]
    with pytest.raises(ConfigurationError, match="errors must be True, False or None"):
        store.traces(errors="yes")  # type: ignore[arg-type]


def test_cli_traces_shows_the_failed_spans_and_filters_on_them(filled: Path) -> None:
    code, out, err = run("traces", "--db", str(filled))
    assert code == 0 and err == ""
    header, *lines = out.splitlines()
    assert header.split()[4:6] == ["STATUS", "ERRORS"]
    rows = {line.split()[3]: line.split()[4:6] for line in lines}
    assert rows == {"crashed": ["ERROR", "1"], "clean": ["OK", "-"], "recovered": ["OK", "1"]}

    code, out, _ = run("traces", "--db", str(filled), "--errors", "--json")
    assert code == 0
    found = json.loads(out)
    assert names(found) == ["crashed", "recovered"]
    assert [(row["status"], row["error_count"]) for row in found] == [("ERROR", 1), ("OK", 1)]
    code, out, _ = run("traces", "--db", str(filled), "--status", "error", "--json")
    assert names(json.loads(out)) == ["crashed"]
    code, out, _ = run("traces", "--db", str(filled), "--status", "ok", "--errors", "--json")
    assert names(json.loads(out)) == ["recovered"]


def test_cli_show_counts_the_failed_spans(filled: Path) -> None:
    (recovered,) = spyglass.Store(filled).traces(search=None, errors=True, status="ok")
    code, out, _ = run("show", recovered.trace_id, "--db", str(filled))
    assert code == 0
    assert "recovered  OK" in out.splitlines()[0]
    assert "2 spans (1 failed)" in out.splitlines()[1]


def test_stats_and_prompt_diff_count_a_run_with_a_failed_span_as_an_error(filled: Path) -> None:
    code, out, _ = run("stats", "--db", str(filled), "--json")
    assert code == 0
    prompts = {row["prompt"]: row for row in json.loads(out)["prompts"]}
    assert (prompts["qa@1"]["runs"], prompts["qa@1"]["errors"]) == (1, 1)
    assert (prompts["qa@2"]["runs"], prompts["qa@2"]["errors"]) == (1, 0)
    code, out, _ = run("prompts", "diff", "qa", "1", "2", "--db", str(filled), "--json")
    assert code == 0
    runs = json.loads(out)["runs"]
    assert (runs["a"]["errors"], runs["a"]["error_rate"]) == (1, 1.0)
    assert (runs["b"]["errors"], runs["b"]["error_rate"]) == (0, 0.0)


def test_follower_filters_on_errors(filled: Path) -> None:
    follower = Follower(spyglass.Store(filled), {"errors": True})
    assert [s.name for s in follower.backlog(10)] == ["recovered", "crashed"]


def test_cli_follow_with_errors_prints_only_traces_with_a_failed_span(filled: Path) -> None:
    command = ["traces", "-f", "--errors", "--json", "-n", "1", "--db", str(filled)]
    process = subprocess.Popen(
        [sys.executable, "-m", "spyglass.cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    try:
        assert json.loads(process.stdout.readline())["name"] == "crashed"
        spyglass.autolog(db=filled, integrations=())
        with spyglass.trace("later-clean"):
            pass
        with (
            spyglass.trace("later-recovered"),
            pytest.raises(KeyError),
            spyglass.trace("tool", kind="TOOL"),
        ):
            raise KeyError("x")
        spyglass.flush()
        line = json.loads(process.stdout.readline())  # the clean one is never printed
        assert (line["name"], line["status"], line["error_count"]) == ("later-recovered", "OK", 1)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and err == ""


def test_query_has_error() -> None:
    assert parse_query("has:error refund").filters() == {"search": "refund", "errors": True}
    assert parse_query("HAS:Errors").errors
    with pytest.raises(ConfigurationError, match="has: takes error"):
        parse_query("has:nonsense")


async def test_app_lists_failed_spans_and_filters_with_has_error(filled: Path) -> None:
    app = make_app(filled, poll_interval=None)
    async with app.run_test(size=(120, 30)) as pilot:

        async def until(done: object, what: str) -> None:
            for _ in range(400):
                if callable(done) and done():
                    return
                await pilot.pause(0.02)
            raise AssertionError(f"never happened: {what}")

        table = app.screen.query_one(TraceTable)

        def shown() -> dict[str, tuple[str, str]]:
            out = {}
            for index in range(table.row_count):
                row = table.get_row_at(index)
                out[row[1].plain] = (row[2].plain, row[3].plain)
            return out

        await until(lambda: table.row_count == 3, "the list loads")
        expected = {"crashed": ("ERROR", "1"), "clean": ("OK", "-"), "recovered": ("OK", "1")}
        assert shown() == expected
        await pilot.press("slash", *"has:error", "enter")
        await until(lambda: set(shown()) == {"crashed", "recovered"}, "has:error applies")
        await pilot.press("slash", *["backspace"] * 9, *"status:error", "enter")
        await until(lambda: set(shown()) == {"crashed"}, "status:error applies")
        await pilot.press("slash", *["backspace"] * 12, *"has:nothing", "enter")
        status = app.screen.query_one("#status", Static)
        await until(lambda: "has: takes error" in str(status.render()), "the error shows")
        await pilot.press("q")
