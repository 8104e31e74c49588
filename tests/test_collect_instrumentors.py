"""Real instrumentations, exporting with the standard OTLP exporter to a real `spyglass collect`.

Each stack of ``collect_apps.py`` (OpenInference's openai and LangChain instrumentors,
OpenLLMetry's, the official ``opentelemetry-instrumentation-openai-v2`` with content on the span
and as log-record events) runs in its own process against the tests' fake OpenAI server, with
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at one ``spyglass collect`` subprocess. Once all have
run, the receiver is stopped (which flushes) and the file is read back through ``Store`` and
the CLI: messages, tokens, model, documents with scores, sessions and nesting.

The same runs also recorded what each instrumentor made (``collect_apps`` writes the spans'
attributes to JSON), and the convention modules' unit tests below take those as input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from collect_apps import STACKS
from collect_helpers import Cli
from fake_llm_server import FakeLLMServer

import spyglass
from spyglass.cli import main
from spyglass.collector import _genai, _openinference, _openllmetry
from spyglass.tracer import attributes as A
from spyglass.tracer._records import SpanRecord, Trace

HERE = Path(__file__).resolve().parent


@dataclass
class Collected:
    db: Path
    records: dict[str, dict[str, list[dict[str, object]]]]
    """What each stack's instrumentor made: ``{"spans": [...], "logs": [...]}``."""

    def trace(self, stack: str, root: str | None = None) -> Trace:
        store = spyglass.Store(self.db)
        summaries = store.traces(limit=50, project=stack)
        assert summaries, f"nothing stored for {stack}"
        chosen = [s for s in summaries if root is None or s.name == root]
        assert chosen, f"{stack}: no trace named {root!r} in {[s.name for s in summaries]}"
        return store.trace(chosen[0].trace_id)


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collected]:
    folder = tmp_path_factory.mktemp("collect")
    db = folder / "collected.db"
    cli = Cli(db)
    records = {}
    try:
        with FakeLLMServer() as fake:
            env = {
                **os.environ,
                "OTEL_EXPORTER_OTLP_ENDPOINT": cli.url,
                "FAKE_OPENAI_BASE_URL": fake.openai_base_url,
                "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
            }
            for stack in STACKS:
                record = folder / f"{stack}.json"
                done = subprocess.run(
                    [sys.executable, str(HERE / "collect_apps.py"), stack, str(record)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
                assert done.returncode == 0, f"{stack}: {done.stderr[-3000:]}"
                records[stack] = json.loads(record.read_text())
    finally:
        status, err = cli.stop()
    assert status == 0, err
    yield Collected(db, records)


def _only(trace: Trace, kind: str) -> SpanRecord:
    found = [span for span in trace.spans if span.kind == kind]
    assert len(found) == 1, [(s.name, s.kind) for s in trace.spans]
    return found[0]


def _texts(raw: object) -> list[tuple[str, str]]:
    """``(role, text)`` of every text part of a stored messages attribute."""
    assert isinstance(raw, str)
    return [
        (message["role"], part["content"])
        for message in json.loads(raw)
        for part in message["parts"]
        if part["type"] == "text"
    ]


CHAT_STACKS = ("openinference-openai", "traceloop-openai", "openai-v2", "openai-v2-events")


@pytest.mark.parametrize("stack", CHAT_STACKS)
def test_a_chat_call_arrives_with_messages_tokens_and_model(
    collected: Collected, stack: str
) -> None:
    trace = collected.trace(stack)
    llm = _only(trace, "LLM")
    assert llm.model == "gpt-4o-mini" and llm.provider == "openai"
    assert (llm.input_tokens, llm.output_tokens) == (12, 7)
    assert (trace.summary.input_tokens, trace.summary.output_tokens) == (12, 7)
    assert _texts(llm.attributes[A.GEN_AI_INPUT_MESSAGES]) == [
        ("system", "Answer briefly."),
        ("user", "What is the refund policy?"),
    ]
    assert _texts(llm.attributes[A.GEN_AI_OUTPUT_MESSAGES]) == [
        ("assistant", "Hello from the fake server.")
    ]
    assert trace.summary.project == stack


def _rag(collected: Collected, stack: str, root: str) -> tuple[Trace, SpanRecord, SpanRecord]:
    trace = collected.trace(stack, root)
    return trace, _only(trace, "RETRIEVER"), _only(trace, "LLM")


@pytest.mark.parametrize(
    ("stack", "root"),
    [
        ("openinference-langchain", "RunnableSequence"),
        ("traceloop-langchain", "RunnableSequence.workflow"),
    ],
)
def test_a_langchain_rag_chain_arrives_whole(collected: Collected, stack: str, root: str) -> None:
    trace, retriever, llm = _rag(collected, stack, root)
    documents = json.loads(str(retriever.attributes[A.GEN_AI_RETRIEVAL_DOCUMENTS]))
    assert [(d["content"], d["score"]) for d in documents] == [
        ("Refunds are accepted within 30 days.", 0.91),
        ("Shipping is free over 50 euros.", 0.42),
    ]
    assert retriever.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "What is the refund policy?"
    assert llm.model == "gpt-4o-mini" and (llm.input_tokens, llm.output_tokens) == (12, 7)
    inputs = json.dumps(
        [
            llm.attributes.get(A.GEN_AI_INPUT_MESSAGES),
            llm.attributes.get(A.GEN_AI_SYSTEM_INSTRUCTIONS),
        ]
    )
    assert (
        "Refunds are accepted within 30 days." in inputs and "What is the refund policy?" in inputs
    )
    assert _texts(llm.attributes[A.GEN_AI_OUTPUT_MESSAGES]) == [
        ("assistant", "Hello from the fake server.")
    ]
    # Nesting: every span hangs under the chain's root, the retriever below the parallel step.
    root_span = trace.root
    assert root_span is not None and root_span.name == root
    by_id = {span.span_id: span for span in trace.spans}
    assert llm.parent_id == root_span.span_id
    parallel = by_id[str(retriever.parent_id)]
    assert parallel.name.endswith("RunnableParallel<context,question>")
    assert parallel.parent_id == root_span.span_id
    assert trace.summary.session_id == "chat-7"
    assert trace.summary.span_count == len(trace.spans) >= 6


@pytest.mark.parametrize("stack", ["openinference-langchain", "traceloop-langchain"])
def test_a_tool_call_arrives_as_a_tool_span(collected: Collected, stack: str) -> None:
    store = spyglass.Store(collected.db)
    (summary,) = [s for s in store.traces(limit=50, project=stack) if "order_status" in s.name]
    tool = _only(store.trace(summary.trace_id), "TOOL")
    assert tool.attributes[A.GEN_AI_TOOL_NAME] == "order_status"
    assert "order 42 shipped" in str(tool.attributes[A.GEN_AI_TOOL_CALL_RESULT])


def test_the_views_work_unchanged_on_collected_traces(collected: Collected) -> None:
    runner = CliRunner()
    db = ["--db", str(collected.db)]
    trace = collected.trace("openinference-langchain", "RunnableSequence")
    shown = runner.invoke(main, ["show", trace.trace_id, "--full", *db])
    assert shown.exit_code == 0, shown.output
    assert "Refunds are accepted within 30 days." in shown.output and "0.91" in shown.output
    assert "Hello from the fake server." in shown.output
    found = runner.invoke(main, ["search", "refund", "--json", *db])
    assert {hit["trace_id"] for hit in json.loads(found.output)} >= {trace.trace_id}
    stats = json.loads(runner.invoke(main, ["stats", "--json", *db]).output)
    (model,) = [m for m in stats["models"] if m["model"] == "gpt-4o-mini"]
    assert model["calls"] == 6 and model["input_tokens"] == 6 * 12
    assert model["cost_usd"] > 0


def test_original_attributes_are_kept(collected: Collected) -> None:
    llm = _only(collected.trace("openinference-openai"), "LLM")
    assert llm.attributes["openinference.span.kind"] == "LLM"
    assert llm.attributes["llm.token_count.prompt"] == 12
    assert llm.attributes["llm.input_messages.1.message.content"] == "What is the refund policy?"


# --- the convention modules on what the instrumentors recorded -----------------------------------


def _spans(collected: Collected, stack: str) -> dict[str, dict[str, object]]:
    return {str(s["name"]): s for s in collected.records[stack]["spans"]}


def test_openinference_mapping_on_recorded_spans(collected: Collected) -> None:
    spans = _spans(collected, "openinference-langchain")
    retriever = _openinference.canonical(spans["PolicyRetriever"]["attributes"])
    assert retriever[A.SPYGLASS_KIND] == "RETRIEVER"
    assert retriever[A.GEN_AI_OPERATION_NAME] == "retrieval"
    docs = json.loads(str(retriever[A.GEN_AI_RETRIEVAL_DOCUMENTS]))
    assert [(d["id"], d["score"]) for d in docs] == [(None, 0.91), (None, 0.42)]
    assert docs[0]["metadata"] == {"score": 0.91, "source": "policy.md"}
    llm = _openinference.canonical(spans["ChatOpenAI"]["attributes"])
    assert llm[A.GEN_AI_PROVIDER_NAME] == "openai"
    assert llm[A.GEN_AI_CONVERSATION_ID] == "chat-7"
    assert llm[A.GEN_AI_USAGE_INPUT_TOKENS] == 12 and llm[A.GEN_AI_USAGE_OUTPUT_TOKENS] == 7
    assert [role for role, _ in _texts(llm[A.GEN_AI_INPUT_MESSAGES])] == ["system", "user"]
    prompt = _openinference.canonical(spans["ChatPromptTemplate"]["attributes"])
    assert prompt[A.SPYGLASS_KIND] == "CHAIN"  # OpenInference's PROMPT kind
    tool = _openinference.canonical(spans["order_status"]["attributes"])
    assert tool[A.SPYGLASS_KIND] == "TOOL" and tool[A.GEN_AI_TOOL_NAME] == "order_status"
    assert json.loads(str(tool[A.GEN_AI_TOOL_CALL_RESULT])) == "order 42 shipped"


def test_openllmetry_mapping_on_recorded_spans(collected: Collected) -> None:
    spans = _spans(collected, "traceloop-langchain")
    (retriever_name,) = [name for name in spans if name.endswith("PolicyRetriever")]
    retriever = _openllmetry.canonical(spans[retriever_name]["attributes"])
    assert retriever[A.SPYGLASS_KIND] == "RETRIEVER"
    assert retriever[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "What is the refund policy?"
    docs = json.loads(str(retriever[A.GEN_AI_RETRIEVAL_DOCUMENTS]))
    assert [d["score"] for d in docs] == [0.91, 0.42]
    workflow = _openllmetry.canonical(spans["RunnableSequence.workflow"]["attributes"])
    assert workflow[A.GEN_AI_CONVERSATION_ID] == "chat-7"
    assert "What is the refund policy?" in str(workflow[A.SPYGLASS_INPUT])
    chat = spans["ChatOpenAI.chat"]["attributes"]
    assert _openllmetry.canonical(chat).get(A.SPYGLASS_KIND) is None
    assert _genai.canonical(chat)[A.SPYGLASS_KIND] == "LLM"


def test_genai_mapping_on_recorded_events(collected: Collected) -> None:
    """openai-v2 sent the content as a log record; ``_genai`` reads it as the span's event."""
    from opentelemetry.sdk.trace import Event

    record = collected.records["openai-v2-events"]
    (log,) = record["logs"]
    assert log["event_name"] == _genai.DETAILS_EVENT
    (span,) = record["spans"]
    assert log["span_id"] == span["span_id"]
    assert A.GEN_AI_INPUT_MESSAGES not in span["attributes"]
    event = Event(str(log["event_name"]), log["attributes"])
    out = _genai.canonical(span["attributes"], [event])
    assert _texts(out[A.GEN_AI_INPUT_MESSAGES])[1] == ("user", "What is the refund policy?")
    assert _texts(out[A.GEN_AI_OUTPUT_MESSAGES]) == [("assistant", "Hello from the fake server.")]


@pytest.mark.parametrize(
    ("stack", "root"),
    [
        ("openinference-langchain", "RunnableSequence"),
        ("traceloop-langchain", "RunnableSequence.workflow"),
    ],
)
def test_search_finds_what_the_chain_did_not_its_plumbing(
    collected: Collected, stack: str, root: str
) -> None:
    """Inner chain steps repeat the documents and messages; as for spyglass's own LangChain
    spans, only the root, the retriever and the model call are found."""
    trace = collected.trace(stack, root)
    hit_ids = {hit.span_id for hit in spyglass.Store(collected.db).search("refunds", limit=100)}
    found = [span for span in trace.spans if span.span_id in hit_ids]
    assert {span.kind for span in found} >= {"RETRIEVER", "LLM"}
    inner_chains = [s for s in found if s.kind in ("CHAIN", "AGENT") and s.parent_id is not None]
    assert inner_chains == [], [s.name for s in inner_chains]


async def test_the_ui_shows_a_collected_trace(collected: Collected) -> None:
    from test_ui import SIZE, _static, _walk, row_ids, until
    from textual.widgets import TabbedContent

    from spyglass.viewer import make_app
    from spyglass.viewer._detail import DetailPane
    from spyglass.viewer._span_tree import SpanTree

    trace = collected.trace("openinference-langchain", "RunnableSequence")
    app = make_app(collected.db, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: trace.trace_id in row_ids(app), "the list loads")
        await pilot.press(*["j"] * row_ids(app).index(trace.trace_id), "enter")
        tree = app.screen.query_one(SpanTree)
        await until(pilot, lambda: tree.root.children != [], "the trace loads")
        names = [str(node.label.plain) for node in _walk(tree)]
        assert any("PolicyRetriever" in name for name in names)
        retriever_row = next(i for i, name in enumerate(names) if "PolicyRetriever" in name)
        await pilot.press(*["j"] * retriever_row, "2")
        assert app.screen.query_one(TabbedContent).active == "documents"
        pane = app.screen.query_one(DetailPane)
        await until(pilot, lambda: "0.91" in _static(pane, "#documents-body"), "documents")
        assert "Refunds are accepte" in _static(pane, "#documents-body")  # a snippet
