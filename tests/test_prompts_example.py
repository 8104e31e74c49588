"""``examples/prompt_versions.py`` runs offline, links its traces, and re-runs cleanly."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import spyglass
from spyglass.prompts import PromptRegistry

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "prompt_versions.py"


def langchain_available() -> bool:
    return all(importlib.util.find_spec(name) for name in ("langchain_core", "numpy"))


def run_example(db: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def test_example_registers_runs_and_diffs(tmp_path: Path) -> None:
    db = tmp_path / "example.db"
    out = run_example(db)
    assert "rag-answer@1 → rag-answer@2" in out and "LINKED TRACES" in out
    assert "@@ message 1 (system) added @@" in out and "error rate" in out
    run_example(db)  # again: no new versions, six more traces
    registry = PromptRegistry(db)
    assert [v.version for v in registry.versions("rag-answer")] == [1, 2]
    assert registry.aliases("rag-answer") == {"production": 1}
    runs = registry.diff("rag-answer", 1, 2).runs
    per_run = 6 if langchain_available() else 3  # plain pipeline, and LangChain if installed
    assert (runs[0].runs, runs[0].errors) == (2 * per_run, 2)
    assert (runs[1].runs, runs[1].errors) == (2 * per_run, 0)


def test_example_links_langchain_runs_through_template_metadata(tmp_path: Path) -> None:
    if not langchain_available():
        pytest.skip("langchain-core and numpy are not installed")
    db = tmp_path / "example.db"
    run_example(db)
    linked = PromptRegistry(db).traces("rag-answer@2")
    assert sorted(t.name for t in linked) == ["rag-answer"] * 3 + ["rag-chain-langchain"] * 3
    store = spyglass.Store(db)
    chain = next(t for t in linked if t.name == "rag-chain-langchain")
    kinds = {s.kind for s in store.trace(chain.trace_id).spans if s.prompt_version == "2"}
    assert "LLM" in kinds  # the model call after the prompt, not only the prompt's own run
