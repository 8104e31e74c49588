"""The LangChain examples run offline and leave the traces they promise (``spyglass demo``:
``tests/test_demo.py``)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from langchain_fakes import all_traces, span_named

import spyglass

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rag_example(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("langchain_rag")
    answers = example.main(db)
    assert answers[0].startswith("All spans")
    assert str(db) in capsys.readouterr().out
    traces = all_traces(db)
    assert len(traces) == 3
    for trace in traces:
        assert trace.summary.name == "rag-chain" and len(trace.spans) == 9
        retriever = span_named(trace, "ScoredRetriever")
        assert len(retriever.documents) == 4
        assert all(doc.score is not None for doc in retriever.documents)
        assert trace.summary.input_tokens > 0


def test_rag_example_runs_as_a_script(tmp_path: Path) -> None:
    db = tmp_path / "script.db"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "langchain_rag.py"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS")},
    )
    assert result.returncode == 0, result.stderr
    with spyglass.Store(db) as store:
        assert len(store.traces()) == 3


def test_agent_example(db: Path) -> None:
    example = load_example("langchain_agent")
    assert "sunny" in example.main(db)
    (trace,) = all_traces(db)
    assert trace.root is not None and trace.root.kind == "AGENT"
    tools = sorted(s.name for s in trace.spans if s.kind == "TOOL")
    assert tools == ["get_time", "get_weather"]
    assert sum(1 for s in trace.spans if s.kind == "LLM") == 2
