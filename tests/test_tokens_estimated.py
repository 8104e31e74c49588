"""Models that report no usage get an estimate marked ``spyglass.usage.estimated``, and every
view marks estimated counts, and totals that include one, with ``~``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    FakeMessagesListChatModel,
)
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_fakes import ReplyModel, attr_json, only_trace, span_named
from rich.console import Console

import spyglass
from spyglass.cli import main
from spyglass.integrations._estimate import estimate_tokens
from spyglass.tracer import attributes as A
from spyglass.viewer import make_app
from spyglass.viewer._detail import DetailPane
from spyglass.viewer._span_tree import SpanTree
from spyglass.viewer._trace_table import TraceTable

PROMPT = ChatPromptTemplate.from_messages([("system", "Answer briefly."), ("human", "{q}")])
ANSWER = "Refunds take up to 14 days."


@pytest.fixture
def lc(db: Path) -> Path:
    spyglass.autolog(db=db, integrations=["langchain"])
    return db


@pytest.fixture
def estimated(lc: Path) -> Path:
    """One trace whose chat model reported no usage."""
    chain = PROMPT | FakeListChatModel(responses=[ANSWER]) | StrOutputParser()
    assert chain.invoke({"q": "How do refunds work?"}) == ANSWER
    spyglass.flush()
    return lc


def test_estimator() -> None:
    assert estimate_tokens("") == 0 and estimate_tokens("  \n ") == 0
    assert estimate_tokens("Refunds are accepted within 30 days.") == 9
    assert estimate_tokens("これは日本語") == 6  # a CJK character is about one token
    assert estimate_tokens('{"a": 1}') == 5  # {" a ": 1 }


def test_estimates_are_near_a_real_tokenizer() -> None:
    utils = pytest.importorskip("llama_index.core.utils")  # bundles OpenAI's cl100k tokenizer
    tokenizer = utils.get_tokenizer()
    root = Path(__file__).resolve().parent.parent
    samples = [
        (root / "README.md").read_text()[:8000],  # prose
        (root / "tracer" / "_store.py").read_text()[:8000],  # code
        json.dumps({"city": "Paris", "temperature": 24, "conditions": ["sunny", "dry"]}),
        "The quick brown fox jumps over the lazy dog. " * 40,
    ]
    for text in samples:
        real = len(tokenizer(text))
        assert 0.8 * real <= estimate_tokens(text) <= 1.25 * real, text[:40]


def test_fake_chat_model_gets_a_marked_estimate(estimated: Path) -> None:
    trace = only_trace(estimated)
    llm = span_named(trace, "FakeListChatModel")
    assert llm.attributes[A.SPYGLASS_USAGE_ESTIMATED] is True and llm.tokens_estimated
    assert llm.input_tokens == estimate_tokens("Answer briefly. How do refunds work?") == 10
    assert llm.output_tokens == estimate_tokens(ANSWER) == 8
    assert trace.summary.tokens_estimated
    assert (trace.summary.input_tokens, trace.summary.output_tokens) == (10, 8)
    with spyglass.Store(estimated) as store:
        assert store.traces()[0].tokens_estimated


def test_streams_text_models_and_tool_calls_are_estimated(lc: Path) -> None:
    chunks = FakeListChatModel(responses=["one two"]).stream("hi")
    assert "".join(str(chunk.content) for chunk in chunks) == "one two"
    assert FakeListLLM(responses=["four"]).invoke("2+2=") == "four"
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}
    FakeMessagesListChatModel(responses=[AIMessage("", tool_calls=[call])]).invoke("weather?")
    spyglass.flush()
    with spyglass.Store(lc) as store:
        spans = [store.trace(t.trace_id).spans[0] for t in reversed(store.traces())]
    assert [(s.input_tokens, s.output_tokens) for s in spans] == [
        (1, 2),
        (estimate_tokens("2+2="), 1),
        (estimate_tokens("weather?"), estimate_tokens('get_weather {"city":"Paris"}')),
    ]
    assert all(s.tokens_estimated for s in spans)


def test_reported_usage_is_not_estimated(lc: Path) -> None:
    ReplyModel().invoke("Capital?")
    llm = only_trace(lc).root
    assert llm is not None and not llm.tokens_estimated
    assert A.SPYGLASS_USAGE_ESTIMATED not in llm.attributes and llm.input_tokens == 30


def test_without_content_the_estimate_stays_and_no_text_does(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"], capture_content=False)
    FakeListChatModel(responses=[ANSWER]).invoke("How do refunds work?")
    llm = only_trace(db).root
    assert llm is not None and llm.tokens_estimated and llm.output_tokens == 8
    (out,) = attr_json(llm, A.GEN_AI_OUTPUT_MESSAGES)
    assert out["parts"] == [{"type": "text"}]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_static_views_mark_estimates(estimated: Path) -> None:
    db = str(estimated)
    listed = _cli("traces", "--db", db)
    assert "~10→8" in listed
    shown = _cli("show", only_trace(estimated).trace_id[:8], "--db", db)
    assert "~10→8 tokens" in shown  # the header's total
    (row,) = [line for line in shown.splitlines() if "FakeListChatModel" in line]
    assert "~10→8" in row
    (prompt,) = [line for line in shown.splitlines() if "ChatPromptTemplate" in line]
    assert "~" not in prompt  # a prompt step reports no tokens of its own
    summary = json.loads(_cli("traces", "--db", db, "--json"))[0]
    assert summary["tokens_estimated"] is True
    spans = json.loads(_cli("show", summary["trace_id"], "--db", db, "--json"))["spans"]
    assert {s["name"]: s["tokens_estimated"] for s in spans}["FakeListChatModel"] is True


def test_stats_mark_a_models_estimated_sums(lc: Path) -> None:
    named = AIMessage("It is sunny.", response_metadata={"model_name": "local-7b"})
    FakeMessagesListChatModel(responses=[named]).invoke("Weather in Paris?")
    ReplyModel().invoke("Capital?")  # reports its usage
    spyglass.flush()
    rows = {line.split()[0]: line for line in _cli("stats", "--db", str(lc)).splitlines()[1:]}
    assert "~5" in rows["local-7b"] and "~" not in rows["reply-model-1-2026"]
    models = json.loads(_cli("stats", "--db", str(lc), "--json"))["models"]
    assert {m["model"]: m["tokens_estimated"] for m in models} == {
        "local-7b": True,
        "reply-model-1-2026": False,
    }


def test_reported_tokens_carry_no_mark(lc: Path) -> None:
    ReplyModel().invoke("Capital?")
    spyglass.flush()
    listed = _cli("traces", "--db", str(lc))
    assert "30→12" in listed and "~" not in listed


async def test_ui_marks_estimates(estimated: Path) -> None:
    app = make_app(estimated, poll_interval=None)
    async with app.run_test(size=(140, 36)) as pilot:
        for _ in range(400):
            tables = app.screen.query(TraceTable)
            if tables and tables.first().row_count:
                break
            await pilot.pause(0.02)
        table = app.screen.query_one(TraceTable)
        assert "~10→8" in [str(cell) for cell in table.get_row_at(0)]
        await pilot.press("enter")
        tree = app.screen.query_one(SpanTree)
        for _ in range(400):
            if tree.root.children:
                break
            await pilot.pause(0.02)
        pane = app.screen.query_one(DetailPane)
        for _ in range(10):
            if "FakeListChatModel" in _text(pane, "#span-line"):
                break
            await pilot.press("j")
            await pilot.pause(0.05)
        assert "~10→8 tok" in _text(pane, "#span-line")
        assert "~10→8 tokens" in _text(app.screen, "#trace-header")


def _text(where: object, selector: str) -> str:
    from textual.widgets import Static

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(where.query_one(selector, Static).content)  # type: ignore[attr-defined]
    return console.export_text()
