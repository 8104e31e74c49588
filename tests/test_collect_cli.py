"""``spyglass collect`` as a command: signals flush and exit 0, the token variable, clear errors."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from collect_helpers import Cli, body, make_spans, post

import spyglass


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_flushes_everything_accepted_then_exits_0(db: Path, sig: int) -> None:
    cli = Cli(db)
    # Another writer holds the file: accepted spans wait in the queue when the signal comes.
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        for trace in range(1, 6):
            assert post(cli.url, body(make_spans(200, trace=trace)))[0] == 200
        cli.process.send_signal(sig)
        time.sleep(0.5)
        assert cli.process.poll() is None, "it exited before writing what it accepted"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    status, err = cli.stop(sig)
    assert status == 0, err
    assert "1000 spans stored" in err
    assert spyglass.Store(db).span_count() == 1000


def test_the_token_comes_from_the_environment(db: Path) -> None:
    cli = Cli(db, env={"SPYGLASS_COLLECT_TOKEN": "t0ken"})
    try:
        assert post(cli.url, body(make_spans(1)))[0] == 401
        assert (
            post(cli.url, body(make_spans(1)), headers={"Authorization": "Bearer t0ken"})[0] == 200
        )
    finally:
        status, _ = cli.stop()
    assert status == 0


def _run_cli(*args: str, code: str = "") -> subprocess.CompletedProcess[str]:
    script = f"{code}\nfrom spyglass.cli import main\nmain({list(args)!r})"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )


def test_a_missing_extra_is_one_line_with_the_pip_command(db: Path) -> None:
    done = _run_cli("collect", "--db", str(db), code="import sys; sys.modules['aiohttp'] = None")
    assert done.returncode == 1
    assert done.stderr == (
        "spyglass: error: spyglass collect needs aiohttp: pip install 'spyglass-trace[collect]'\n"
    )


def test_a_port_in_use_is_one_line(db: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run_cli("collect", "--db", str(db), "--port", str(port))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"spyglass: error: cannot listen on 127.0.0.1:{port}"
    )


def test_help_imports_no_server_library() -> None:
    code = "import sys\nfrom spyglass.cli import main\ntry:\n    main(['collect', '--help'])\n"
    code += "except SystemExit:\n    pass\n"
    code += "print('aiohttp' in sys.modules, 'spyglass.collector' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "OTLP" in done.stdout and "--token" in done.stdout
    assert done.stdout.strip().endswith("False False")


def test_the_readme_example_lands_in_the_file(db: Path) -> None:
    import os

    cli = Cli(db)
    try:
        done = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).parent.parent / "examples/already_instrumented.py"),
            ],
            env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": cli.url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    finally:
        status, _ = cli.stop()
    assert status == 0
    store = spyglass.Store(db)
    summaries = store.traces(project="support-bot")
    assert len(summaries) == 2 and {s.session_id for s in summaries} == {"demo"}
    trace = store.trace(summaries[0].trace_id)
    (retriever,) = [span for span in trace.spans if span.kind == "RETRIEVER"]
    assert {hit.trace_id for hit in store.search("refunds")} >= {s.trace_id for s in summaries}
    assert len(json.loads(str(retriever.attributes["gen_ai.retrieval.documents"]))) == 2
