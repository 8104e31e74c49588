"""Static views rendered at a fixed width and compared line by line; widths; hostile text."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console, RenderableType
from viewer_data import (
    EVIL,
    PRICES,
    TRACE_AGENT,
    TRACE_EVIL,
    TRACE_LOCAL,
    TRACE_RAG,
    build,
    hex_id,
)

from spyglass.cli import main
from spyglass.tracer._records import SpanRecord, Trace, TraceSummary
from spyglass.tracer._store import Store
from spyglass.viewer._static import search_table, stats_view, trace_view, traces_table
from spyglass.viewer._waterfall import bar, rows


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(build(tmp_path / "views.db"), prices=PRICES)


def render(renderable: RenderableType, width: int = 100, colour: bool = False) -> str:
    console = Console(
        width=width,
        record=True,
        file=io.StringIO(),
        color_system="truecolor" if colour else None,
        force_terminal=colour,
    )
    console.print(renderable)
    if colour:
        out = console.file
        assert isinstance(out, io.StringIO)
        return out.getvalue()
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


TRACES = """\
TRACE         STARTED UTC          NAME                 STATUS  ERRORS  DURATION    TOKENS      COST
d4d4d4d40000  2026-11-23 09:03:00  evil \\x1b[31mred\\x…  UNSET        -     100ms      10→5  <$0.0001
c3c3c3c30000  2026-11-23 09:02:00  summarize            UNSET        -     800ms   400→100         -
b2b2b2b20000  2026-11-23 09:01:00  support-agent        ERROR        2     3.00s  5000→800   $0.0278
a1a1a1a10000  2026-11-23 09:00:00  rag-query            UNSET        -     1.20s  1200→300   $0.0003"""  # noqa: E501

RAG = """\
trace a1a1a1a1000000000000000000000001  rag-query  UNSET
started 2026-11-23 09:00:00 UTC  1.20s  3 spans  1200→300 tokens  $0.0003
session chat-1
SPAN                 KIND       MODEL          TOKENS     COST  STATUS   TIME  TIMELINE
rag-query            CHAIN                          -           -       1.20s  ███████████
├─ retrieve          RETRIEVER                      -           -       200ms  █▉
└─ chat gpt-4o-mini  LLM        gpt-4o-mini  1200→300  $0.0003  -       930ms    ████████▌"""

LOCAL = """\
trace c3c3c3c3000000000000000000000003  summarize  UNSET
started 2026-11-23 09:02:00 UTC  800ms  3 spans  400→100 tokens
SPAN               KIND   MODEL    TOKENS  COST  STATUS   TIME  TIMELINE
summarize          CHAIN                -        -       800ms  ███████████
└─ ChatOllama      LLM    llama3  400→100        -       785ms  ██████████▊
   └─ chat llama3  LLM    llama3  400→100        -       770ms  ██████████▋"""

AGENT = """\
trace b2b2b2b2000000000000000000000002  support-agent  ERROR
started 2026-11-23 09:01:00 UTC  3.00s  3 spans (2 failed)  5000→800 tokens  $0.0278
SPAN                       KIND   MODEL               TOKENS     COST  STATUS   TIME  TIMELINE
✗ support-agent            AGENT                           -           ERROR   3.00s  ███████████
├─ chat claude-sonnet-4-5  LLM    claude-sonnet-4…  5000→800  $0.0278  -       2.05s  ███████▋
└─ ✗ search-web            TOOL                            -           ERROR   800ms         ▐██▊"""

STATS = """\
MODEL              PROVIDER   CALLS  ERRORS  INPUT  OUTPUT     COST    P50    P95
claude-sonnet-4-5  anthropic      1       0  5,000     800  $0.0278  2.05s  2.05s
gpt-4o-mini        openai         2       0  1,210     305  $0.0003  510ms  888ms
llama3             ollama         1       0    400     100        -  770ms  770ms

PROMPT  RUNS  ERRORS    P50  INPUT  OUTPUT
qa@2       1       0  1.20s  1,200     300"""

SEARCH = """\
TRACE         STARTED UTC          SPAN                  MATCH
b2b2b2b20000  2026-11-23 09:01:02  TOOL search-web       refund policy
a1a1a1a10000  2026-11-23 09:00:00  LLM chat gpt-4o-mini  How do refunds work?
a1a1a1a10000  2026-11-23 09:00:00  RETRIEVER retrieve    How do refunds work?
a1a1a1a10000  2026-11-23 09:00:00  CHAIN rag-query       How do refunds work?"""


def test_trace_list(store: Store) -> None:
    assert render(traces_table(store.traces())) == TRACES


def test_waterfall_with_cost_tokens_status(store: Store) -> None:
    assert render(trace_view(store.trace(hex_id(TRACE_RAG)))) == RAG


def test_nested_tree_guides(store: Store) -> None:
    assert render(trace_view(store.trace(hex_id(TRACE_LOCAL)))) == LOCAL


def test_failed_spans_carry_a_mark_not_only_red(store: Store) -> None:
    assert render(trace_view(store.trace(hex_id(TRACE_AGENT)))) == AGENT
    narrow = render(trace_view(store.trace(hex_id(TRACE_AGENT))), width=60)
    assert "STATUS" not in narrow and "✗ search-web" in narrow  # the mark outlives the column


def test_stats(store: Store) -> None:
    assert render(stats_view(store.stats())) == STATS


def test_search(store: Store) -> None:
    assert render(search_table(store.search("refunds"))) == SEARCH


def test_full_panels(store: Store) -> None:
    out = render(trace_view(store.trace(hex_id(TRACE_RAG)), full=True))
    lines = out.splitlines()
    # one rule per span with content, in tree order
    assert [line.split(" ─")[0] for line in lines if line.endswith("───")] == [
        "CHAIN rag-query",
        "RETRIEVER retrieve",
        "LLM chat gpt-4o-mini",
    ]
    assert "│  rank  score   id     snippet" in out
    assert "│  1     0.9100  kb-12  Refunds are issued within 14 days." in out
    assert "│ system: Answer from the context." in out
    assert "│ assistant: Refunds take up to 14 days." in out
    assert "╭─ query ─" in out and "prompt qa@2" in out
    agent = render(trace_view(store.trace(hex_id(TRACE_AGENT)), full=True))
    assert "│ TimeoutError: search timed out" in agent
    assert '│   File "tools.py", line 9, in search' in agent  # the traceback
    assert '│   "query": "refund policy"' in agent  # tool arguments


def test_role_colours_and_error_colour(store: Store) -> None:
    out = render(trace_view(store.trace(hex_id(TRACE_RAG)), full=True), colour=True)
    assert re.search(r"\x1b\[[0-9;]*33m(\x1b\[[0-9;]*m)*system", out)  # yellow
    assert re.search(r"\x1b\[[0-9;]*32m(\x1b\[[0-9;]*m)*assistant", out)  # green


@pytest.mark.parametrize("width", [40, 60, 80, 100, 140])
def test_everything_fits_the_width(store: Store, width: int) -> None:
    views: list[RenderableType] = [traces_table(store.traces()), stats_view(store.stats())]
    for trace_id in (TRACE_RAG, TRACE_AGENT, TRACE_LOCAL, TRACE_EVIL):
        views.append(trace_view(store.trace(hex_id(trace_id)), full=True, width=width))
    for view in views:
        assert max(len(line) for line in render(view, width).splitlines()) <= width


def test_narrow_terminal_keeps_the_timeline(store: Store) -> None:
    out = render(trace_view(store.trace(hex_id(TRACE_RAG)), width=60), 60)
    assert "TIMELINE" in out and "rag-query" in out and "KIND" not in out


@pytest.mark.parametrize("colour", [False, True])
def test_hostile_text_is_shown_literally_everywhere(store: Store, colour: bool) -> None:
    outputs = [
        render(traces_table(store.traces()), 200, colour),
        render(trace_view(store.trace(hex_id(TRACE_EVIL)), full=True, width=200), 200, colour),
        render(trace_view(store.trace(hex_id(TRACE_RAG)), full=True, width=200), 200, colour),
        render(search_table(store.search("evil")), 200, colour),
    ]
    for out in outputs:
        assert "\x07" not in out and "\u202e" not in out
        assert "\x1b[31mred" not in out  # the model's escape sequence never reaches the terminal
        if not colour:
            assert "\x1b" not in out
    joined = "".join(outputs)
    assert joined.count("\\x1b[31mred\\x1b[0m") >= 4  # shown, escaped
    assert "[bold]x[/bold]" in joined  # markup shown as text, not applied
    assert "\\x07" in joined and "\\u202e" in joined


def test_cli_output_is_plain_text_when_not_a_terminal(tmp_path: Path) -> None:
    db = str(build(tmp_path / "cli.db"))
    runner = CliRunner()
    for args in (
        ["traces"],
        ["show", "d4d4", "--full"],
        ["show", "a1a1"],
        ["search", "evil"],
        ["stats"],
    ):
        result = runner.invoke(main, [*args, "--db", db])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    shown = runner.invoke(main, ["show", "d4d4", "--full", "--db", db]).stdout
    assert EVIL.replace("\x1b", "\\x1b").replace("\x07", "\\x07")[:20] in shown


def record(start_ms: int, end_ms: int, span_id: str = "s", parent: str | None = None) -> SpanRecord:
    return SpanRecord(
        1, "t", span_id, parent, span_id, "LLM", start_ms * 10**6, end_ms * 10**6, "OK", None,
        None, None, None, None, None, None, {}, [],
    )  # fmt: skip


def test_bars_in_eighths_of_a_cell() -> None:
    total = 800 * 10**6
    assert bar(record(0, 800), 0, total, 8).plain == "████████"
    assert bar(record(400, 600), 0, total, 8).plain == "    ██  "
    assert bar(record(0, 50), 0, total, 8).plain == "▌       "
    assert bar(record(799, 800), 0, total, 8).plain == "       ▏"  # tiny, still visible
    assert bar(record(0, 0), 0, 0, 4).plain == "▏   "  # a zero-length trace


def test_deep_nesting_does_not_recurse() -> None:
    depth = 5000  # deeper than Python's recursion limit
    spans = [record(i, 2 * depth - i, f"s{i}", f"s{i - 1}" if i else None) for i in range(depth)]
    summary = TraceSummary("t", "p", "n", 0, 2 * depth * 10**6, "OK", depth, 0, 0, 0, None, None)
    laid_out = rows(Trace(summary, spans))
    assert [row.depth for row in laid_out] == list(range(depth))
    assert laid_out[-1].guide.startswith(f"┄{depth - 1}┄")


def test_viewer_package_is_light_and_pinned() -> None:
    import subprocess
    import sys

    import spyglass.viewer as viewer

    assert viewer.__all__ == sorted(viewer.__all__)
    assert viewer.__all__ == ["SpyglassApp", "comparison_view", "diff_view", "make_app", "run_view"]
    script = "import sys, spyglass.viewer; print('textual' in sys.modules, 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]


def test_read_commands_import_no_framework(tmp_path: Path) -> None:
    """With the price cache warm, listing and showing load neither textual, genai-prices nor
    the OTel SDK (each costs a large part of the 0.2 s budget)."""
    import os
    import subprocess
    import sys

    db = build(tmp_path / "light.db")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = (
        "import sys\n"
        "from spyglass.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('textual', 'genai_prices', 'opentelemetry')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(heavy)}),"
        " file=sys.stderr)\n"
    )
    for args in (["show", "a1a1"], ["traces"], ["search", "refunds"], ["show", "a1a1"]):
        run = subprocess.run(
            [sys.executable, "-c", script, *args, "--db", str(db)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert run.returncode == 0, run.stderr
    # the first run measured the models (genai-prices); the last found them in the cache
    assert run.stderr.strip() == "[]"


def test_show_displays_the_user_and_the_tags(tmp_path: Path) -> None:
    import json

    import spyglass

    db = tmp_path / "who.db"
    spyglass.autolog(db=db, integrations=())
    with (
        spyglass.trace("request", user_id="u-7", tags=["beta", "[red]vip[/red]"]),
        spyglass.trace("step", tags=["inner"]),
    ):
        pass
    spyglass.flush()
    runner = CliRunner()
    trace_id = json.loads(runner.invoke(main, ["traces", "--db", str(db), "--json"]).stdout)[0][
        "trace_id"
    ]
    for full in ([], ["--full"]):
        out = runner.invoke(main, ["show", trace_id, "--db", str(db), *full]).stdout
        (who,) = [line for line in out.splitlines() if line.startswith("user ")]
        assert who == "user u-7  tags beta, [red]vip[/red], inner"  # markup shown literally
    shown = json.loads(runner.invoke(main, ["show", trace_id, "--db", str(db), "--json"]).stdout)
    assert shown["user_id"] == "u-7" and shown["tags"] == ["beta", "[red]vip[/red]", "inner"]


def test_document_snippets_use_the_width(tmp_path: Path) -> None:
    import json

    from viewer_data import make_span, write

    from spyglass.tracer import attributes as A

    text = " ".join(f"word{i}" for i in range(60))  # 409 characters
    docs = [{"id": "kb-1", "score": 0.5, "content": text}]
    write(
        tmp_path / "docs.db",
        [
            make_span(0xD0C, 1, None, "retrieve", 0, 5, {
                A.SPYGLASS_KIND: "RETRIEVER", A.GEN_AI_RETRIEVAL_DOCUMENTS: json.dumps(docs),
            })
        ],
    )  # fmt: skip
    trace = Store(tmp_path / "docs.db").trace("0")
    wide = render(trace_view(trace, full=True, width=200), width=200)
    assert "word59" in wide and "…" not in wide  # 3 lines of ~170 cells hold it all
    narrow = render(trace_view(trace, full=True, width=100), width=100)
    rows = [line for line in narrow.splitlines() if "word" in line]
    assert len(rows) == 3 and rows[-1].rstrip(" │").endswith("…")
    assert all(len(line) <= 100 for line in narrow.splitlines())
    assert len(" ".join(rows)) > 3 * 60  # the old cut was width - 50 characters


def test_one_time_format_everywhere(tmp_path: Path) -> None:
    import spyglass
    from spyglass.evaluators import exact_match
    from spyglass.prompts import PromptRegistry

    db = build(tmp_path / "times.db")
    with PromptRegistry(db) as registry:
        registry.register("qa", "Answer {question}")
    spyglass.evaluate(lambda question: question, [{"question": "x"}], [exact_match()], db=db)
    runner = CliRunner()
    outputs = [
        runner.invoke(main, [*args, "--db", str(db)], env={"COLUMNS": "160"}).stdout
        for args in (
            ["traces"],
            ["show", "a1a1"],
            ["search", "refunds"],
            ["prompts", "log", "qa"],
            ["eval", "list"],
        )
    ]
    for out in outputs:
        times = re.findall(r"(\d{4}-)?\d{2}-\d{2} \d{2}:\d{2}", out)
        assert times and all(times), out  # every time has its year: one form
    assert "2026-11-23 09:00:00" in outputs[0] and "started 2026-11-23 09:00:00 UTC" in outputs[1]
