"""autolog's LangChain install and uninstall, the public handler, and never breaking LangChain."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableLambda
from langchain_core.tracers import context as lc_context
from langchain_fakes import ReplyModel, all_traces, only_trace

import spyglass
from spyglass.integrations.langchain import SpyglassCallbackHandler
from spyglass.integrations.langchain._runs import SHARED_RUNS

Hook = tuple[ContextVar[Any], bool, "type[BaseCallbackHandler] | None", "str | None"]


def our_hooks() -> list[Hook]:
    return [
        hook
        for hook in lc_context._configure_hooks
        if isinstance(hook[0].get(), SpyglassCallbackHandler)
    ]


def test_autolog_registers_one_configure_hook_and_disable_removes_it(db: Path) -> None:
    before = list(lc_context._configure_hooks)
    spyglass.autolog(db=db, integrations=["langchain"])
    assert len(our_hooks()) == 1
    var, inheritable, handler_class, env_var = our_hooks()[0]
    assert inheritable is True and handler_class is None and env_var is None
    spyglass.autolog(db=db, integrations=["langchain"])  # same arguments: nothing changes
    assert len(our_hooks()) == 1
    spyglass.autolog(db=db, integrations=["langchain"], project="other")  # reinstall
    assert len(our_hooks()) == 1
    spyglass.autolog(disable=True)
    assert our_hooks() == []
    assert lc_context._configure_hooks == before
    assert all(hook[0] is not var for hook in lc_context._configure_hooks)


def test_nothing_is_recorded_after_disable(db: Path) -> None:
    chain: RunnableLambda[int, int] = RunnableLambda(lambda x: x + 1, name="inc")
    chain.invoke(0)  # built and run before autolog: traced once autolog is on
    spyglass.autolog(db=db, integrations=["langchain"])
    assert chain.invoke(1) == 2
    spyglass.flush()
    count = len(spyglass.Store(db).traces())
    assert count == 1
    spyglass.autolog(disable=True)
    assert chain.invoke(2) == 3
    assert ReplyModel().invoke("hi").content
    with spyglass.Store(db) as store:
        assert len(store.traces()) == count


def test_disable_ends_runs_still_open(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    gate, release = threading.Event(), threading.Event()

    def wait(x: int) -> int:
        gate.set()
        release.wait(5)
        return x

    worker = threading.Thread(target=lambda: RunnableLambda(wait, name="slow").invoke(1))
    worker.start()
    assert gate.wait(5)
    open_before = len(SHARED_RUNS)
    assert open_before >= 1
    spyglass.autolog(disable=True)  # ends the open span, then shuts the pipeline down
    release.set()
    worker.join(5)
    assert len(SHARED_RUNS) == open_before - 1
    with spyglass.Store(db) as store:
        (summary,) = store.traces()
        assert summary.name == "slow"


def test_plain_threads_are_traced(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    threads = [
        threading.Thread(target=lambda i=i: RunnableLambda(lambda x: x, name=f"t{i}").invoke(i))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(t.summary.name or "" for t in all_traces(db)) == ["t0", "t1", "t2", "t3"]


def test_explicit_handler_without_autolog_uses_the_active_pipeline(tmp_path: Path) -> None:
    handler = SpyglassCallbackHandler()
    ReplyModel().invoke("hi", config={"callbacks": [handler]})
    default_db = Path(os.environ["SPYGLASS_DB"])  # conftest points the default here
    trace = only_trace(default_db)
    assert trace.root is not None and trace.root.kind == "LLM"


def test_explicit_handler_with_autolog_records_each_run_once(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    chain = RunnableLambda(lambda x: x, name="outer") | ReplyModel()
    chain.invoke("hi", config={"callbacks": [SpyglassCallbackHandler()]})
    trace = only_trace(db)
    assert sorted(s.name for s in trace.spans) == ["ReplyModel", "RunnableSequence", "outer"]
    assert len(SHARED_RUNS) == 0


def test_explicit_handler_keeps_its_own_content_setting(db: Path) -> None:
    spyglass.autolog(db=db, integrations=[])
    handler = SpyglassCallbackHandler(capture_content=False)
    ReplyModel().invoke("secret question", config={"callbacks": [handler]})
    root = only_trace(db).root
    assert root is not None and "secret" not in str(root.attributes)
    assert root.input_tokens == 30


# --- never raising into LangChain ---------------------------------------------------------------


class Hostile:
    """An input whose every hook raises."""

    def __repr__(self) -> str:
        raise RuntimeError("repr")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    __hash__ = None  # type: ignore[assignment]


class HostileDict(dict[str, object]):
    def items(self) -> Any:
        raise RuntimeError("items")


def test_weird_inputs_and_outputs_are_recorded_safely(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    hostile = Hostile()
    chain = RunnableLambda(lambda x: x, name="identity")
    assert chain.invoke(hostile) is hostile
    odd = HostileDict(a=1)
    assert chain.invoke(odd) is odd
    traces = all_traces(db)
    assert len(traces) == 2
    for trace in traces:
        assert trace.root is not None and trace.root.status == "OK"


@pytest.fixture
def direct(db: Path) -> Iterator[SpyglassCallbackHandler]:
    spyglass.autolog(db=db, integrations=[])
    yield SpyglassCallbackHandler()


def test_handler_survives_garbage_callbacks(
    direct: SpyglassCallbackHandler, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = uuid.uuid4()
    with caplog.at_level(logging.DEBUG, logger="spyglass"):
        direct.on_chat_model_start(None, [[object()]], run_id=run, invocation_params=42)  # type: ignore[arg-type]
        direct.on_llm_new_token(None, run_id=run)
        direct.on_llm_end(object(), run_id=run)  # not an LLMResult
        direct.on_llm_end(object(), run_id=uuid.uuid4())  # unknown run
        direct.on_chain_end("x", run_id=uuid.uuid4())
        direct.on_retriever_start(None, None, run_id=run)  # type: ignore[arg-type]
        direct.on_retriever_end([object(), 3, None], run_id=run)
        tool_run, chain_run = uuid.uuid4(), uuid.uuid4()
        direct.on_tool_start(None, None, run_id=tool_run, inputs=Hostile())  # type: ignore[arg-type]
        direct.on_tool_end(Hostile(), run_id=tool_run)
        direct.on_chain_start(None, Hostile(), run_id=chain_run, metadata=HostileDict(a=1))
        direct.on_chain_error(Hostile(), run_id=chain_run)  # type: ignore[arg-type]
    traces = all_traces(db)
    kinds = sorted(s.kind for t in traces for s in t.spans)
    assert kinds == ["CHAIN", "LLM", "RETRIEVER", "TOOL"]
    llm = next(s for t in traces for s in t.spans if s.kind == "LLM")
    assert llm.end_ns >= llm.start_ns and llm.status == "OK"
    assert "unrepresentable" in str(next(s for t in traces for s in t.spans if s.kind == "TOOL"))
    assert len(SHARED_RUNS) == 0


def test_a_failing_callback_is_logged_not_raised(
    direct: SpyglassCallbackHandler, caplog: pytest.LogCaptureFixture
) -> None:
    direct._runs = None  # type: ignore[assignment]  # every callback now fails inside
    with caplog.at_level(logging.WARNING, logger="spyglass"):
        direct.on_chain_start(None, {}, run_id=uuid.uuid4())
        direct.on_chain_start(None, {}, run_id=uuid.uuid4())
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "on_chain_start" in warnings[0].getMessage()


def test_autolog_imports_no_langchain_and_installs_on_import(tmp_path: Path) -> None:
    db = tmp_path / "sub.db"
    script = f"""
import sys
import spyglass
spyglass.autolog(db={str(db)!r}, integrations=["langchain"])
assert "langchain_core" not in sys.modules, "autolog imported langchain_core"
from langchain_core.runnables import RunnableLambda
RunnableLambda(lambda x: x * 2, name="double").invoke(21)
spyglass.flush()
print([t.name for t in spyglass.Store({str(db)!r}).traces()])
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['double']"
