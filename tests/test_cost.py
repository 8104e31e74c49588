"""Cost: bundled genai-prices data reduced exactly, user price files, unknown models, the cache."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from viewer_data import PRICES, TRACE_AGENT, TRACE_LOCAL, TRACE_RAG, build, hex_id

from spyglass.errors import ConfigurationError
from spyglass.tracer._cost import PriceBook, Usage, load_price_file
from spyglass.tracer._store import Store


@pytest.fixture(autouse=True)
def _no_user_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never read the developer's price file or write their cache."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)


def reference(usage: Usage, model: str, provider: str | None, at: datetime) -> float:
    """What genai-prices itself says."""
    import genai_prices

    result = genai_prices.calc_price(
        genai_prices.Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            output_reasoning_tokens=usage.reasoning_tokens,
        ),
        model,
        provider_id=provider,
        genai_request_timestamp=at,
    )
    return float(result.total_price)


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o-mini"),  # cache reads at a discount
        ("anthropic", "claude-sonnet-4-5"),  # cache writes at a premium, a 200k-token tier
        ("google", "gemini-2.5-pro"),  # tiers
        ("deepseek", "deepseek-chat"),  # prices that changed on a date
        ("openai", "o3"),  # reasoning tokens, a price cut
    ],
)
def test_bundled_prices_match_genai_prices_exactly(
    provider: str, model: str, tmp_path: Path
) -> None:
    book = PriceBook(cache_file=tmp_path / "prices.json")
    pricing = book.lookup(provider, model)
    assert pricing is not None and pricing.source.startswith("genai-prices")
    rng = random.Random(7)
    for _ in range(200):
        total_in = rng.choice([rng.randint(0, 5_000), rng.randint(150_000, 400_000)])
        out = rng.randint(0, 4_000)
        usage = Usage(
            input_tokens=total_in,
            output_tokens=out,
            cache_read_tokens=rng.randint(0, total_in // 2),
            cache_write_tokens=rng.randint(0, total_in // 4),
            reasoning_tokens=rng.randint(0, out),
        )
        seconds = rng.randint(1_700_000_000, 1_800_000_000)
        at = datetime.fromtimestamp(seconds, tz=timezone.utc)
        got = pricing.cost(usage, seconds * 10**9)
        assert got == pytest.approx(reference(usage, model, provider, at), rel=1e-9, abs=1e-12)


def test_cached_tokens_are_priced_as_the_provider_prices_them(tmp_path: Path) -> None:
    book = PriceBook(cache_file=tmp_path / "prices.json")
    plain = book.cost("openai", "gpt-4o-mini", Usage(1_000_000, 0), 0)
    cached = book.cost("openai", "gpt-4o-mini", Usage(1_000_000, 0, cache_read_tokens=1_000_000), 0)
    assert plain is not None and cached is not None and cached < plain
    written = book.cost(
        "anthropic", "claude-sonnet-4-5", Usage(1_000_000, 0, cache_write_tokens=1_000_000), 0
    )
    base = book.cost("anthropic", "claude-sonnet-4-5", Usage(1_000_000, 0), 0)
    assert written is not None and base is not None and written > base


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("ollama", "llama3"),  # a local server: no price, even if the name exists elsewhere
        ("spyglass-demo", "demo-echo-1"),
        ("openai", "no-such-model-xyz"),
        (None, "my-finetune-7b"),
        ("openai", None),
    ],
)
def test_unknown_models_get_no_cost(
    provider: str | None, model: str | None, tmp_path: Path
) -> None:
    book = PriceBook(cache_file=tmp_path / "prices.json")
    assert book.cost(provider, model, Usage(1000, 1000), 0) is None


def test_no_provider_lets_genai_prices_match_the_model_name(tmp_path: Path) -> None:
    book = PriceBook(cache_file=tmp_path / "prices.json")
    pricing = book.lookup(None, "gpt-4o-mini")
    assert pricing is not None and "openai/gpt-4o-mini" in pricing.source


def test_otel_provider_names_resolve(tmp_path: Path) -> None:
    book = PriceBook(cache_file=tmp_path / "prices.json")
    for provider, model in (
        ("gcp.gemini", "gemini-2.5-flash"),
        ("aws.bedrock", "amazon.nova-pro-v1:0"),
        ("x_ai", "grok-3"),  # not resolved by genai-prices itself
    ):
        assert book.lookup(provider, model) is not None, provider


def test_contradictory_counts_get_no_cost(tmp_path: Path) -> None:
    book = PriceBook(cache_file=tmp_path / "prices.json")
    assert book.cost("openai", "gpt-4o", Usage(10, 10, cache_read_tokens=50), 0) is None
    assert book.cost("openai", "gpt-4o", Usage(0, 0), 0) is None


def test_user_toml_overrides_and_adds_models(tmp_path: Path) -> None:
    file = tmp_path / "prices.toml"
    file.write_text(
        "[[models]]\n"
        'model = "gpt-4o-mini"\n'
        'provider = "openai"\n'
        "input = 1.0\noutput = 2.0\ncache_read = 0.5\n"
        "[[models]]\n"
        'model = "Acme-7B"\n'
        "input = 0.2\noutput = 0.6\n"
    )
    book = PriceBook(load_price_file(file), cache_file=tmp_path / "cache.json")
    usage = Usage(1_000_000, 1_000_000, cache_read_tokens=500_000)
    assert book.cost("openai", "gpt-4o-mini", usage, 0) == pytest.approx(0.5 + 0.25 + 2.0)
    # no provider in the entry: it prices the model under any provider; cache reads at input
    assert book.cost("ollama", "acme-7b", usage, 0) == pytest.approx(0.2 + 0.6)
    assert book.lookup("ollama", "acme-7b").source == "user"  # type: ignore[union-attr]


def test_user_json_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "mine.json"
    file.write_text(json.dumps({"models": [{"model": "m-1", "input": 3, "output": 4}]}))
    monkeypatch.setenv("SPYGLASS_PRICES", str(file))
    book = PriceBook.default()
    assert book.cost(None, "m-1", Usage(1_000_000, 1_000_000), 0) == pytest.approx(7.0)


def test_default_file_in_config_dir(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "spyglass"
    folder.mkdir(parents=True)
    (folder / "prices.json").write_text('{"models": [{"model": "m-2", "input": 1, "output": 1}]}')
    assert PriceBook.default().cost(None, "m-2", Usage(1_000_000, 0), 0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"models": [{"model": "m", "input": -1, "output": 1}]}', "'input' must be a price"),
        ('{"models": [{"model": "m", "output": 1}]}', "'input' must be a price"),
        ('{"models": [{"input": 1, "output": 1}]}', "needs a 'model' name"),
        ('{"models": [{"model": "m", "input": 1, "output": 1, "inptu": 2}]}', "unknown key"),
        ('{"prices": []}', "a list named 'models'"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_price_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "prices.json"
    file.write_text(content)
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_price_file(file)
    assert str(file) in str(caught.value)


def test_missing_file_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPYGLASS_PRICES", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigurationError, match="SPYGLASS_PRICES"):
        PriceBook.default()


def test_warm_cache_prices_without_importing_genai_prices(tmp_path: Path) -> None:
    cache = tmp_path / "prices.json"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from spyglass.tracer._cost import PriceBook, Usage\n"
        f"book = PriceBook(cache_file=Path({str(cache)!r}))\n"
        "print(book.cost('openai', 'gpt-4o-mini', Usage(1000, 100), 0),"
        " book.cost('ollama', 'llama3', Usage(1000, 100), 0),"
        " 'genai_prices' in sys.modules)\n"
    )

    def run() -> list[str]:
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    cold = run()
    assert cold[1:] == ["None", "True"] and float(cold[0]) > 0
    warm = run()
    assert warm == [cold[0], "None", "False"]  # same answers, no import


def test_cache_from_other_genai_prices_data_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "prices.json"
    fake = {"periods": [{"since": None, "hours": None, "tiers": [[0, [0, 1, 1, 1, 1, 1]]]}]}
    cache.write_text(
        json.dumps({"key": "0:stale", "entries": {"openai\tgpt-4o-mini": fake | {"source": "x"}}})
    )
    cost = PriceBook(cache_file=cache).cost("openai", "gpt-4o-mini", Usage(1000, 0), 0)
    assert cost is not None and cost < 1  # measured anew, not the stale $1 per token


def test_span_and_trace_costs_in_the_store(tmp_path: Path) -> None:
    store = Store(build(tmp_path / "t.db"), prices=PRICES)
    rag = store.trace(hex_id(TRACE_RAG))
    llm = next(s for s in rag.spans if s.kind == "LLM")
    # 1,000 plain input at 0.15, 200 cached at 0.075, 300 output at 0.60 (USD per million)
    assert llm.cost_usd == pytest.approx((1000 * 0.15 + 200 * 0.075 + 300 * 0.6) / 1e6)
    assert rag.summary.cost_usd == pytest.approx(llm.cost_usd)
    assert llm.to_dict()["cost_usd"] == pytest.approx(llm.cost_usd)
    agent = store.trace(hex_id(TRACE_AGENT)).summary
    # 4,000 input at 3, 1,000 cache writes at 3.75, 800 output (200 reasoning) at 15
    assert agent.cost_usd == pytest.approx((4000 * 3 + 1000 * 3.75 + 800 * 15) / 1e6)
    listed = {s.trace_id: s for s in store.traces()}
    assert listed[hex_id(TRACE_AGENT)].cost_usd == pytest.approx(agent.cost_usd)
    assert listed[hex_id(TRACE_AGENT)].to_dict()["cost_usd"] == round(agent.cost_usd, 10)


def test_unpriced_trace_has_no_cost_and_counts_each_call_once(tmp_path: Path) -> None:
    book = PriceBook(
        load_price_file(
            _file(tmp_path, '{"models": [{"model": "llama3", "input": 1, "output": 1}]}')
        )
    )
    db = build(tmp_path / "t.db")
    local = Store(db, prices=PRICES).trace(hex_id(TRACE_LOCAL)).summary
    assert local.cost_usd is None and local.cost_partial and local.to_dict()["cost_usd"] is None
    priced = Store(db, prices=book).trace(hex_id(TRACE_LOCAL))
    # the framework span and the SDK span under it are one call: counted once
    assert priced.summary.cost_usd == pytest.approx(500 / 1e6)
    assert all(s.cost_usd == pytest.approx(500 / 1e6) for s in priced.spans if s.model)


def _file(folder: Path, content: str) -> Path:
    path = folder / "p.json"
    path.write_text(content)
    return path
