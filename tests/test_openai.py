"""The openai integration with the real ``openai`` client against a local fake server."""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fake_llm_server import FakeLLMServer, Reply, ToolCall
from openai.resources import embeddings as embeddings_module
from openai.resources.chat.completions import completions as chat_module
from openai.resources.responses import responses as responses_module
from pydantic import BaseModel

import spyglass
from spyglass.integrations._sdk_streams import end_open_streams
from spyglass.tracer._records import SpanRecord

MESSAGES = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "What is the weather in Paris?"},
]


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


@pytest.fixture
def aclient(server: FakeLLMServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


@pytest.fixture
def traced(db: Path) -> Path:
    spyglass.autolog(db=db, integrations=["openai"])
    return db


def stored(db: Path) -> list[SpanRecord]:
    """Every stored span, oldest first."""
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


# -- chat completions ----------------------------------------------------------------------------


def test_chat_create_records_request_response_and_usage(
    traced: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    server.queue(Reply(cache_read_tokens=5, cache_write_tokens=2, reasoning_tokens=3))
    tools = [{"type": "function", "function": {"name": "weather", "description": "Look up"}}]
    result = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=0.2,
        max_tokens=50,
        top_p=0.9,
        stop="\n\n",
        seed=7,
        tools=tools,
        user="u-1",
    )
    assert result.choices[0].message.content == "Hello from the fake server."
    span = only(traced)
    a = span.attributes
    assert (span.name, span.kind, span.status) == ("chat gpt-4o-mini", "LLM", "OK")
    assert a["spyglass.integration"] == "openai"
    assert a["gen_ai.provider.name"] == "openai" and a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.request.model"] == "gpt-4o-mini"
    assert a["gen_ai.request.temperature"] == 0.2 and a["gen_ai.request.max_tokens"] == 50
    assert a["gen_ai.request.top_p"] == 0.9 and a["gen_ai.request.seed"] == 7
    assert a["gen_ai.request.stop_sequences"] == ["\n\n"]
    assert a["gen_ai.request.stream"] is False
    assert loads(span, "spyglass.request.parameters") == {
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 50,
        "top_p": 0.9,
        "stop": "\n\n",
        "seed": 7,
        "user": "u-1",
    }
    assert loads(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "You answer briefly."}]},
        {"role": "user", "parts": [{"type": "text", "content": "What is the weather in Paris?"}]},
    ]
    assert loads(span, "gen_ai.tool.definitions") == [
        {"type": "function", "name": "weather", "description": "Look up"}
    ]
    assert loads(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello from the fake server."}],
            "finish_reason": "stop",
        }
    ]
    assert a["gen_ai.response.id"] == result.id and a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (12, 7)
    assert a["gen_ai.usage.cache_read.input_tokens"] == 5
    assert a["gen_ai.usage.cache_write.input_tokens"] == 2
    assert a["gen_ai.usage.reasoning.output_tokens"] == 3
    assert (a["server.address"], a["server.port"]) == ("127.0.0.1", server.port)
    assert (span.input_tokens, span.output_tokens, span.provider) == (12, 7, "openai")


def test_tool_calls_in_and_out(traced: Path, client: openai.OpenAI, server: FakeLLMServer) -> None:
    server.queue(Reply(text="", tool_calls=(ToolCall("call_1", "weather", {"city": "Paris"}),)))
    first = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    follow_up = [
        *MESSAGES,
        first.choices[0].message,  # an SDK object, as people pass it back
        {"role": "tool", "tool_call_id": call.id, "content": "18°C and sunny"},
    ]
    client.chat.completions.create(model="gpt-4o-mini", messages=follow_up)
    first_span, second_span = stored(traced)
    assert loads(first_span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "weather",
                    "arguments": {"city": "Paris"},
                }
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert first_span.attributes["gen_ai.response.finish_reasons"] == ["tool_call"]
    messages = loads(second_span, "gen_ai.input.messages")
    assert isinstance(messages, list)
    assert messages[2]["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}
    ]
    assert messages[3] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18°C and sunny"}],
    }


def test_async_create(traced: Path, aclient: openai.AsyncOpenAI) -> None:
    result = asyncio.run(aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES))
    assert result.choices[0].message.content == "Hello from the fake server."
    span = only(traced)
    assert span.name == "chat gpt-4o" and span.status == "OK" and span.input_tokens == 12


def test_results_are_what_the_untraced_client_returns(
    db: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    def run() -> tuple[object, list[object]]:
        result = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        chunks = [chunk.model_dump(exclude={"id", "created"}) for chunk in stream]
        return (type(result), result.model_dump(exclude={"id", "created"})), chunks

    untraced = run()
    spyglass.autolog(db=db, integrations=["openai"])
    assert run() == untraced
    assert len(stored(db)) == 2


# -- streams -------------------------------------------------------------------------------------


def test_stream_iterated_records_output_and_time_to_first_chunk(
    traced: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert isinstance(stream, openai.Stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Hello from the fake server."
    span = only(traced)
    a = span.attributes
    assert a["gen_ai.request.stream"] is True and a["spyglass.stream.end"] == "done"
    assert 0 < a["gen_ai.response.time_to_first_chunk"] < span.duration_ms / 1000  # type: ignore[operator]
    assert loads(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello from the fake server."}],
            "finish_reason": "stop",
        }
    ]
    assert "gen_ai.usage.input_tokens" not in a  # not asked for: OpenAI sends none
    assert "stream_options" not in server.requests[-1].body


def test_stream_used_as_context_manager_and_next(traced: Path, client: openai.OpenAI) -> None:
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        assert isinstance(stream, openai.Stream)
        first = next(stream)
        rest = list(stream)
    assert first.choices[0].delta.role == "assistant" and rest
    assert only(traced).attributes["spyglass.stream.end"] == "done"


def test_stream_usage_option_asks_for_usage_and_hides_the_extra_chunk(
    db: Path, client: openai.OpenAI, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    monkeypatch.setenv("SPYGLASS_OPENAI_STREAM_USAGE", "1")
    spyglass.autolog(db=db, integrations=["openai"])
    seen = list(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}
    assert len(seen) == len(plain) and all(chunk.choices for chunk in seen)
    span = only(db)
    assert (span.input_tokens, span.output_tokens) == (12, 7)
    # A caller who asks for usage themselves sees the usage chunk, as without spyglass.
    own = list(
        client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    assert own[-1].choices == [] and own[-1].usage is not None


def test_chat_stream_helper(traced: Path, client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello from the fake server."
    span = only(traced)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["spyglass.stream.end"] == "done"
    assert "Hello from the fake server." in str(span.attributes["gen_ai.output.messages"])


class Answer(BaseModel):
    city: str


def test_chat_parse(traced: Path, client: openai.OpenAI, server: FakeLLMServer) -> None:
    server.queue(Reply(text='{"city": "Paris"}'))
    parsed = client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Answer
    )
    assert parsed.choices[0].message.parsed == Answer(city="Paris")
    span = only(traced)
    assert span.status == "OK" and span.output_tokens == 7
    assert loads(span, "spyglass.request.parameters") == {
        "model": "gpt-4o-mini",
        "response_format": "Answer",
    }


def test_async_stream_iterated_and_as_context_manager(
    traced: Path, aclient: openai.AsyncOpenAI
) -> None:
    async def main() -> list[str]:
        texts = []
        stream = await aclient.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        assert isinstance(stream, openai.AsyncStream)
        texts.append("".join([c.choices[0].delta.content or "" async for c in stream]))
        async with await aclient.chat.completions.create(
            model="m", messages=MESSAGES, stream=True
        ) as stream:
            first = await stream.__anext__()
            texts.append(
                (first.choices[0].delta.content or "")
                + "".join([c.choices[0].delta.content or "" async for c in stream])
            )
        async with aclient.chat.completions.stream(model="m", messages=MESSAGES) as helper:
            final = await helper.get_final_completion()
            texts.append(final.choices[0].message.content or "")
        return texts

    assert asyncio.run(main()) == ["Hello from the fake server."] * 3
    spans = stored(traced)
    assert [span.attributes["spyglass.stream.end"] for span in spans] == ["done"] * 3
    ttfts = [span.attributes["gen_ai.response.time_to_first_chunk"] for span in spans]
    assert all(isinstance(ttft, float) and ttft > 0 for ttft in ttfts)


# -- responses and embeddings --------------------------------------------------------------------


def test_responses_create_and_stream(
    traced: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    calls = (ToolCall("call_9", "weather", {"city": "Oslo"}),)
    server.queue(Reply(cache_read_tokens=4, reasoning_tokens=2), Reply(tool_calls=calls))
    response = client.responses.create(
        model="gpt-5", input="Hi there", instructions="Be brief.", max_output_tokens=64
    )
    assert response.output_text == "Hello from the fake server."
    with client.responses.stream(
        model="gpt-5",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]}],
        tools=[{"type": "function", "name": "weather", "parameters": {}, "strict": True}],
    ) as stream:
        for _ in stream:
            pass
    plain, streamed = stored(traced)
    a = plain.attributes
    assert plain.name == "chat gpt-5" and a["gen_ai.request.max_tokens"] == 64
    assert loads(plain, "gen_ai.system_instructions") == [{"type": "text", "content": "Be brief."}]
    assert loads(plain, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi there"}]}
    ]
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["gen_ai.usage.cache_read.input_tokens"] == 4
    assert a["gen_ai.usage.reasoning.output_tokens"] == 2
    assert (plain.input_tokens, plain.output_tokens) == (12, 7)
    assert streamed.attributes["spyglass.stream.end"] == "done"
    assert streamed.attributes["gen_ai.response.finish_reasons"] == ["tool_call"]
    assert (streamed.input_tokens, streamed.output_tokens) == (12, 7)
    output = loads(streamed, "gen_ai.output.messages")
    assert isinstance(output, list)
    assert output[0]["parts"][-1] == {
        "type": "tool_call",
        "id": "call_9",
        "name": "weather",
        "arguments": {"city": "Oslo"},
    }
    assert loads(streamed, "gen_ai.tool.definitions") == [
        {"type": "function", "name": "weather", "parameters": {}}
    ]


def test_async_responses(traced: Path, aclient: openai.AsyncOpenAI) -> None:
    async def main() -> None:
        await aclient.responses.create(model="gpt-5", input="hi")
        stream = await aclient.responses.create(model="gpt-5", input="hi", stream=True)
        async for _ in stream:
            pass

    asyncio.run(main())
    assert [(s.status, s.input_tokens) for s in stored(traced)] == [("OK", 12), ("OK", 12)]


def test_embeddings(traced: Path, client: openai.OpenAI, aclient: openai.AsyncOpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b", "c"])
    assert len(result.data) == 3
    asyncio.run(aclient.embeddings.create(model="text-embedding-3-small", input="one"))
    first, second = stored(traced)
    assert (first.name, first.kind) == ("embeddings text-embedding-3-small", "EMBEDDING")
    a = first.attributes
    assert a["gen_ai.operation.name"] == "embeddings"
    assert a["spyglass.embeddings.input_count"] == 3
    assert a["gen_ai.embeddings.dimension.count"] == 8
    assert first.input_tokens == 12 and "gen_ai.input.messages" not in a
    assert second.attributes["spyglass.embeddings.input_count"] == 1


# -- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
def test_api_errors_are_recorded_and_reraised(
    traced: Path,
    client: openai.OpenAI,
    server: FakeLLMServer,
    status: int,
    error: type[Exception],
) -> None:
    server.queue(Reply(status=status))
    with pytest.raises(error) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert type(raised.value) is error
    span = only(traced)
    assert span.status == "ERROR"
    assert span.attributes["error.type"] == f"openai.{error.__name__}"
    assert span.attributes["http.response.status_code"] == status
    assert span.events[0]["name"] == "exception"
    assert "gen_ai.input.messages" in span.attributes  # the request is kept


def test_timeout_is_recorded(traced: Path, client: openai.OpenAI, server: FakeLLMServer) -> None:
    server.queue(Reply(delay=2.0))
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, timeout=0.2)
    span = only(traced)
    assert span.status == "ERROR" and span.attributes["error.type"] == "openai.APITimeoutError"


def test_error_part_way_through_a_stream(
    traced: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    server.queue(Reply(fail_after=3, text="abcdef"))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
            received.append(chunk.choices[0].delta.content)
    span = only(traced)
    assert span.status == "ERROR" and span.attributes["spyglass.stream.end"] == "error"
    assert span.attributes["error.type"] == "openai.APIError"
    assert "".join(filter(None, received)) == "abcd"
    assert "abcd" in str(span.attributes["gen_ai.output.messages"])  # the partial output


def test_abandoned_streams_end_with_their_partial_output(
    traced: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    server.default = Reply(text="abcdef", chunks=6)

    def read_two() -> None:
        stream = client.chat.completions.create(model="gc", messages=MESSAGES, stream=True)
        next(stream), next(stream)  # role chunk, then "a"

    read_two()
    gc.collect()
    closed = client.chat.completions.create(model="closed", messages=MESSAGES, stream=True)
    next(closed), next(closed), next(closed)
    closed.close()
    swept = client.chat.completions.create(model="swept", messages=MESSAGES, stream=True)
    next(swept), next(swept)
    assert end_open_streams() == 1
    ends = {span.name: span for span in stored(traced)}
    assert ends["chat gc"].attributes["spyglass.stream.end"] == "abandoned"
    assert ends["chat closed"].attributes["spyglass.stream.end"] == "closed"
    assert ends["chat swept"].attributes["spyglass.stream.end"] == "abandoned"
    assert "ab" in str(ends["chat closed"].attributes["gen_ai.output.messages"])
    assert all(span.status == "OK" for span in ends.values())
    swept.close()  # the span has ended already: nothing more happens
    assert len(stored(traced)) == 3


def test_disable_ends_open_streams(db: Path, client: openai.OpenAI) -> None:
    spyglass.autolog(db=db, integrations=["openai"])
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    next(stream)
    spyglass.autolog(disable=True)
    assert only(db).attributes["spyglass.stream.end"] == "abandoned"
    assert list(stream)  # the caller's stream still works


# -- configuration, install and uninstall -------------------------------------------------------


def test_capture_content_off_keeps_structure_and_tokens(
    db: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    spyglass.autolog(db=db, integrations=["openai"], capture_content=False)
    server.queue(Reply(tool_calls=(ToolCall("call_1", "weather", {"city": "Paris"}),)))
    client.chat.completions.create(model="m", messages=MESSAGES)
    for _ in client.chat.completions.create(model="m", messages=MESSAGES, stream=True):
        pass
    plain, streamed = stored(db)
    assert loads(plain, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text"}]},
        {"role": "user", "parts": [{"type": "text"}]},
    ]
    assert loads(plain, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text"}, {"type": "tool_call", "id": "call_1", "name": "weather"}],
            "finish_reason": "tool_call",
        }
    ]
    dumped = json.dumps([plain.attributes, streamed.attributes])
    assert "Paris" not in dumped and "fake server" not in dumped and "briefly" not in dumped
    assert plain.input_tokens == 12
    assert "gen_ai.response.time_to_first_chunk" in streamed.attributes


PATCHED = [
    (chat_module.Completions, "create"),
    (chat_module.Completions, "parse"),
    (chat_module.AsyncCompletions, "create"),
    (chat_module.AsyncCompletions, "parse"),
    (responses_module.Responses, "create"),
    (responses_module.Responses, "parse"),
    (responses_module.AsyncResponses, "create"),
    (responses_module.AsyncResponses, "parse"),
    (embeddings_module.Embeddings, "create"),
    (embeddings_module.AsyncEmbeddings, "create"),
]


def test_disable_restores_the_exact_original_functions(db: Path) -> None:
    originals = [owner.__dict__[name] for owner, name in PATCHED]
    original_create = chat_module.Completions.create
    spyglass.autolog(db=db, integrations=["openai"])
    now = [owner.__dict__[name] for owner, name in PATCHED]
    assert all(patch is not original for patch, original in zip(now, originals, strict=True))
    spyglass.autolog(disable=True)
    now = [owner.__dict__[name] for owner, name in PATCHED]
    assert all(restored is original for restored, original in zip(now, originals, strict=True))
    assert chat_module.Completions.create is original_create


def test_autolog_twice_wraps_once(db: Path, tmp_path: Path, client: openai.OpenAI) -> None:
    original = chat_module.Completions.__dict__["create"]
    spyglass.autolog(db=db, integrations=["openai"])
    spyglass.autolog(db=db, integrations=["openai"])
    client.chat.completions.create(model="m", messages=MESSAGES)
    assert len(stored(db)) == 1
    other = tmp_path / "other.db"
    spyglass.autolog(db=other, integrations=["openai"])  # a new pipeline: reinstalled
    assert chat_module.Completions.__dict__["create"].__wrapped__ is original
    client.chat.completions.create(model="m", messages=MESSAGES)
    assert len(stored(other)) == 1


def test_client_created_before_autolog_is_traced(db: Path, server: FakeLLMServer) -> None:
    early = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
    spyglass.autolog(db=db, integrations=["openai"])
    early.chat.completions.create(model="m", messages=MESSAGES)
    assert only(db).name == "chat m"


@pytest.mark.parametrize("redact", [True, False])
def test_the_api_key_never_reaches_the_database(
    db: Path, server: FakeLLMServer, redact: bool
) -> None:
    key = "sk-proj-SpyglassSecretKey0123456789abcdef"
    spyglass.autolog(db=db, integrations=["openai"], redact=redact)
    keyed = openai.OpenAI(base_url=server.openai_base_url, api_key=key, max_retries=0)
    keyed.chat.completions.create(model="m", messages=MESSAGES)
    list(keyed.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    server.queue(Reply(status=401, error_message="bad key"))
    with pytest.raises(openai.AuthenticationError):
        keyed.chat.completions.create(model="m", messages=MESSAGES)
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    assert len(stored(db)) == 3
    spyglass.autolog(disable=True)
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert key not in dump and "Bearer" not in dump and "authorization" not in dump.lower()


def test_suppressed_instrumentation_records_nothing(traced: Path, client: openai.OpenAI) -> None:
    from opentelemetry import context

    token = context.attach(context.set_value(context._SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        client.chat.completions.create(model="m", messages=MESSAGES)
    finally:
        context.detach(token)
    client.chat.completions.create(model="after", messages=MESSAGES)
    assert [span.name for span in stored(traced)] == ["chat after"]


def test_a_failing_extractor_loses_its_attributes_not_the_call(
    db: Path, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spyglass.integrations.openai import _chat

    def broken(source: object, capture: bool) -> Iterator[tuple[str, str]]:
        yield "spyglass.test.before", "kept"
        raise ValueError("an odd field")

    monkeypatch.setattr(_chat, "REQUEST", (broken, *_chat.REQUEST))
    monkeypatch.setattr(_chat, "RESPONSE", (broken, *_chat.RESPONSE))
    spyglass.autolog(db=db, integrations=["openai"])
    result = client.chat.completions.create(model="m", messages=MESSAGES)
    assert result.choices[0].message.content == "Hello from the fake server."
    span = only(db)
    assert span.status == "OK" and span.output_tokens == 7
    assert "gen_ai.input.messages" in span.attributes


def test_with_raw_response_is_read_through_its_cached_parse(
    traced: Path, client: openai.OpenAI
) -> None:
    raw = client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
    assert raw.headers["x-request-id"] == "req_fake"
    assert raw.parse() is raw.parse()  # the SDK caches it; spyglass read the same object
    span = only(traced)
    assert span.output_tokens == 7 and "fake server" in str(
        span.attributes["gen_ai.output.messages"]
    )


def test_with_streaming_response_is_left_unread(traced: Path, client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=MESSAGES
    ) as response:
        body = json.loads(response.read())  # still whole: spyglass did not consume it
    assert body["choices"][0]["message"]["content"] == "Hello from the fake server."
    span = only(traced)
    assert span.status == "OK" and "gen_ai.output.messages" not in span.attributes
    assert "gen_ai.input.messages" in span.attributes


def test_with_raw_response_bound_before_autolog_is_not_traced(
    db: Path, client: openai.OpenAI
) -> None:
    """The documented pitfall: ``with_raw_response`` is a cached property that binds
    ``create`` on first use, so touching it before autolog keeps the unpatched method."""
    bound_early = client.chat.completions.with_raw_response
    spyglass.autolog(db=db, integrations=["openai"])
    bound_early.create(model="m", messages=MESSAGES)
    client.chat.completions.create(model="traced", messages=MESSAGES)
    assert [span.name for span in stored(db)] == ["chat traced"]


EXIT_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from fake_llm_server import FakeLLMServer
import openai, spyglass
server = FakeLLMServer().start()
spyglass.autolog(db={db!r}, integrations=["openai"])
client = openai.OpenAI(base_url=server.openai_base_url, api_key="t", max_retries=0)
KEPT = client.chat.completions.create(model="left-open", messages=[], stream=True)
next(KEPT)
"""


def test_a_stream_still_open_at_exit_is_stored(db: Path) -> None:
    import subprocess
    import sys

    script = EXIT_SCRIPT.format(tests=str(Path(__file__).parent), db=str(db))
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    span = only(db)
    assert span.name == "chat left-open" and span.attributes["spyglass.stream.end"] == "abandoned"


def test_flush_ends_a_half_read_stream(
    traced: Path, client: openai.OpenAI, server: FakeLLMServer
) -> None:
    server.default = Reply(text="abcdef", chunks=6)
    stream = client.chat.completions.create(model="half", messages=MESSAGES, stream=True)
    next(stream), next(stream), next(stream)  # role chunk, "a", "b"
    assert spyglass.flush()
    (span,) = stored(traced)
    assert span.attributes["spyglass.stream.end"] == "abandoned"
    assert "ab" in str(span.attributes["gen_ai.output.messages"])
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "cdef"  # still works
