"""The convention modules on recordings of instrumentors that cannot share the dev venv, and on
the shapes the other tests' instrumentors do not make.

``data/mlflow_otlp.bin``, ``data/openllmetry_legacy_otlp.bin`` and ``data/typescript_otlp.json``
are OTLP bodies recorded from MLflow's tracing SDK, from an older OpenLLMetry, and from a Node.js
app (OpenInference's JavaScript OpenAI instrumentation, the official JavaScript OTLP/JSON
exporter); see the ``record_*.py`` scripts beside them, each run in an environment of its own
(MLflow brings databricks-sdk and needs sqlparse it does not declare; the older OpenLLMetry is
the same package as the current one; the third is Node.js). They are sent to a real receiver
over HTTP, as the instrumentor sent them, and read back from the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from collect_helpers import InProcess, post
from opentelemetry.sdk.trace import Event

import spyglass
from spyglass.collector import CollectorSettings, _genai, _mlflow, _openinference, normalise
from spyglass.collector._decode import decode_protobuf, key_values
from spyglass.tracer import attributes as A

DATA = Path(__file__).resolve().parent / "data"


def _recorded_attributes(name: str) -> dict[str, dict[str, object]]:
    decoded = decode_protobuf((DATA / name).read_bytes())
    return {
        span.name: key_values(span.attributes) for batch in decoded.batches for span in batch.spans
    }


def _texts(raw: object) -> list[tuple[str, str]]:
    return [
        (message["role"], part.get("content") or part.get("name"))
        for message in json.loads(str(raw))
        for part in message["parts"]
    ]


@pytest.fixture
def receiver(db: Path) -> Iterator[InProcess]:
    running = InProcess(CollectorSettings(db=db, port=0))
    yield running
    running.stop()


def test_mlflow_spans_recorded_from_mlflow_tracing(receiver: InProcess, db: Path) -> None:
    assert post(receiver.url, (DATA / "mlflow_otlp.bin").read_bytes())[0] == 200
    receiver.stop()
    store = spyglass.Store(db)
    (summary,) = store.traces(project="mlflow-app")
    trace = store.trace(summary.trace_id)
    kinds = {span.name: span.kind for span in trace.spans}
    assert kinds == {"answer": "CHAIN", "retrieve": "RETRIEVER", "Completions": "LLM"}
    llm = next(span for span in trace.spans if span.kind == "LLM")
    assert llm.model == "gpt-4o-mini" and (llm.input_tokens, llm.output_tokens) == (12, 7)
    assert _texts(llm.attributes[A.GEN_AI_INPUT_MESSAGES]) == [
        ("system", "Use: Refunds within 30 days."),
        ("user", "refund policy?"),
    ]
    assert _texts(llm.attributes[A.GEN_AI_OUTPUT_MESSAGES]) == [
        ("assistant", "Hello from the fake server.")
    ]
    retriever = next(span for span in trace.spans if span.kind == "RETRIEVER")
    docs = json.loads(str(retriever.attributes[A.GEN_AI_RETRIEVAL_DOCUMENTS]))
    assert [(d["id"], d["score"], d["content"]) for d in docs] == [
        ("d1", 0.91, "Refunds within 30 days."),
        ("d2", 0.42, "Shipping is free."),
    ]
    assert retriever.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "refund policy?"
    assert trace.root is not None and trace.root.name == "answer"
    assert {span.parent_id for span in trace.spans if span is not trace.root} == {
        trace.root.span_id
    }
    assert trace.summary.input_tokens == 12
    assert retriever.attributes["mlflow.spanType"] == '"RETRIEVER"'  # the original, kept


def test_mlflow_module_alone() -> None:
    spans = _recorded_attributes("mlflow_otlp.bin")
    assert _mlflow.canonical(spans["answer"])[A.SPYGLASS_OUTPUT] == '"Hello from the fake server."'
    assert (
        _mlflow.canonical({"mlflow.spanType": '"TOOL"', "mlflow.spanInputs": '{"a": 1}'})[
            A.GEN_AI_TOOL_CALL_ARGUMENTS
        ]
        == '{"a": 1}'
    )
    assert _mlflow.canonical({"other": 1}) == {}


def test_older_openllmetry_flattened_messages(receiver: InProcess, db: Path) -> None:
    assert post(receiver.url, (DATA / "openllmetry_legacy_otlp.bin").read_bytes())[0] == 200
    receiver.stop()
    store = spyglass.Store(db)
    (summary,) = store.traces(project="legacy-app")
    (llm,) = store.trace(summary.trace_id).spans
    assert llm.kind == "LLM" and llm.provider == "openai" and llm.model == "gpt-4o-mini"
    assert (llm.input_tokens, llm.output_tokens) == (12, 7)
    assert _texts(llm.attributes[A.GEN_AI_INPUT_MESSAGES]) == [
        ("system", "Answer briefly."),
        ("user", "Where is order 42?"),
    ]
    (output,) = json.loads(str(llm.attributes[A.GEN_AI_OUTPUT_MESSAGES]))
    assert output["finish_reason"] == "tool_calls"
    assert output["parts"] == [
        {"type": "tool_call", "id": "call_1", "name": "order_status", "arguments": {"order": "42"}}
    ]
    assert llm.attributes["gen_ai.prompt.0.content"] == "Answer briefly."  # the original, kept


def test_per_message_events_on_the_span() -> None:
    """Semantic conventions 1.27-1.36: one event per message, ``gen_ai.choice`` for output."""
    events = [
        Event("gen_ai.system.message", {"gen_ai.system": "openai", "content": "Be brief."}),
        Event("gen_ai.user.message", {"body": {"content": "Weather in Paris?"}}),
        Event(
            "gen_ai.assistant.message",
            {"body": {"tool_calls": ({"id": "c1", "function": {"name": "weather",
                                                             "arguments": '{"city": "Paris"}'}},)}},
        ),
        Event("gen_ai.tool.message", {"body": {"id": "c1", "content": "sunny"}}),
        Event(
            "gen_ai.choice",
            {"body": {"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": "It is sunny."}}},
        ),
    ]  # fmt: skip
    out = _genai.canonical({"gen_ai.operation.name": "chat", "gen_ai.system": "openai"}, events)
    assert out[A.SPYGLASS_KIND] == "LLM" and out[A.GEN_AI_PROVIDER_NAME] == "openai"
    inputs = json.loads(str(out[A.GEN_AI_INPUT_MESSAGES]))
    assert [m["role"] for m in inputs] == ["system", "user", "assistant", "tool"]
    assert inputs[2]["parts"][0] == {
        "type": "tool_call", "id": "c1", "name": "weather", "arguments": {"city": "Paris"}
    }  # fmt: skip
    assert inputs[3]["parts"][0] == {"type": "tool_call_response", "id": "c1", "response": "sunny"}
    (choice,) = json.loads(str(out[A.GEN_AI_OUTPUT_MESSAGES]))
    assert choice["finish_reason"] == "stop" and choice["parts"][0]["content"] == "It is sunny."


def test_content_events_of_semconv_1_26() -> None:
    answer = '[{"role": "assistant", "content": "yo"}]'
    events = [
        Event("gen_ai.content.prompt", {"gen_ai.prompt": '[{"role": "user", "content": "hi"}]'}),
        Event("gen_ai.content.completion", {"gen_ai.completion": answer}),
    ]
    out = _genai.canonical({}, events)
    assert _texts(out[A.GEN_AI_INPUT_MESSAGES]) == [("user", "hi")]
    assert _texts(out[A.GEN_AI_OUTPUT_MESSAGES]) == [("assistant", "yo")]


def test_structured_content_is_stored_as_json_text_and_legacy_names_renamed() -> None:
    attrs = {
        A.GEN_AI_INPUT_MESSAGES: ({"role": "user", "parts": ({"type": "text", "content": "x"},)},),
        "gen_ai.usage.prompt_tokens": 5,
        "gen_ai.usage.completion_tokens": 2,
        "gen_ai.operation.name": "embeddings",
    }
    out = normalise(attrs)
    assert json.loads(str(out[A.GEN_AI_INPUT_MESSAGES])) == [
        {"role": "user", "parts": [{"type": "text", "content": "x"}]}
    ]
    assert out[A.GEN_AI_USAGE_INPUT_TOKENS] == 5 and out[A.GEN_AI_USAGE_OUTPUT_TOKENS] == 2
    assert out[A.SPYGLASS_KIND] == "EMBEDDING"
    assert out["gen_ai.usage.prompt_tokens"] == 5  # originals kept


def test_openinference_tool_calls_completions_and_rerankers() -> None:
    out = _openinference.canonical(
        {
            "openinference.span.kind": "LLM",
            "llm.prompts.0.prompt.text": "Once upon",
            "llm.choices.0.completion.text": " a time",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "c9",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "f",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": "{}",
            "llm.input_messages.0.message.role": "tool",
            "llm.input_messages.0.message.tool_call_id": "c8",
            "llm.input_messages.0.message.content": "42",
        }
    )
    assert out[A.GEN_AI_OPERATION_NAME] == "text_completion"
    inputs = json.loads(str(out[A.GEN_AI_INPUT_MESSAGES]))
    assert inputs[0]["parts"] == [{"type": "tool_call_response", "id": "c8", "response": "42"}]
    assert inputs[1]["parts"] == [{"type": "text", "content": "Once upon"}]
    outputs = json.loads(str(out[A.GEN_AI_OUTPUT_MESSAGES]))
    assert outputs[0]["parts"] == [{"type": "tool_call", "id": "c9", "name": "f", "arguments": {}}]
    reranker = _openinference.canonical(
        {
            "openinference.span.kind": "RERANKER",
            "reranker.query": "q",
            "reranker.input_documents.0.document.content": "a",
            "reranker.output_documents.0.document.content": "a",
            "reranker.output_documents.0.document.score": 0.7,
        }
    )
    assert json.loads(str(reranker[A.GEN_AI_RETRIEVAL_DOCUMENTS]))[0]["score"] == 0.7
    assert A.SPYGLASS_RERANKER_INPUT_DOCUMENTS in reranker
    assert reranker[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == "q"


def test_a_mapping_that_fails_costs_only_what_it_would_have_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spyglass.collector import _normalise

    def broken(attrs: Mapping[str, object], events: Sequence[object]) -> dict[str, object]:
        raise ValueError("odd span")

    conventions = [("broken", broken), *_normalise.CONVENTIONS]
    monkeypatch.setattr(_normalise, "CONVENTIONS", conventions)
    out = normalise({"openinference.span.kind": "TOOL", "tool.name": "t"})
    assert out[A.SPYGLASS_KIND] == "TOOL" and out[A.GEN_AI_TOOL_NAME] == "t"
    assert out["tool.name"] == "t"
    assert normalise({"plain": 1}) == {"plain": 1}


def test_a_node_app_traced_by_openinference_js(receiver: InProcess, db: Path) -> None:
    """The JSON body of the official JavaScript OTLP exporter (``typescript_app.js``)."""
    body = (DATA / "typescript_otlp.json").read_bytes()
    assert post(receiver.url, body, "application/json")[0] == 200
    receiver.stop()
    store = spyglass.Store(db)
    (summary,) = store.traces(project="ts-app")
    (llm,) = store.trace(summary.trace_id).spans
    assert llm.kind == "LLM" and llm.model == "gpt-4o-mini" and llm.provider == "openai"
    assert (llm.input_tokens, llm.output_tokens) == (12, 7)
    assert _texts(llm.attributes[A.GEN_AI_INPUT_MESSAGES]) == [
        ("system", "Answer briefly."),
        ("user", "What is the refund policy?"),
    ]
    assert _texts(llm.attributes[A.GEN_AI_OUTPUT_MESSAGES]) == [
        ("assistant", "Hello from the fake server.")
    ]
