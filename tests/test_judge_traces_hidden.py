"""An evaluation's judge calls do not crowd out the app: ``traces``, ``Store.traces``, the ui
list and ``stats`` leave them out unless asked; ``traces`` has the ui's filters."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

import spyglass
from spyglass.evaluators import LLMJudge
from spyglass.tracer import attributes as A
from spyglass.viewer import make_app
from spyglass.viewer._query import parse_query
from spyglass.viewer._trace_table import TraceTable


def _llm_call(model: str, text: str) -> str:
    with spyglass.trace(f"{model}-call", kind="LLM") as span:
        assert span is not None
        span.set_attributes(
            {
                A.GEN_AI_PROVIDER_NAME: "local",
                A.GEN_AI_REQUEST_MODEL: model,
                A.GEN_AI_USAGE_INPUT_TOKENS: 10,
                A.GEN_AI_USAGE_OUTPUT_TOKENS: 2,
            }
        )
    return text


def app(question: str) -> str:
    return _llm_call("app-model", f"answer to {question}")


def judge(prompt: str) -> str:
    return _llm_call("judge-model", '{"score": 5, "label": "PASS", "reason": "fine"}')


@pytest.fixture
def evaluated(db: Path) -> Path:
    """Two app traces of one's own (tagged, in a session), then an evaluation of three
    examples with an LLM judge: 3 example traces and 3 judge traces."""
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("chat", session_id="s-1", tags=["beta"]):
        app("hello")
    with spyglass.trace("ingest"):
        pass
    data = [{"question": q} for q in ("a", "b", "c")]
    spyglass.evaluate(app, data, [LLMJudge(judge, "relevance")], name="qa", progress=False)
    assert spyglass.flush()
    spyglass.autolog(disable=True)
    return db


def cli(db: Path, *args: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "spyglass.cli", *args, "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def names(rows: list[dict[str, object]]) -> list[str]:
    return sorted(str(row["name"]) for row in rows)


def test_traces_hides_judge_calls_unless_all(evaluated: Path) -> None:
    shown = names(cli(evaluated, "traces"))
    assert shown == ["chat", "eval:qa", "eval:qa", "eval:qa", "ingest"]
    every = names(cli(evaluated, "traces", "--all"))
    assert every.count("spyglass.judge.relevance") == 3 and len(every) == 8
    judges = names(cli(evaluated, "traces", "--name", "spyglass.judge"))
    assert judges == ["spyglass.judge.relevance"] * 3


def test_traces_takes_the_ui_filters(evaluated: Path) -> None:
    assert names(cli(evaluated, "traces", "--model", "app-")) == [
        "chat",
        "eval:qa",
        "eval:qa",
        "eval:qa",
    ]
    assert names(cli(evaluated, "traces", "--model", "judge")) == []  # judges hidden
    assert len(cli(evaluated, "traces", "--model", "judge", "--all")) == 3
    assert names(cli(evaluated, "traces", "--name", "eval:")) == ["eval:qa"] * 3
    assert names(cli(evaluated, "traces", "--tag", "beta")) == ["chat"]
    assert names(cli(evaluated, "traces", "--tag", "spyglass.eval")) == ["eval:qa"] * 3
    assert names(cli(evaluated, "traces", "--session", "s-1")) == ["chat"]
    assert (
        names(cli(evaluated, "traces", "--prompt", "spyglass.judge.relevance", "--all"))
        == ["spyglass.judge.relevance"] * 3
    )


def test_store_traces_default_and_internal(evaluated: Path) -> None:
    store = spyglass.Store(evaluated)
    assert len(store.traces()) == 5
    assert len(store.traces(internal=True)) == 8
    assert len(store.traces(name="spyglass.judge.")) == 3
    assert [s.name for s in store.traces(tag="beta")] == ["chat"]


def test_stats_counts_the_app_only_unless_all(evaluated: Path) -> None:
    models = {m["model"]: m["calls"] for m in cli(evaluated, "stats")["models"]}  # type: ignore[call-overload]
    assert models == {"app-model": 4}
    every = {m["model"]: m["calls"] for m in cli(evaluated, "stats", "--all")["models"]}  # type: ignore[call-overload]
    assert every == {"app-model": 4, "judge-model": 3}
    prompts = [p["prompt"] for p in cli(evaluated, "stats")["prompts"]]  # type: ignore[call-overload]
    assert not any(str(p).startswith("spyglass.judge.") for p in prompts)


def test_ui_filter_keys_name_and_tag() -> None:
    query = parse_query("name:eval: tag:beta refund")
    assert query.filters() == {"search": "refund", "name": "eval:", "tag": "beta"}


async def _until(pilot: Pilot[None], done: Callable[[], bool]) -> None:
    for _ in range(400):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError("the list never loaded")


@pytest.mark.parametrize(("internal", "rows"), [(False, 5), (True, 8)])
async def test_ui_list_hides_judge_calls_unless_all(
    evaluated: Path, internal: bool, rows: int
) -> None:
    ui = make_app(evaluated, poll_interval=None, internal=internal)
    async with ui.run_test(size=(160, 40)) as pilot:
        await _until(pilot, lambda: ui.screen.query_one(TraceTable).row_count > 0)
        await pilot.pause(0.1)
        assert ui.screen.query_one(TraceTable).row_count == rows
