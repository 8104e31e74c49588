"""Records the OTLP body an older OpenLLMetry (flattened ``gen_ai.prompt.<i>.*`` attributes)
sends, into ``openllmetry_legacy_otlp.bin`` beside this file.

The current ``opentelemetry-instrumentation-openai`` writes the GenAI names instead, so the
older one runs in a venv of its own::

    python3 -m venv /tmp/tlvenv && /tmp/tlvenv/bin/pip install \
        "opentelemetry-instrumentation-openai==0.40.14" openai opentelemetry-sdk \
        opentelemetry-exporter-otlp-proto-http
    /tmp/tlvenv/bin/python tests/data/record_openllmetry_legacy.py

What it traces: one chat call with a tool call in the answer, to the tests' fake OpenAI server.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    import openai
    from fake_llm_server import FakeLLMServer, Reply, ToolCall
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "legacy-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    with FakeLLMServer() as fake:
        fake.queue(
            Reply(text="", tool_calls=(ToolCall("call_1", "order_status", {"order": "42"}),))
        )
        client = openai.OpenAI(base_url=fake.openai_base_url, api_key="sk-test")
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": "Where is order 42?"},
            ],
        )
    body = encode_spans(memory.get_finished_spans()).SerializeToString()
    (HERE / "openllmetry_legacy_otlp.bin").write_bytes(body)
    print(f"{len(memory.get_finished_spans())} span(s), {len(body)} bytes")


if __name__ == "__main__":
    main()
