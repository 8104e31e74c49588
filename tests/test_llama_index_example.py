"""``examples/llama_index_rag.py`` runs offline, as a module (``run(db)``) and as a script."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import spyglass

pytest.importorskip("llama_index.core")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "llama_index_rag.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_llama_index_rag", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_returns_the_query_trace(db: Path) -> None:
    trace_id = load_example().run(str(db))
    with spyglass.Store(db) as store:
        trace = store.trace(trace_id)
        assert {t.name for t in store.traces()} == {"answer-question", "index-documents"}
    assert trace.root is not None and trace.root.name == "answer-question"
    kinds = [span.kind for span in trace.spans]
    assert kinds == ["CHAIN", "CHAIN", "RETRIEVER", "EMBEDDING", "CHAIN", "LLM"]
    (retriever,) = [span for span in trace.spans if span.kind == "RETRIEVER"]
    scores = [doc.score for doc in retriever.documents]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 3  # the example's embedding ranks documents apart
    assert "SQLite" in (retriever.documents[0].content or "")
    (llm,) = [span for span in trace.spans if span.kind == "LLM"]
    assert llm.attributes["spyglass.usage.estimated"] is True
    assert trace.summary.input_tokens > 0 and trace.summary.session_id == "example"


def test_runs_as_a_script_and_says_how_to_view_the_trace(tmp_path: Path) -> None:
    db = tmp_path / "script.db"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS")},
    )
    assert result.returncode == 0, result.stderr
    with spyglass.Store(db) as store:
        (answer,) = [t for t in store.traces() if t.name == "answer-question"]
    assert answer.trace_id in result.stdout
    assert f"spyglass show {answer.trace_id[:12]} --db {db}" in result.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", "show", answer.trace_id[:12], "--db", str(db),
         "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["trace_id"] == answer.trace_id
