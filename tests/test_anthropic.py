"""The anthropic integration with the real ``anthropic`` client against a local fake server."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from anthropic.resources.messages import messages as messages_module
from fake_llm_server import FakeLLMServer, Reply, ToolCall

import spyglass
from spyglass.integrations._nesting import enter_framework_llm
from spyglass.tracer._records import SpanRecord

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def server(llm_server: FakeLLMServer) -> FakeLLMServer:
    llm_server.reset()
    return llm_server


@pytest.fixture
def client(server: FakeLLMServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="test", max_retries=0)


@pytest.fixture
def aclient(server: FakeLLMServer) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0
    )


@pytest.fixture
def traced(db: Path) -> Path:
    spyglass.autolog(db=db, integrations=["anthropic"])
    return db


def stored(db: Path) -> list[SpanRecord]:
    spyglass.flush()
    with spyglass.Store(db) as store:
        spans = [s for t in store.traces(limit=200) for s in store.trace(t.trace_id).spans]
    return sorted(spans, key=lambda span: span.start_ns)


def only(db: Path) -> SpanRecord:
    spans = stored(db)
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]


def loads(span: SpanRecord, key: str) -> object:
    value = span.attributes[key]
    assert isinstance(value, str)
    return json.loads(value)


def test_create_records_system_messages_tools_and_summed_usage(
    traced: Path, client: anthropic.Anthropic, server: FakeLLMServer
) -> None:
    server.queue(Reply(input_tokens=30, cache_read_tokens=20, cache_write_tokens=4))
    message = client.messages.create(
        model="claude-test-1",
        max_tokens=256,
        system="You answer briefly.",
        messages=MESSAGES,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        tools=[{"name": "weather", "description": "Look up", "input_schema": {"type": "object"}}],
    )
    assert message.content[0].text == "Hello from the fake server."  # type: ignore[union-attr]
    assert message.usage.input_tokens == 6  # Anthropic's count leaves out the cache
    span = only(traced)
    a = span.attributes
    assert (span.name, span.kind, span.status) == ("chat claude-test-1", "LLM", "OK")
    assert a["gen_ai.provider.name"] == "anthropic" and a["spyglass.integration"] == "anthropic"
    assert a["gen_ai.request.max_tokens"] == 256
    assert a["gen_ai.request.stop_sequences"] == ["END"]
    assert loads(span, "gen_ai.system_instructions") == [
        {"type": "text", "content": "You answer briefly."}
    ]
    assert loads(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]}
    ]
    assert loads(span, "gen_ai.tool.definitions") == [
        {
            "type": "function",
            "name": "weather",
            "description": "Look up",
            "parameters": {"type": "object"},
        }
    ]
    assert loads(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello from the fake server."}],
            "finish_reason": "stop",
        }
    ]
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["gen_ai.response.id"] == message.id
    assert a["gen_ai.usage.input_tokens"] == 30  # 6 + 20 read + 4 written
    assert a["gen_ai.usage.cache_read.input_tokens"] == 20
    assert a["gen_ai.usage.cache_write.input_tokens"] == 4
    assert (span.input_tokens, span.output_tokens) == (30, 7)
    assert (a["server.address"], a["server.port"]) == ("127.0.0.1", server.port)
    assert loads(span, "spyglass.request.parameters") == {
        "model": "claude-test-1",
        "max_tokens": 256,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
    }


def test_tool_use_round_trip(
    traced: Path, client: anthropic.Anthropic, server: FakeLLMServer
) -> None:
    server.queue(Reply(text="", tool_calls=(ToolCall("toolu_1", "weather", {"city": "Paris"}),)))
    first = client.messages.create(model="claude", max_tokens=64, messages=MESSAGES)
    follow_up = [
        *MESSAGES,
        {"role": "assistant", "content": first.content},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18°C"}],
        },
    ]
    client.messages.create(model="claude", max_tokens=64, messages=follow_up)
    first_span, second_span = stored(traced)
    assert first_span.attributes["gen_ai.response.finish_reasons"] == ["tool_call"]
    call = {"type": "tool_call", "id": "toolu_1", "name": "weather", "arguments": {"city": "Paris"}}
    assert loads(first_span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [call], "finish_reason": "tool_call"}
    ]
    messages = loads(second_span, "gen_ai.input.messages")
    assert isinstance(messages, list)
    assert messages[1] == {"role": "assistant", "parts": [call]}
    assert messages[2] == {
        "role": "user",
        "parts": [{"type": "tool_call_response", "id": "toolu_1", "response": "18°C"}],
    }


def test_async_create(traced: Path, aclient: anthropic.AsyncAnthropic) -> None:
    asyncio.run(aclient.messages.create(model="claude", max_tokens=8, messages=MESSAGES))
    span = only(traced)
    assert span.status == "OK" and span.output_tokens == 7


def test_streamed_create(traced: Path, client: anthropic.Anthropic, server: FakeLLMServer) -> None:
    server.queue(Reply(cache_read_tokens=2, reasoning_tokens=3))
    stream = client.messages.create(model="claude", max_tokens=8, messages=MESSAGES, stream=True)
    assert isinstance(stream, anthropic.Stream)
    kinds = [event.type for event in stream]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    span = only(traced)
    a = span.attributes
    assert a["gen_ai.request.stream"] is True and a["spyglass.stream.end"] == "done"
    assert a["gen_ai.response.time_to_first_chunk"] > 0  # type: ignore[operator]
    assert (span.input_tokens, span.output_tokens) == (12, 7)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 2
    assert a["gen_ai.usage.reasoning.output_tokens"] == 3
    assert "Hello from the fake server." in str(a["gen_ai.output.messages"])


def test_stream_helper(traced: Path, client: anthropic.Anthropic, server: FakeLLMServer) -> None:
    server.queue(Reply(tool_calls=(ToolCall("toolu_7", "weather", {"city": "Rome"}),)))
    with client.messages.stream(model="claude", max_tokens=8, messages=MESSAGES) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == "Hello from the fake server."
    assert final.usage.output_tokens == 7
    span = only(traced)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["spyglass.stream.end"] == "done"
    assert (span.input_tokens, span.output_tokens) == (12, 7)
    output = loads(span, "gen_ai.output.messages")
    assert output == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Hello from the fake server."},
                {
                    "type": "tool_call",
                    "id": "toolu_7",
                    "name": "weather",
                    "arguments": {"city": "Rome"},
                },
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_async_stream_helper_and_streamed_create(
    traced: Path, aclient: anthropic.AsyncAnthropic
) -> None:
    async def main() -> str:
        async with aclient.messages.stream(model="c", max_tokens=8, messages=MESSAGES) as stream:
            text = await stream.get_final_text()
        events = await aclient.messages.create(
            model="c", max_tokens=8, messages=MESSAGES, stream=True
        )
        async with events:
            async for _ in events:
                pass
        return text

    assert asyncio.run(main()) == "Hello from the fake server."
    spans = stored(traced)
    assert [span.attributes["spyglass.stream.end"] for span in spans] == ["done", "done"]
    assert all(span.input_tokens == 12 for span in spans)


def test_helper_left_early_ends_its_span_closed(
    traced: Path, client: anthropic.Anthropic, server: FakeLLMServer
) -> None:
    server.queue(Reply(text="abcdef", chunks=6))
    with client.messages.stream(model="c", max_tokens=8, messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                break
    span = only(traced)
    assert span.attributes["spyglass.stream.end"] == "closed"
    assert span.input_tokens == 12 and "gen_ai.response.finish_reasons" not in span.attributes
    assert '"content":"a"' in str(span.attributes["gen_ai.output.messages"])


def test_abandoned_stream_is_ended_by_garbage_collection(
    traced: Path, client: anthropic.Anthropic
) -> None:
    def read_one() -> None:
        stream = client.messages.create(model="c", max_tokens=8, messages=MESSAGES, stream=True)
        next(iter(stream))

    read_one()
    gc.collect()
    assert only(traced).attributes["spyglass.stream.end"] == "abandoned"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, anthropic.BadRequestError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
    ],
)
def test_api_errors(
    traced: Path,
    client: anthropic.Anthropic,
    server: FakeLLMServer,
    status: int,
    error: type[Exception],
) -> None:
    server.queue(Reply(status=status))
    with pytest.raises(error):
        client.messages.create(model="c", max_tokens=8, messages=MESSAGES)
    span = only(traced)
    assert span.status == "ERROR" and span.attributes["http.response.status_code"] == status
    assert span.attributes["error.type"] == f"anthropic.{error.__name__}"
    assert span.events[0]["name"] == "exception"


def test_helper_request_error_and_timeout(
    traced: Path, client: anthropic.Anthropic, server: FakeLLMServer
) -> None:
    server.queue(Reply(status=429), Reply(delay=2.0))
    with pytest.raises(anthropic.RateLimitError):  # noqa: SIM117
        with client.messages.stream(model="c", max_tokens=8, messages=MESSAGES):
            pass
    with pytest.raises(anthropic.APITimeoutError):
        client.messages.create(model="c", max_tokens=8, messages=MESSAGES, timeout=0.2)
    helper, timed_out = stored(traced)
    assert (
        helper.status == "ERROR" and helper.attributes["error.type"] == "anthropic.RateLimitError"
    )
    assert timed_out.attributes["error.type"] == "anthropic.APITimeoutError"


def test_error_event_part_way_through_a_stream(
    traced: Path, client: anthropic.Anthropic, server: FakeLLMServer
) -> None:
    server.queue(Reply(fail_after=4))
    with pytest.raises(anthropic.APIStatusError):
        for _ in client.messages.create(model="c", max_tokens=8, messages=MESSAGES, stream=True):
            pass
    span = only(traced)
    assert span.status == "ERROR" and span.attributes["spyglass.stream.end"] == "error"
    assert span.input_tokens == 12  # from message_start, before the failure


def test_capture_content_off(db: Path, client: anthropic.Anthropic) -> None:
    spyglass.autolog(db=db, integrations=["anthropic"], capture_content=False)
    client.messages.create(model="c", max_tokens=8, system="Secret rules", messages=MESSAGES)
    span = only(db)
    assert loads(span, "gen_ai.system_instructions") == [{"type": "text"}]
    assert loads(span, "gen_ai.input.messages") == [{"role": "user", "parts": [{"type": "text"}]}]
    dumped = json.dumps(span.attributes)
    assert "Secret" not in dumped and "Paris" not in dumped and "fake server" not in dumped
    assert span.output_tokens == 7


def test_disable_restores_the_exact_original_functions(db: Path) -> None:
    patched = [
        (cls, name)
        for cls in (messages_module.Messages, messages_module.AsyncMessages)
        for name in ("create", "parse", "stream")
    ]
    originals = [owner.__dict__[name] for owner, name in patched]
    spyglass.autolog(db=db, integrations=["anthropic"])
    now = [owner.__dict__[name] for owner, name in patched]
    assert all(patch is not original for patch, original in zip(now, originals, strict=True))
    spyglass.autolog(disable=True)
    now = [owner.__dict__[name] for owner, name in patched]
    assert all(restored is original for restored, original in zip(now, originals, strict=True))


def test_results_are_unchanged(db: Path, client: anthropic.Anthropic) -> None:
    def run() -> str:
        message = client.messages.create(model="c", max_tokens=8, messages=MESSAGES)
        with client.messages.stream(model="c", max_tokens=8, messages=MESSAGES) as stream:
            events = [event.model_dump() for event in stream]
            final = stream.get_final_message()
        dumped = json.dumps(
            [type(message).__name__, message.model_dump(), events, final.model_dump()]
        )
        return re.sub(r"msg_\d+", "msg_N", dumped)  # the fake server numbers its messages

    untraced = run()
    spyglass.autolog(db=db, integrations=["anthropic"])
    assert run() == untraced


def test_nests_under_a_framework_llm_span(db: Path, client: anthropic.Anthropic) -> None:
    spyglass.autolog(db=db, integrations=["anthropic"])
    with spyglass.trace("ChatAnthropic", kind="LLM") as llm:
        assert llm is not None
        llm.set_attribute("gen_ai.usage.input_tokens", 12)
        enter_framework_llm(llm.otel_span)
        with client.messages.stream(model="c", max_tokens=8, messages=MESSAGES) as stream:
            stream.until_done()
    framework, sdk = stored(db)
    assert sdk.parent_id == framework.span_id
    assert framework.attributes["spyglass.usage.counted_elsewhere"] is True
    with spyglass.Store(db) as store:
        assert store.traces()[0].input_tokens == 12


def test_the_api_key_never_reaches_the_database(db: Path, server: FakeLLMServer) -> None:
    key = "sk-ant-api03-SpyglassSecret0123456789abcdef"
    spyglass.autolog(db=db, integrations=["anthropic"], redact=False)
    keyed = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key=key, max_retries=0)
    keyed.messages.create(model="c", max_tokens=8, messages=MESSAGES)
    with keyed.messages.stream(model="c", max_tokens=8, messages=MESSAGES) as stream:
        stream.until_done()
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    spyglass.autolog(disable=True)
    with sqlite3.connect(db) as conn:
        assert key not in "\n".join(conn.iterdump())


def test_beta_messages_create_stream_and_async(
    traced: Path, client: anthropic.Anthropic, aclient: anthropic.AsyncAnthropic
) -> None:
    """``client.beta.messages`` is traced like ``client.messages`` (same shapes, ``betas=``)."""
    reply = client.beta.messages.create(
        model="claude-beta", max_tokens=8, messages=MESSAGES, betas=["some-beta-2026-01-01"]
    )
    assert reply.content[0].text == "Hello from the fake server."  # type: ignore[union-attr]
    with client.beta.messages.stream(model="claude-beta", max_tokens=8, messages=MESSAGES) as s:
        assert "".join(s.text_stream) == "Hello from the fake server."
    asyncio.run(aclient.beta.messages.create(model="claude-beta", max_tokens=8, messages=MESSAGES))
    spans = stored(traced)
    assert len(spans) == 3
    for span in spans:
        assert span.kind == "LLM" and span.status == "OK"
        assert span.attributes["gen_ai.provider.name"] == "anthropic"
        assert span.attributes["gen_ai.request.model"] == "claude-beta"
        assert (span.input_tokens, span.output_tokens) == (12, 7)
        assert "What is the weather in Paris?" in str(span.attributes["gen_ai.input.messages"])
    assert spans[1].attributes["gen_ai.request.stream"] is True
    assert "Hello from the fake server." in str(spans[0].attributes["gen_ai.output.messages"])


def test_disable_restores_the_beta_resource_too(db: Path) -> None:
    from anthropic.resources.beta.messages import messages as beta

    originals = {
        (cls, name): cls.__dict__[name]
        for cls in (beta.Messages, beta.AsyncMessages)
        for name in ("create", "parse", "stream")
    }
    spyglass.autolog(db=db, integrations=["anthropic"])  # anthropic is imported: installs now
    assert all(cls.__dict__[name] is not fn for (cls, name), fn in originals.items())
    spyglass.autolog(disable=True)
    for (cls, name), fn in originals.items():
        assert cls.__dict__[name] is fn
