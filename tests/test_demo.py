"""``spyglass demo``: offline, idempotent, prompt-linked, and it says what to try next."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import spyglass
from spyglass.cli import _demo, main
from spyglass.prompts import PromptRegistry

NAME = _demo.PROMPT_NAME
RUNS_PER_VERSION = len(_demo.QUESTIONS)


def demo(*args: str) -> str:
    result = CliRunner().invoke(main, ["demo", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def linked(db: Path, ref: str) -> list[str]:
    with PromptRegistry(db) as registry:
        return [summary.trace_id for summary in registry.traces(ref, limit=100)]


def test_demo_traces_both_versions_and_shows_tree_diff_and_hints(db: Path) -> None:
    out = demo("--db", str(db))
    # the trace tree, in full: the chain, its retriever and model, the failing tool call
    for text in ("rag-demo", "ScoredRetriever", "DemoChatModel", "lookup_weather", "ERROR"):
        assert text in out, text
    assert "documents (4)" in out and "TimeoutError: weather service did not answer" in out
    assert f"prompt {NAME}@2" in out
    # the diff of the two versions, with the linked-trace columns
    assert f"{NAME}@1 → {NAME}@2" in out and "+Question: {question}" in out
    for row in ("LINKED TRACES", "runs", "error rate", "median latency", "mean input tokens"):
        assert row in out, row
    # what to try next, each with the non-default --db
    flag = f"--db {db}"
    for command in ("traces", "search terminal", f"prompts diff {NAME} 1 2", "stats", "ui"):
        assert f"spyglass {command} {flag}" in out, command
    assert re.search(rf"spyglass show [0-9a-f]{{12}} --full {re.escape(flag)}", out)
    # the runs are linked to both versions, in the spans and through the registry
    assert len(linked(db, f"{NAME}@1")) == len(linked(db, f"{NAME}@2")) == RUNS_PER_VERSION
    with spyglass.Store(db) as store:
        shown = re.search(r"spyglass show ([0-9a-f]{12})", out)
        assert shown is not None
        trace = store.trace(shown.group(1))
    assert trace.trace_id in linked(db, f"{NAME}@2")
    assert trace.summary.session_id == "demo-session"
    assert {"CHAIN", "RETRIEVER", "LLM", "TOOL"} <= {s.kind for s in trace.spans}
    model = next(s for s in trace.spans if s.kind == "LLM")
    assert (model.prompt_name, model.prompt_version) == (NAME, "2")
    assert model.attributes["spyglass.integration"] == "langchain"
    assert model.provider == "spyglass-demo"
    assert next(s for s in trace.spans if s.name == "lookup_weather").status == "ERROR"


def test_running_the_demo_twice_keeps_two_versions(db: Path) -> None:
    demo("--db", str(db))
    demo("--db", str(db))
    with PromptRegistry(db) as registry:
        assert [v.version for v in registry.versions(NAME)] == [1, 2]
    assert len(linked(db, f"{NAME}@1")) == 2 * RUNS_PER_VERSION


def test_the_demo_finds_its_versions_after_others_were_added(db: Path) -> None:
    demo("--db", str(db))
    with PromptRegistry(db) as registry:
        registry.register(NAME, "Someone's own {context} and {question}")
    out = demo("--db", str(db))
    with PromptRegistry(db) as registry:
        assert [v.version for v in registry.versions(NAME)] == [1, 2, 3]
    assert f"prompts diff {NAME} 1 2" in out


def test_default_database_needs_no_db_flag(tmp_path: Path) -> None:
    """conftest points $SPYGLASS_DB at tmp_path/default.db: the hints must not repeat it."""
    out = demo()
    assert (tmp_path / "default.db").exists()
    assert "spyglass ui " in out and "--db" not in out


def test_fallback_without_langchain(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_demo, "langchain_available", lambda: False)
    out = demo("--db", str(db))
    assert "keyword-retriever" in out and "demo-model" in out and "lookup_weather" in out
    assert f"{NAME}@1 → {NAME}@2" in out and "spyglass ui --db" in out
    assert len(linked(db, f"{NAME}@1")) == len(linked(db, f"{NAME}@2")) == RUNS_PER_VERSION


def test_plain_pipeline_links_the_run_to_the_version(db: Path) -> None:
    with PromptRegistry(db) as registry:
        v1, v2 = _demo.register_versions(registry)
    spyglass.autolog(db=db, integrations=())
    answer = _demo.run_pipeline(v2, "How are API keys handled?", call_tool=True)
    spyglass.flush()
    assert answer == _demo.CORPUS["doc-redact"]
    assert (v1.version, v2.version) == (1, 2)
    with spyglass.Store(db) as store:
        (summary,) = store.traces()
        trace = store.trace(summary.trace_id)
    spans = {s.name: s for s in trace.spans}
    assert set(spans) == {"rag-demo", "keyword-retriever", "demo-model", "lookup_weather"}
    for name in ("rag-demo", "demo-model"):  # format() inside the run links both
        assert (spans[name].prompt_name, spans[name].prompt_version) == (NAME, "2")
    assert spans["keyword-retriever"].prompt_name is None
    assert spans["keyword-retriever"].documents[0].id == "doc-redact"
    assert spans["demo-model"].input_tokens and spans["demo-model"].output_tokens
    assert spans["lookup_weather"].status == "ERROR" and summary.status == "OK"
