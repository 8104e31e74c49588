"""``spyglass ui`` for a new user: the filter applies as you type, Ctrl-C quits, failures carry
a mark, documents use the pane's width, the tabs fit 80×24, one time format, user and tags in
the trace header. Driven with Pilot on real files."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static
from viewer_data import PRICES, TRACE_AGENT, TRACE_RAG, build, hex_id

import spyglass
from spyglass.viewer import make_app
from spyglass.viewer._detail import DetailPane
from spyglass.viewer._list_screen import TraceListScreen
from spyglass.viewer._span_tree import SpanTree
from spyglass.viewer._trace_table import TraceTable

SMALL = (80, 24)
WIDE = (120, 36)


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build(tmp_path / "ui.db")


async def until(pilot: Pilot[Any], done: Callable[[], bool], what: str) -> None:
    """Let workers and messages run until ``done`` (a bounded wait, not a timing assert)."""
    for _ in range(400):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


def frame(pilot: Pilot[Any], size: tuple[int, int]) -> str:
    """The frame the terminal shows, as text."""
    console = Console(record=True, width=size[0], height=size[1], file=io.StringIO())
    console.print(pilot.app.screen._compositor.render_update(full=True))
    return console.export_text()


def static(widget: Any, selector: str) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.query_one(selector, Static).content)
    return console.export_text()


def row_ids(pilot: Pilot[Any]) -> list[str]:
    table = pilot.app.screen.query_one(TraceTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


async def listed(pilot: Pilot[Any], count: int = 4) -> None:
    await until(
        pilot,
        lambda: (
            bool(pilot.app.screen.query(TraceTable))
            and pilot.app.screen.query_one(TraceTable).row_count == count
        ),
        "the list loads",
    )


async def open_trace(pilot: Pilot[Any], downs: int) -> SpanTree:
    await pilot.press(*["j"] * downs, "enter")
    tree = pilot.app.screen.query_one(SpanTree)
    await until(pilot, lambda: tree.root.children != [], "the trace loads")
    return tree


# --- the filter -------------------------------------------------------------------------------


async def test_the_filter_applies_as_you_type(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None, filter_delay=0.05)
    async with app.run_test(size=WIDE) as pilot:
        await listed(pilot)
        await pilot.press("slash", *"model:claude")  # no enter
        await until(pilot, lambda: row_ids(pilot) == [hex_id(TRACE_AGENT)], "typed filter")
        assert isinstance(app.focused, Input)  # still typing
        await pilot.press(*["backspace"] * len("model:claude"), *"issuing")
        await until(pilot, lambda: row_ids(pilot) == [hex_id(TRACE_RAG)], "the next words")


async def test_the_filter_waits_for_a_pause_and_enter_applies_at_once(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None, filter_delay=3600)
    async with app.run_test(size=WIDE) as pilot:
        await listed(pilot)
        screen = app.screen
        assert isinstance(screen, TraceListScreen)
        loads = screen._generation
        await pilot.press("slash", *"model:claude")
        await pilot.pause(0.2)
        assert screen._generation == loads  # no query per key while typing
        assert len(row_ids(pilot)) == 4
        await pilot.press("enter")
        await until(pilot, lambda: row_ids(pilot) == [hex_id(TRACE_AGENT)], "enter applies")
        assert screen._generation == loads + 1
        assert app.focused is screen.query_one(TraceTable)


async def test_a_half_typed_filter_shows_why_and_keeps_the_list(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None, filter_delay=0.05)
    async with app.run_test(size=WIDE) as pilot:
        await listed(pilot)
        status = app.screen.query_one("#status", Static)
        await pilot.press("slash")
        app.screen.query_one(Input).value = "status:e"  # pasted, say
        await until(pilot, lambda: "status: takes" in str(status.render()), "the reason")
        assert len(row_ids(pilot)) == 4
        await pilot.press("end", *"rror")
        await until(pilot, lambda: row_ids(pilot) == [hex_id(TRACE_AGENT)], "status:error")
        await pilot.press(*["backspace"] * len("status:error"))
        await until(pilot, lambda: len(row_ids(pilot)) == 4, "no filter")
        assert "4 traces" in str(status.render())


# --- keys, marks, layout ----------------------------------------------------------------------


async def test_ctrl_c_quits(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await listed(pilot)
        await pilot.press("slash")  # even from the filter box
        await pilot.press("ctrl+c")
        await pilot.pause(0.1)
        assert not app.is_running
    assert app.return_code == 0


async def test_failed_spans_carry_a_mark(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await listed(pilot)
        tree = await open_trace(pilot, 2)  # the agent, whose tool failed
        labels = {node.data.name: node.label.plain for node in _nodes(tree)}
        assert "✗ support-agent" in labels["support-agent"]
        assert "✗ search-web" in labels["search-web"]
        assert "✗" not in labels["chat claude-sonnet-4-5"]


async def test_tabs_fit_80_by_24_and_documents_use_the_width(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SMALL) as pilot:
        await listed(pilot)
        await open_trace(pilot, 3)  # the RAG trace
        await pilot.press("j", "2")  # its retriever, Documents
        pane = app.screen.query_one(DetailPane)
        await until(pilot, lambda: "kb-12" in static(pane, "#documents-body"), "documents")
        await until(pilot, lambda: "kb-12" in frame(pilot, SMALL), "drawn")
        shown = frame(pilot, SMALL)
        (bar,) = [line for line in shown.splitlines() if "Docs" in line]
        assert re.search(r"Msgs\s+Docs\s+Attrs\s+Prompt", bar)
        words = " ".join(static(pane, "#documents-body").split())
        assert "Refunds are issued within 14 days." in words  # not cut at 20 characters
        assert all(len(line) <= SMALL[0] for line in shown.splitlines())


async def test_long_tab_titles_when_there_is_room(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=(160, 40)) as pilot:
        await listed(pilot)
        await open_trace(pilot, 3)
        await until(pilot, lambda: "Attributes" in frame(pilot, (160, 40)), "tabs drawn")
        assert re.search(r"Messages\s+Documents\s+Attributes\s+Prompt", frame(pilot, (160, 40)))


async def test_the_list_fits_80_columns(db: Path) -> None:
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=SMALL) as pilot:
        await listed(pilot)
        await until(pilot, lambda: "support-agent" in frame(pilot, SMALL), "drawn")
        lines = frame(pilot, SMALL).splitlines()
        (head,) = [line for line in lines if "started UTC" in line]
        for column in ("name", "status", "errors", "duration", "tokens"):
            assert column in head
        (agent,) = [line for line in lines if "support-agent" in line]
        assert agent.rstrip().endswith("5000→800")  # the last column shown is whole


# --- times, user and tags ---------------------------------------------------------------------

TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"


async def test_one_time_format_in_the_list_the_header_and_the_prompt_tab(db: Path) -> None:
    from spyglass.prompts import PromptRegistry

    with PromptRegistry(db) as registry:
        registry.register("qa", "Answer from {context}.\nQ: {question}", message="first")
        registry.register("qa", "Answer only from {context}.\nQ: {question}", message="second")
    app = make_app(db, prices=PRICES, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await listed(pilot)
        await until(pilot, lambda: "rag-query" in frame(pilot, WIDE), "drawn")
        assert "2026-11-23 09:00:00  rag-query" in frame(pilot, WIDE)
        await open_trace(pilot, 3)
        header = static(app.screen, "#trace-header")
        assert "started 2026-11-23 09:00:00 UTC" in header
        await pilot.press("j", "j", "4")
        pane = app.screen.query_one(DetailPane)
        await until(pilot, lambda: "second" in static(pane, "#prompt-body"), "the prompt tab")
        assert re.search(rf"{TIME} UTC  second", static(pane, "#prompt-body"))


async def test_the_trace_header_shows_user_and_tags(tmp_path: Path) -> None:
    db = tmp_path / "who.db"
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("request", session_id="chat-42", user_id="u-7", tags=["beta", "[b]x"]):
        pass
    spyglass.flush()
    app = make_app(db, poll_interval=None)
    async with app.run_test(size=SMALL) as pilot:
        await listed(pilot, 1)
        await open_trace(pilot, 0)
        header = static(app.screen, "#trace-header")
        assert "session chat-42  user u-7  tags beta, [b]x" in header  # markup shown as is
        await until(pilot, lambda: "user u-7" in frame(pilot, SMALL), "drawn")


def _nodes(tree: SpanTree) -> list[Any]:
    out, stack = [], list(reversed(tree.root.children))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


async def test_wide_numbers_are_never_cropped(tmp_path: Path) -> None:
    from viewer_data import make_span, write

    from spyglass.tracer import attributes as A

    db = tmp_path / "big.db"
    usage = {A.GEN_AI_USAGE_INPUT_TOKENS: 1234567, A.GEN_AI_USAGE_OUTPUT_TOKENS: 123456}
    write(db, [make_span(0xB16, 1, None, "batch", 0, 5, {A.SPYGLASS_KIND: "LLM", **usage})])
    for size in (SMALL, (100, 24)):
        app = make_app(db, prices=PRICES, poll_interval=None)
        async with app.run_test(size=size) as pilot:
            await listed(pilot, 1)
            await until(pilot, lambda size=size: "batch" in frame(pilot, size), "drawn")
            shown = frame(pilot, size)
            if size == SMALL:  # no room for it: the column goes, rather than show a part
                assert "tokens" not in shown and "1234567" not in shown
            else:
                assert "1234567→123456" in shown
