"""``spyglass traces --follow``: each new trace once, when complete, filtered; quiet exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from viewer_data import PRICES, build, make_span, write

from spyglass.tracer import attributes as A
from spyglass.tracer._follow import Follower
from spyglass.tracer._store import Store


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


def child(trace: int, name: str = "step") -> object:
    return make_span(trace, 2, 1, name, 10, 20, {A.SPYGLASS_KIND: "CHAIN"})


def root(trace: int, name: str, error: bool = False) -> object:
    return make_span(
        trace, 1, None, name, 0, 30, {A.SPYGLASS_KIND: "CHAIN"},
        error=RuntimeError("boom") if error else None,
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_backlog_then_each_new_trace_once_when_its_root_lands(tmp_path: Path) -> None:
    db = build(tmp_path / "f.db")
    follower = Follower(Store(db, prices=PRICES), {})
    backlog = [s.name for s in follower.backlog(2)]
    assert backlog[0] == "summarize" and backlog[1].startswith("evil")  # newest two, oldest first
    assert follower.poll() == []
    write(db, [child(0x1001)])  # children finish (and are written) before their root
    assert follower.poll() == []
    write(db, [root(0x1001, "late-root")])
    assert [s.name for s in follower.poll()] == ["late-root"]
    assert follower.poll() == []  # never twice
    write(db, [child(0x1002), root(0x1002, "one-batch")])
    write(db, [child(0x1003), root(0x1003, "another")])
    assert [s.name for s in follower.poll()] == ["one-batch", "another"]


def test_filters_apply_to_the_finished_trace(tmp_path: Path) -> None:
    db = build(tmp_path / "f.db")
    follower = Follower(Store(db, prices=PRICES), {"status": "error"})
    follower.backlog(10)
    write(db, [child(0x2001)])  # still UNSET: its root decides
    write(db, [root(0x2002, "fine")])
    assert follower.poll() == []
    write(db, [root(0x2001, "failed", error=True)])
    assert [s.name for s in follower.poll()] == ["failed"]


def test_a_trace_whose_root_never_lands_is_shown_after_the_grace(tmp_path: Path) -> None:
    db = build(tmp_path / "f.db")
    clock = Clock()
    follower = Follower(Store(db, prices=PRICES), {}, grace=30, clock=clock)
    write(db, [child(0x3001, "orphan-step")])
    assert follower.poll() == []
    clock.now = 29
    assert follower.poll() == []
    clock.now = 31
    assert [s.name for s in follower.poll()] == ["orphan-step"]


def _follow(db: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "spyglass.cli", "traces", "-f", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else ""
    return line


def test_cli_follow_prints_new_traces_and_ctrl_c_is_quiet(tmp_path: Path) -> None:
    db = build(tmp_path / "f.db")
    process = _follow(db, "--json", "-n", "1")
    try:
        assert json.loads(_line(process))["name"].startswith("evil")
        write(db, [child(0x4001), root(0x4001, "landed")])
        assert json.loads(_line(process))["name"] == "landed"
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and err == ""


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_follow_stops_quietly_when_the_reader_goes(tmp_path: Path, as_json: bool) -> None:
    db = build(tmp_path / "f.db")
    process = _follow(db, "-n", "1", *(["--json"] if as_json else []))
    _line(process)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -2` exiting
    deadline = time.monotonic() + 30
    n = 0
    while process.poll() is None and time.monotonic() < deadline:
        n += 1
        write(db, [root(0x5000 + n, f"more-{n}")])  # something to print, into a closed pipe
        time.sleep(0.2)
    # rich's status for a closed stdout (1), and no traceback
    assert process.wait(timeout=5) == 1
    assert process.stderr.read() == ""
