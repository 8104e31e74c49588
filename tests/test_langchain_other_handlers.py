"""A user's own callback handlers see exactly what they see without spyglass.

langchain-core's ``AsyncCallbackManager.on_llm_start`` skips every non-inline handler as soon as
one inline handler is present, and spyglass's handler is inline. Each scenario here runs an
async LLM (not chat) twice, autolog off and then on, watched by the handlers a user has: a
plain sync handler (not inline, LangChain's default), an async one, ``collect_runs`` and
``astream_events``. What they saw must be the same both times, and spyglass must still record
the LLM span where it belongs.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import (
    AsyncCallbackHandler,
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    BaseCallbackHandler,
    Callbacks,
)
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.language_models.llms import LLM
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from langchain_core.prompts import PromptTemplate
from langchain_core.tracers.context import collect_runs
from langchain_fakes import all_traces, only_trace, span_named, tree

import spyglass
from spyglass.integrations.langchain import SpyglassCallbackHandler
from spyglass.integrations.langchain._runs import SHARED_RUNS

# --- what a user's handlers see ----------------------------------------------------------------


class Log:
    """Events by run, thread-safe: sync handlers run on executor threads in async code."""

    def __init__(self) -> None:
        self._events: dict[UUID, list[tuple[str, str]]] = defaultdict(list)
        self._lock = threading.Lock()

    def add(self, run_id: UUID, event: str, payload: object = "") -> None:
        with self._lock:
            self._events[run_id].append((event, str(payload)))

    def per_run(self) -> list[tuple[tuple[str, str], ...]]:
        """Each run's events in order, the runs sorted: run ids differ from one run to the next."""
        return sorted(tuple(events) for events in self._events.values())


def _output(response: LLMResult) -> str:
    return response.generations[0][0].text


class Recorder(BaseCallbackHandler):
    """A user's sync handler, not inline."""

    def __init__(self) -> None:
        self.log = Log()

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.log.add(run_id, "llm_start", prompts)

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        self.log.add(run_id, "token", token)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self.log.add(run_id, "llm_end", _output(response))

    def on_chain_start(
        self, serialized: dict[str, Any], inputs: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.log.add(run_id, "chain_start", kwargs.get("name"))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.log.add(run_id, "chain_end", outputs)


class AsyncRecorder(AsyncCallbackHandler):
    """A user's async handler, not inline: LangChain gathers it in a task of its own."""

    def __init__(self) -> None:
        self.log = Log()

    async def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.log.add(run_id, "llm_start", prompts)

    async def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self.log.add(run_id, "llm_end", _output(response))


class TracingLLM(LLM):
    """Streams "ok" from inside a ``spyglass.trace`` block, as code calling an SDK would."""

    @property
    def _llm_type(self) -> str:
        return "tracing"

    def _call(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        return "ok"

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        with spyglass.trace("inside"):
            for text in ("o", "k"):
                if run_manager is not None:
                    await run_manager.on_llm_new_token(text)
                yield GenerationChunk(text=text)


# --- the scenarios: each runs its LLM with the callbacks it is given -----------------------------

Scenario = Callable[[Callbacks], Awaitable[object]]


async def ainvoke(callbacks: Callbacks) -> object:
    return await FakeListLLM(responses=["four"]).ainvoke("2+2=", config={"callbacks": callbacks})


async def abatch(callbacks: Callbacks) -> object:
    llm = FakeListLLM(responses=["same"] * 3)
    return await llm.abatch(["a", "b", "c"], config={"callbacks": callbacks})


async def astream(callbacks: Callbacks) -> object:
    return [chunk async for chunk in TracingLLM().astream("hi", config={"callbacks": callbacks})]


async def chain(callbacks: Callbacks) -> object:
    prompt = PromptTemplate.from_template("Q: {q}")
    steps = prompt | FakeListLLM(responses=["4"]) | StrOutputParser()
    return await steps.ainvoke({"q": "2+2"}, config={"callbacks": callbacks})


SCENARIOS: dict[str, tuple[Scenario, int]] = {  # name -> (scenario, LLM runs it makes)
    "ainvoke": (ainvoke, 1),
    "abatch": (abatch, 3),
    "astream": (astream, 1),
    "chain": (chain, 1),
}


@dataclass(frozen=True)
class Seen:
    """Everything the user's handlers saw of one scenario."""

    output: object
    sync_events: list[tuple[tuple[str, str], ...]]
    async_events: list[tuple[tuple[str, str], ...]]
    collected: list[tuple[str, str, bool]]


async def observe(scenario: Scenario, extra: Callbacks = None) -> Seen:
    sync, asynchronous = Recorder(), AsyncRecorder()
    with collect_runs() as collector:
        output = await scenario([*(extra or []), sync, asynchronous])
    collected = sorted(
        (run.run_type, run.name, run.outputs is not None) for run in collector.traced_runs
    )
    return Seen(output, sync.log.per_run(), asynchronous.log.per_run(), collected)


def llm_starts(seen: Seen) -> int:
    return sum(event[0] == "llm_start" for run in seen.sync_events for event in run)


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("explicit", [False, True], ids=["autolog", "autolog+explicit"])
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_user_handlers_see_async_llm_runs_as_without_spyglass(
    name: str, explicit: bool, db: Path
) -> None:
    scenario, llm_runs = SCENARIOS[name]
    without = await observe(scenario)
    assert llm_starts(without) == llm_runs  # the baseline itself sees every start
    spyglass.autolog(db=db, integrations=["langchain"])
    extra = [SpyglassCallbackHandler()] if explicit else None
    with_spyglass = await observe(scenario, extra)
    assert with_spyglass == without
    spans = [span for trace in all_traces(db) for span in trace.spans if span.kind == "LLM"]
    assert len(spans) == llm_runs  # recorded, each once
    assert all(span.status == "OK" for span in spans)
    assert len(SHARED_RUNS) == 0


async def test_astream_events_are_the_same_with_autolog(db: Path) -> None:
    async def events() -> list[tuple[str, str]]:
        llm = FakeListLLM(responses=["four"])
        return [(e["event"], e["name"]) async for e in llm.astream_events("2+2=", version="v2")]

    without = await events()
    assert ("on_llm_start", "FakeListLLM") in without
    spyglass.autolog(db=db, integrations=["langchain"])
    assert await events() == without
    assert only_trace(db).root is not None


async def test_spyglass_spans_still_nest_in_async_llm_runs(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    await chain([Recorder()])
    assert tree(only_trace(db)) == [
        (0, "CHAIN", "RunnableSequence"),
        (1, "CHAIN", "PromptTemplate"),
        (1, "LLM", "FakeListLLM"),
        (1, "CHAIN", "StrOutputParser"),
    ]
    await astream([Recorder()])
    streamed = all_traces(db)[-1]
    llm, inside = span_named(streamed, "TracingLLM"), span_named(streamed, "inside")
    assert inside.parent_id == llm.span_id  # set in the caller's task, as before


class Refuses(BaseCallbackHandler):
    """A user's guard that stops a call by raising from its start."""

    raise_error = True

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], **kwargs: Any) -> None:
        raise PermissionError("over budget")


async def test_a_user_handler_can_still_stop_an_async_llm_call(db: Path) -> None:
    llm = FakeListLLM(responses=["four"])
    with pytest.raises(PermissionError):
        await llm.ainvoke("2+2=", config={"callbacks": [Refuses()]})
    spyglass.autolog(db=db, integrations=["langchain"])
    with pytest.raises(PermissionError):
        await llm.ainvoke("2+2=", config={"callbacks": [Refuses()]})
    root = only_trace(db).root
    assert root is not None and root.kind == "LLM" and root.status == "ERROR"
    assert len(SHARED_RUNS) == 0


def test_disable_restores_the_async_llm_start_exactly(db: Path) -> None:
    original = AsyncCallbackManager.__dict__["on_llm_start"]
    spyglass.autolog(db=db, integrations=["langchain"])
    wrapped = AsyncCallbackManager.__dict__["on_llm_start"]
    assert wrapped is not original and wrapped.__wrapped__ is original
    spyglass.autolog(db=db, integrations=["langchain"], project="other")  # reinstall: one wrap
    assert AsyncCallbackManager.__dict__["on_llm_start"].__wrapped__ is original
    spyglass.autolog(disable=True)
    assert AsyncCallbackManager.__dict__["on_llm_start"] is original


async def test_disable_leaves_a_later_wrapper_working(db: Path) -> None:
    original = AsyncCallbackManager.__dict__["on_llm_start"]
    spyglass.autolog(db=db, integrations=["langchain"])
    ours = AsyncCallbackManager.__dict__["on_llm_start"]
    calls: list[str] = []

    async def theirs(self: AsyncCallbackManager, *args: Any, **kwargs: Any) -> Any:
        calls.append("theirs")  # another library wrapped the method after autolog
        return await ours(self, *args, **kwargs)

    AsyncCallbackManager.on_llm_start = theirs  # type: ignore[method-assign]
    try:
        spyglass.autolog(disable=True)
        assert AsyncCallbackManager.__dict__["on_llm_start"] is theirs  # not undone under them
        seen = await observe(ainvoke)
        assert calls == ["theirs"] and llm_starts(seen) == 1 and seen.output == "four"
    finally:
        AsyncCallbackManager.on_llm_start = original  # type: ignore[method-assign]


class Uncopyable(AsyncCallbackManager):
    def __copy__(self) -> Uncopyable:
        raise RuntimeError("no copies")


async def test_a_manager_that_cannot_be_copied_costs_a_warning_not_the_call(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    manager = Uncopyable(handlers=[SpyglassCallbackHandler()])
    with caplog.at_level(logging.WARNING, logger="spyglass"):
        (run,) = await manager.on_llm_start({"name": "odd"}, ["hi"])  # langchain-core's dispatch
    assert any("on_llm_start" in record.getMessage() for record in caplog.records)
    await run.on_llm_end(LLMResult(generations=[[Generation(text="ok")]]))
    root = only_trace(db).root
    assert root is not None and root.kind == "LLM" and root.status == "OK"
    assert len(SHARED_RUNS) == 0
