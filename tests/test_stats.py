"""``spyglass stats``: per-model calls, tokens, cost, latency percentiles, errors; per prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from viewer_data import PRICES, T0, build, make_span, shifted, write

from spyglass.cli import main
from spyglass.tracer import attributes as A
from spyglass.tracer._records import iso
from spyglass.tracer._stats import percentile
from spyglass.tracer._store import Store


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    return build(tmp_path / "stats.db")


def test_percentiles_interpolate() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(1, 101)], 95) == pytest.approx(95.05)


def test_per_model(filled: Path) -> None:
    stats = Store(filled, prices=PRICES).stats()
    by_model = {m.model: m for m in stats.models}
    assert list(by_model) == ["claude-sonnet-4-5", "gpt-4o-mini", "llama3"]  # costliest first
    mini = by_model["gpt-4o-mini"]
    assert (mini.provider, mini.calls, mini.errors) == ("openai", 2, 0)
    assert (mini.input_tokens, mini.output_tokens, mini.cache_read_tokens) == (1210, 305, 200)
    assert (mini.p50_ms, mini.p95_ms) == (pytest.approx(510.0), pytest.approx(888.0))
    # the RAG call plus the 10→5 call of the evil trace
    expected = (1000 * 0.15 + 200 * 0.075 + 300 * 0.6 + 10 * 0.15 + 5 * 0.6) / 1e6
    assert mini.cost_usd == pytest.approx(expected)
    claude = by_model["claude-sonnet-4-5"]
    assert (claude.cache_write_tokens, claude.reasoning_tokens) == (1000, 200)
    llama = by_model["llama3"]
    # the framework span is counted elsewhere: one call, not two; no price known
    assert (llama.calls, llama.input_tokens, llama.cost_usd) == (1, 400, None)
    assert llama.cost_partial


def test_errors_and_window_and_project(filled: Path) -> None:
    failing = make_span(0xE5E5, 1, None, "chat gpt-4o-mini", 0, 40, {
        A.SPYGLASS_KIND: "LLM", A.GEN_AI_PROVIDER_NAME: "openai",
        A.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
    }, error=ValueError("rate limited"), project="other")  # fmt: skip
    write(filled, shifted([failing], 3600))
    store = Store(filled, prices=PRICES)
    mini = next(m for m in store.stats().models if m.model == "gpt-4o-mini")
    assert (mini.calls, mini.errors) == (3, 1)
    recent = store.stats(since=iso(T0 + 3000 * 10**9))
    assert [(m.model, m.calls, m.errors) for m in recent.models] == [("gpt-4o-mini", 1, 1)]
    shop = store.stats(project="shop")
    assert next(m for m in shop.models if m.model == "gpt-4o-mini").errors == 0
    assert store.stats(project="nobody").models == []


def test_per_prompt_version(filled: Path) -> None:
    for i, version in enumerate(("2", "10", "10")):
        span = make_span(0xF000 + i, 1, None, "chat", 0, 100 * (i + 1), {
            A.SPYGLASS_KIND: "LLM", A.GEN_AI_PROMPT_NAME: "qa",
            A.GEN_AI_PROMPT_VERSION: version, A.GEN_AI_USAGE_INPUT_TOKENS: 7,
        }, error=RuntimeError("x") if i == 2 else None)  # fmt: skip
        write(filled, [span])
    prompts = Store(filled, prices=PRICES).stats().prompts
    assert [(p.label, p.runs, p.errors) for p in prompts] == [("qa@2", 2, 0), ("qa@10", 2, 1)]
    assert prompts[1].p50_ms == pytest.approx(250.0)
    assert prompts[0].input_tokens == 1207


def test_cli_stats_json_and_text(filled: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", str(filled), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"since", "project", "models", "prompts", "indexes", "scores"}
    assert data["scores"] == []  # no scores in this file
    assert set(data["models"][0]) == {
        "provider", "model", "calls", "errors", "input_tokens", "output_tokens",
        "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "tokens_estimated",
        "cost_usd", "p50_ms", "p95_ms",
    }  # fmt: skip
    assert data["prompts"] == [
        {
            "prompt": "qa@2",
            "name": "qa",
            "version": "2",
            "runs": 1,
            "errors": 0,
            "p50_ms": 1200.0,  # the trace's duration: a run of a prompt is a trace
            "input_tokens": 1200,
            "output_tokens": 300,
        }
    ]
    result = CliRunner().invoke(main, ["stats", "--db", str(filled), "--since", "1d"])
    assert result.exit_code == 0 and "no model calls" in result.stdout  # the data is older
    result = CliRunner().invoke(main, ["stats", "--db", str(filled)])
    assert "claude-sonnet-4-5" in result.stdout and "qa@2" in result.stdout


def test_cli_stats_bad_since(filled: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--db", str(filled), "--since", "soon"])
    assert result.exit_code == 1 and "since must look like" in result.stderr
