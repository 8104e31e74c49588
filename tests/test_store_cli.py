"""The read API and the CLI over a real file: filters, prefixes, search, JSON, every error path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import spyglass
from spyglass.cli import main
from spyglass.errors import AmbiguousTraceId, DatabaseNotFound, TraceNotFound
from spyglass.tracer import attributes as A


@pytest.fixture(autouse=True)
def _no_user_price_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Costs are computed on read: keep the developer's price file and cache out of it."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


def make_traces(db: Path) -> None:
    spyglass.autolog(db=db, integrations=(), project="proj")
    for i in range(3):
        with spyglass.trace(f"request-{i}", session_id=f"s{i % 2}") as span:
            assert span is not None
            span.set_input(f"question about {['llamas', 'otters', 'herons'][i]}")
            with spyglass.trace("model", kind="LLM") as llm:
                assert llm is not None
                llm.set_attributes(
                    {
                        A.GEN_AI_REQUEST_MODEL: "m-1",
                        A.GEN_AI_USAGE_INPUT_TOKENS: 10 + i,
                        A.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
                    }
                )
    with pytest.raises(ValueError), spyglass.trace("broken"):
        raise ValueError("nope")
    spyglass.autolog(disable=True)


@pytest.fixture
def filled(db: Path) -> Path:
    make_traces(db)
    return db


def test_traces_filters(filled: Path) -> None:
    store = spyglass.Store(filled)
    summaries = store.traces()
    assert [s.name for s in summaries] == ["broken", "request-2", "request-1", "request-0"]
    assert summaries[1].input_tokens == 12 and summaries[1].output_tokens == 5
    assert summaries[1].span_count == 2 and summaries[1].project == "proj"
    assert [s.name for s in store.traces(status="error")] == ["broken"]
    assert [s.name for s in store.traces(limit=1)] == ["broken"]
    assert [s.name for s in store.traces(search="otters")] == ["request-1"]
    assert len(store.traces(session_id="s0")) == 2
    assert store.traces(project="other") == []
    assert len(store.traces(since="1h")) == 4
    assert store.traces(since="2999-01-01") == []


def test_trace_by_unique_prefix_and_errors(filled: Path) -> None:
    store = spyglass.Store(filled)
    full = store.traces()[0].trace_id
    assert store.trace(full[:10]).trace_id == full
    with pytest.raises(TraceNotFound):
        store.trace("ffffffffffffffffffffffffffff0000")
    with pytest.raises(TraceNotFound, match="hexadecimal"):
        store.trace("not-hex!")


def test_ambiguous_prefix(db: Path) -> None:
    spyglass.autolog(db=db, integrations=())
    for _ in range(17):  # 17 ids, 16 possible first digits: two must share one
        with spyglass.trace("t"):
            pass
    assert spyglass.flush()
    store = spyglass.Store(db)
    firsts = [s.trace_id[0] for s in store.traces(limit=100)]
    shared = next(d for d in firsts if firsts.count(d) > 1)
    with pytest.raises(AmbiguousTraceId, match="several traces"):
        store.trace(shared)
    code, _, err = run("show", shared, "--db", str(db))
    assert code == 1 and "give more digits" in err


def test_search_finds_span_with_snippet(filled: Path) -> None:
    (hit,) = spyglass.Store(filled).search("herons")
    assert hit.span_name == "request-2" and "herons" in hit.snippet


def test_store_never_creates_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(DatabaseNotFound):
        spyglass.Store(missing)
    assert not missing.exists()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_traces_show_search_json(filled: Path) -> None:
    code, out, _ = run("traces", "--db", str(filled), "--json")
    assert code == 0
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["broken", "request-2", "request-1", "request-0"]
    assert set(listed[0]) >= {
        "trace_id",
        "start_time",
        "duration_ms",
        "status",
        "span_count",
        "input_tokens",
        "output_tokens",
    }
    assert listed[0]["start_time"].endswith("Z")
    assert listed[1]["cost_usd"] is None  # model "m-1" has no known price
    code, out, _ = run("show", listed[1]["trace_id"][:8], "--db", str(filled), "--json")
    shown = json.loads(out)
    assert code == 0 and [s["name"] for s in shown["spans"]] == ["request-2", "model"]
    assert shown["spans"][1]["parent_id"] == shown["spans"][0]["span_id"]
    code, out, _ = run("show", listed[1]["trace_id"][:8], "--db", str(filled), "--full")
    assert code == 0 and "request-2" in out and "model" in out and "herons" in out
    code, out, _ = run("search", "llamas", "--db", str(filled), "--json")
    assert code == 0 and [h["span_name"] for h in json.loads(out)] == ["request-0"]
    code, out, _ = run("traces", "--db", str(filled), "--status", "error")
    assert code == 0 and "broken" in out and "request" not in out


@pytest.mark.parametrize("command", [["traces"], ["show", "abc"], ["search", "x"]])
def test_cli_missing_database(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "missing.db"
    code, out, err = run(*command, "--db", str(missing))
    assert code == 1 and out == ""
    assert err.startswith("spyglass: error: no database at") and err.count("\n") == 1
    assert not missing.exists()


def test_cli_not_a_database_and_foreign_and_corrupt(tmp_path: Path, filled: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, I am not a database\n" * 100)
    code, _, err = run("traces", "--db", str(text))
    assert code == 1 and "not a SQLite database" in err and "Traceback" not in err
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    code, _, err = run("traces", "--db", str(foreign))
    assert code == 1 and "not a spyglass one" in err
    empty = tmp_path / "empty.db"
    empty.touch()
    code, _, err = run("traces", "--db", str(empty))
    assert code == 1 and "empty" in err
    corrupt = tmp_path / "corrupt.db"
    data = bytearray(filled.read_bytes())
    data[100:4096] = b"\xde\xad" * ((4096 - 100) // 2)
    corrupt.write_bytes(bytes(data))
    code, _, err = run("traces", "--db", str(corrupt))
    assert code == 1 and err.startswith("spyglass: error:") and "Traceback" not in err


def test_cli_unknown_and_ambiguous_trace(filled: Path) -> None:
    code, _, err = run("show", "0000000000000000deadbeef", "--db", str(filled))
    assert code == 1 and "no trace with id" in err
    code, _, err = run("show", "zz", "--db", str(filled))
    assert code == 1 and "not a trace id" in err


def test_cli_bad_since_is_one_line(filled: Path) -> None:
    code, _, err = run("traces", "--db", str(filled), "--since", "yesterday-ish")
    assert code == 1 and "since must look like" in err


def test_cli_help_for_every_command() -> None:
    for command in main.commands.values():
        code, out, _ = run(command.name or "", "--help")
        assert code == 0 and (command.help or "").split("\n")[0] in out
