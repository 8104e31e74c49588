"""A few SVG snapshots of ``spyglass ui`` on a fixed file (``pytest --snapshot-update`` to
accept a deliberate change; they shift with textual's version, which is why it is pinned)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from viewer_data import PRICES, build

from spyglass.viewer import make_app
from spyglass.viewer._span_tree import SpanTree
from spyglass.viewer._trace_table import TraceTable

SIZE = (120, 32)


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


async def _loaded(pilot: Pilot[Any]) -> None:
    for _ in range(400):
        screen = pilot.app.screen
        tables = screen.query(TraceTable)
        if tables and tables.first().row_count == 4:
            return
        await pilot.pause(0.02)
    raise AssertionError("the list never loaded")


async def _open_rag_documents(pilot: Pilot[Any]) -> None:
    await _loaded(pilot)
    await pilot.press("j", "j", "j", "enter")
    for _ in range(400):
        trees = pilot.app.screen.query(SpanTree)
        if trees and trees.first().root.children:
            break
        await pilot.pause(0.02)
    await pilot.press("j", "2")
    await pilot.pause(0.1)


def test_trace_list(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(build(tmp_path / "snap.db"), prices=PRICES, poll_interval=None)
    assert snap_compare(app, terminal_size=SIZE, run_before=_loaded)


def test_trace_with_documents_tab(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(build(tmp_path / "snap.db"), prices=PRICES, poll_interval=None)
    assert snap_compare(app, terminal_size=SIZE, run_before=_open_rag_documents)


def test_help(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(build(tmp_path / "snap.db"), prices=PRICES, poll_interval=None)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
