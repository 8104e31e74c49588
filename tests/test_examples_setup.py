"""Every example under the README's "try it" install (``pip install -e '.[langchain]'``) either
runs or stops with a one-line hint naming what to install, never a ``ModuleNotFoundError``
traceback; and the examples print what they promise (trace ids, token counts)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import spyglass

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
RUNNER = Path(__file__).with_name("without_extras.py")
#: The examples that need more than the langchain extra, and what their hint must name.
NEEDS_MORE = {
    "already_instrumented": "pip install openinference-instrumentation-langchain",
    "llama_index_rag": "pip install -e '.[llama-index]'",
    "openai_compatible": "pip install -e '.[openai]'",
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SPYGLASS", "OTEL_"))}


def test_the_simulated_install_lacks_what_the_extra_lacks() -> None:
    sys.path.insert(0, str(RUNNER.parent))
    from without_extras import blocked_modules, required

    allowed = required("spyglass-trace", {"langchain"})
    assert {"langchain-core", "langchain", "langgraph", "numpy", "rich"} <= allowed
    assert not {"openai", "llama-index-core", "anthropic", "aiohttp"} & allowed
    blocked = blocked_modules(allowed)
    assert {"openai", "llama_index", "anthropic", "openinference"} <= blocked
    assert not {"langchain_core", "numpy", "opentelemetry", "textual"} & blocked


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_or_names_what_to_install(example: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(RUNNER), "langchain", str(example), "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_env(),
    )
    hint = NEEDS_MORE.get(example.stem)
    if hint is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("this example needs ")
    assert hint in lines[0]


def test_openai_compatible_prints_tokens_or_why_there_are_none(tmp_path: Path) -> None:
    pytest.importorskip("openai")
    db = tmp_path / "o.db"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "openai_compatible.py"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_env(),
    )
    assert result.returncode == 0, result.stderr
    assert "None" not in result.stdout
    llm = [line for line in result.stdout.splitlines() if line.strip().startswith("LLM")]
    assert len(llm) == 2
    assert "tokens in/out: 21/12" in llm[0]
    assert "tokens: not reported" in llm[1] and "first chunk after" in llm[1]


def test_agent_example_prints_its_trace_id(tmp_path: Path) -> None:
    db = tmp_path / "agent.db"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "langchain_agent.py"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=_env(),
    )
    assert result.returncode == 0, result.stderr
    shown = re.search(r"spyglass show (\S+) --db", result.stdout)
    assert shown is not None, result.stdout
    with spyglass.Store(db) as store:
        (trace,) = store.traces()
    assert trace.trace_id.startswith(shown.group(1)) and len(shown.group(1)) >= 8
