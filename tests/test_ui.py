"""``spyglass ui`` driven with Pilot: list → enter → tree → tabs → esc → / filter → q."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent, Tree
from viewer_data import (
    PRICES,
    TRACE_AGENT,
    TRACE_EVIL,
    TRACE_LOCAL,
    TRACE_RAG,
    build,
    hex_id,
    make_span,
    write,
)

from spyglass.errors import ConfigurationError
from spyglass.tracer import attributes as A
from spyglass.viewer import SpyglassApp, make_app
from spyglass.viewer._detail import DetailPane
from spyglass.viewer._help import HelpScreen
from spyglass.viewer._list_screen import TraceListScreen
from spyglass.viewer._query import TraceQuery, parse_query
from spyglass.viewer._span_tree import SpanTree
from spyglass.viewer._trace_screen import TraceScreen
from spyglass.viewer._trace_table import TraceTable

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build(tmp_path / "ui.db")


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    """Let workers and messages run until ``done`` (a bounded wait, not a timing assert)."""
    for _ in range(400):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


def table(app: SpyglassApp) -> TraceTable:
    return app.screen.query_one(TraceTable)


def row_ids(app: SpyglassApp) -> list[str]:
    t = table(app)
    return [str(t.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(t.row_count)]


def screen_text(app: SpyglassApp) -> str:
    """The frame the terminal would show, as text (as ``App.export_screenshot`` composes it)."""
    console = Console(record=True, width=SIZE[0], height=SIZE[1], file=io.StringIO())
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def test_filter_syntax() -> None:
    assert parse_query("") == TraceQuery()
    query = parse_query('status:ERROR model:gpt-4o refund policy session:"chat 1" prompt:qa@2')
    assert query == TraceQuery(
        words=("refund", "policy"),
        model="gpt-4o",
        status="error",
        prompt="qa@2",
        session="chat 1",
    )
    assert query.filters() == {
        "search": "refund policy",
        "model": "gpt-4o",
        "status": "error",
        "prompt": "qa@2",
        "session_id": "chat 1",
    }
    assert parse_query("http://x.org/a b").words == ("http://x.org/a", "b")
    assert parse_query('"unbalanced').words == ('"unbalanced',)
    with pytest.raises(ConfigurationError, match="status: takes ok, error, unset"):
        parse_query("status:broken")


async def test_list_enter_tree_tabs_esc_filter_quit(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        assert row_ids(app) == [
            hex_id(t) for t in (TRACE_EVIL, TRACE_LOCAL, TRACE_AGENT, TRACE_RAG)
        ]
        await pilot.press("j", "j", "j")  # down to the RAG trace, the oldest
        assert table(app).current_trace_id == hex_id(TRACE_RAG)
        await pilot.press("enter")
        assert isinstance(app.screen, TraceScreen)
        tree = app.screen.query_one(SpanTree)
        await until(pilot, lambda: tree.root.children != [], "the trace loads")
        assert app.focused is tree
        labels = [node.label.plain for node in _walk(tree)]
        assert [label.split()[1] for label in labels] == ["rag-query", "retrieve", "chat"]
        assert all("█" in label for label in labels)  # a duration bar on every row
        pane = app.screen.query_one(DetailPane)
        await pilot.press("j")  # the retriever
        await until(pilot, lambda: "retrieve" in _static(pane, "#span-line"), "details follow")
        await pilot.press("2")
        assert app.screen.query_one(TabbedContent).active == "documents"
        docs = _static(pane, "#documents-body")
        assert "kb-12" in docs and "0.9100" in docs and "Refunds are issued" in docs
        await pilot.press("j", "1")  # the LLM span, Messages
        await until(pilot, lambda: "system" in _static(pane, "#messages-body"), "messages")
        assert "assistant: Refunds take up to 14 days." in _static(pane, "#messages-body")
        await pilot.press("3")
        assert '"gen_ai.request.model": "gpt-4o-mini"' in _static(pane, "#attributes-body")
        await pilot.press("escape")
        assert isinstance(app.screen, TraceListScreen)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"status:error", "enter")
        await until(pilot, lambda: row_ids(app) == [hex_id(TRACE_AGENT)], "the filter applies")
        assert app.focused is table(app)
        await pilot.press("q")
    assert app.return_code == 0


async def test_filter_by_model_prompt_and_words(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        for text, expected in (
            ("model:claude", [TRACE_AGENT]),
            ("model:gpt-4o prompt:qa@2", [TRACE_RAG]),
            ("prompt:qa@3", []),
            ("refunds", [TRACE_AGENT, TRACE_RAG]),  # stems: the agent's "refund policy"
            ("issuing", [TRACE_RAG]),  # "Refunds are issued"
            ("", [TRACE_EVIL, TRACE_LOCAL, TRACE_AGENT, TRACE_RAG]),
        ):
            filter_box = app.screen.query_one(Input)
            filter_box.value = text
            await pilot.press("slash", "enter")
            ids = [hex_id(t) for t in expected]
            await until(pilot, lambda ids=ids: row_ids(app) == ids, f"filter {text!r}")
        filter_box = app.screen.query_one(Input)
        filter_box.value = "status:nope"
        await pilot.press("slash", "enter")
        status = app.screen.query_one("#status")
        await until(pilot, lambda: "status: takes" in str(status.render()), "an error line")


async def test_new_traces_appear_while_open(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        await pilot.press("j")  # the cursor stays on its trace when rows are added above
        kept = table(app).current_trace_id
        write(db, [make_span(0x9999, 1, None, "arrived", 0, 5, {A.SPYGLASS_KIND: "CHAIN"})])
        await until(pilot, lambda: table(app).row_count == 5, "the new trace appears")
        assert table(app).current_trace_id == kept


async def test_hostile_text_in_the_app(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        # Rows are in the table before the next refresh paints them: wait for the paint.
        await until(pilot, lambda: "evil" in screen_text(app), "the list is drawn")
        listed = screen_text(app)
        assert "evil \\x1b[31mred" in listed and "\x1b[31mred" not in listed
        await pilot.press("enter")  # the evil trace is the newest
        tree = app.screen.query_one(SpanTree)
        await until(pilot, lambda: tree.root.children != [], "the trace loads")
        pane = app.screen.query_one(DetailPane)
        await pilot.press("j")
        await until(pilot, lambda: "assistant" in _static(pane, "#messages-body"), "messages")
        shown = _static(pane, "#messages-body")
        assert "\\x1b[31mred\\x1b[0m [bold]x[/bold] bell\\x07 \\u202eevil" in shown
        await until(pilot, lambda: "[bold]x[/bold]" in screen_text(app), "the messages are drawn")
        frame = screen_text(app)
        for raw in ("\x07", "\u202e", "\x1b[31mred"):
            assert raw not in frame
        assert "[bold]x[/bold]" in frame


async def test_help_and_trace_errors(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await until(pilot, lambda: "status:error" in screen_text(app), "the help is drawn")
        await pilot.press("escape")
        assert isinstance(app.screen, TraceListScreen)
        app.push_screen(TraceScreen(app.store, "0123456789"))  # a trace that is not there
        await until(pilot, lambda: "no trace with id" in screen_text(app), "an error line")


async def test_prompt_tab_shows_version_and_diff(db: Path) -> None:
    from spyglass.prompts import PromptRegistry

    with PromptRegistry(db) as registry:
        registry.register("qa", "Answer from {context}.\nQ: {question}", message="first")
        registry.register("qa", "Answer only from {context}.\nQ: {question}", message="stricter")
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        await pilot.press("j", "j", "j", "enter")
        tree = app.screen.query_one(SpanTree)
        await until(pilot, lambda: tree.root.children != [], "the trace loads")
        await pilot.press("j", "j", "4")
        pane = app.screen.query_one(DetailPane)
        await until(pilot, lambda: "diff from v1" in _static(pane, "#prompt-body"), "the diff")
        prompt = _static(pane, "#prompt-body")
        assert "qa@2" in prompt and "stricter" in prompt
        assert "-Answer from {context}." in prompt and "+Answer only from {context}." in prompt


async def test_prompt_tab_without_registry_entry(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        await pilot.press("j", "j", "j", "enter")
        tree = app.screen.query_one(SpanTree)
        await until(pilot, lambda: tree.root.children != [], "the trace loads")
        await pilot.press("j", "j", "4")
        pane = app.screen.query_one(DetailPane)
        await until(pilot, lambda: "not in the registry" in _static(pane, "#prompt-body"), "note")
        assert "qa@2" in _static(pane, "#prompt-body")  # what the span recorded


def _walk(tree: Tree[object]) -> list[object]:
    out, stack = [], list(reversed(tree.root.children))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def _static(pane: DetailPane, selector: str) -> str:
    from textual.widgets import Static

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(pane.query_one(selector, Static).content)
    return console.export_text()


def test_cli_ui_missing_file_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from spyglass.cli import main

    result = CliRunner().invoke(main, ["ui", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and result.stderr.startswith("spyglass: error: no database")
    assert not (tmp_path / "none.db").exists()


def test_new_commands_are_documented() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for usage in (
        "`spyglass stats [--since 1d] [--project P] [--all] [--json]`",
        "`spyglass ui [--all]`",
    ):
        assert usage in readme
    assert "## Cost" in readme and "`spyglass stats --json`" in readme


async def test_trace_screen_shows_the_traces_scores(db: Path) -> None:
    import spyglass

    rag = format(TRACE_RAG, "032x")
    spyglass.score(rag, "correctness", 0.5, source="llm", db=db)
    spyglass.score(rag, "verdict", "[red]PASS[/red]", db=db)  # a label, shown literally
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: table(app).row_count == 4, "the list loads")
        app.push_screen(TraceScreen(app.store, rag))
        await until(pilot, lambda: "correctness" in screen_text(app), "the scores line")
        frame = screen_text(app)
        assert "correctness 0.50 (llm)" in frame
        assert "verdict [red]PASS[/red] (human)" in frame
