"""Where openai SDK spans sit: under the current span or a framework's LLM span, with the
session and the rendered prompt of the block they run in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fake_llm_server import FakeLLMServer

import spyglass
from spyglass.integrations._nesting import enter_framework_llm
from spyglass.tracer._records import SpanRecord

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def server(llm_server: FakeLLMServer) -> FakeLLMServer:
    llm_server.reset()
    return llm_server


@pytest.fixture
def client(server: FakeLLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


def stored(db: Path) -> tuple[spyglass.Store, list[SpanRecord]]:
    spyglass.flush()
    store = spyglass.Store(db)
    spans = [s for t in store.traces(limit=50) for s in store.trace(t.trace_id).spans]
    return store, sorted(spans, key=lambda span: span.start_ns)


def test_sdk_span_nests_under_the_current_span(db: Path, client: openai.OpenAI) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    with spyglass.trace("answer", kind="CHAIN"):
        client.chat.completions.create(model="m", messages=MESSAGES)
        for _ in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            pass
    store, (chain, plain, streamed) = stored(db)
    assert plain.parent_id == chain.span_id and streamed.parent_id == chain.span_id
    with store:
        assert store.traces()[0].span_count == 3


def test_sdk_span_nests_under_the_framework_llm_span_and_counts_once(
    db: Path, client: openai.OpenAI
) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    with spyglass.trace("chain", kind="CHAIN"), spyglass.trace("ChatModel", kind="LLM") as llm:
        assert llm is not None
        llm.set_attribute("gen_ai.usage.input_tokens", 12)  # the framework's own count
        llm.set_attribute("gen_ai.usage.output_tokens", 7)
        enter_framework_llm(llm.otel_span)
        with spyglass.trace("tool-ish step", kind="TOOL"):  # current span is not the LLM span
            client.chat.completions.create(model="m", messages=MESSAGES)
    store, (_chain, framework, step, sdk) = stored(db)
    assert sdk.parent_id == framework.span_id and step.parent_id == framework.span_id
    assert framework.attributes["spyglass.usage.counted_elsewhere"] is True
    with store:
        summary = store.traces()[0]
    assert (summary.input_tokens, summary.output_tokens) == (12, 7)


def test_a_finished_framework_span_is_ignored(db: Path, client: openai.OpenAI) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    with spyglass.trace("old", kind="LLM") as old:
        assert old is not None
        enter_framework_llm(old.otel_span)
    client.chat.completions.create(model="m", messages=MESSAGES)
    _, (first, sdk) = stored(db)
    assert sdk.parent_id is None and sdk.trace_id != first.trace_id


def test_framework_span_set_in_an_async_task(db: Path, server: FakeLLMServer) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    aclient = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="t", max_retries=0)

    async def one(name: str) -> None:
        with spyglass.trace(name, kind="LLM") as llm:
            assert llm is not None
            enter_framework_llm(llm.otel_span)
            await aclient.chat.completions.create(model=name, messages=MESSAGES)

    async def main() -> None:
        await asyncio.gather(one("a"), one("b"), one("c"))

    asyncio.run(main())
    _, spans = stored(db)
    by_id = {span.span_id: span for span in spans}
    sdk = [span for span in spans if span.attributes.get("spyglass.integration") == "openai"]
    assert len(sdk) == 3
    for span in sdk:  # each SDK call under its own task's framework span
        assert by_id[span.parent_id].name == span.attributes["gen_ai.request.model"]  # type: ignore[index]


def test_sdk_spans_inherit_the_session_and_the_rendered_prompt(
    db: Path, client: openai.OpenAI
) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    registry = spyglass.PromptRegistry(db)
    registry.register("qa", [("system", "Use {context}"), ("user", "{question}")])
    with spyglass.trace("answer", session_id="chat-1", user_id="u-1"):
        messages = registry.get("qa").format(context="docs", question="why?")
        client.chat.completions.create(model="m", messages=messages)
    _, (_answer, sdk) = stored(db)
    assert (sdk.prompt_name, sdk.prompt_version) == ("qa", "1")
    assert sdk.attributes["gen_ai.conversation.id"] == "chat-1"
    assert sdk.attributes["spyglass.user_id"] == "u-1"
