"""Records the OTLP body MLflow's tracing SDK sends, into ``mlflow_otlp.bin`` beside this file.

Run in a venv of its own (mlflow-tracing pins differ from spyglass's dev extra)::

    python3 -m venv /tmp/mlvenv && /tmp/mlvenv/bin/pip install mlflow-tracing openai \
        opentelemetry-exporter-otlp-proto-http sqlparse
    /tmp/mlvenv/bin/python tests/data/record_mlflow.py

What it traces: ``mlflow.openai.autolog()`` around a chat call to the tests' fake OpenAI
server, inside an ``@mlflow.trace`` CHAIN with a RETRIEVER child that returns two documents.
"""

from __future__ import annotations

import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
bodies: list[bytes] = []


class _Collector(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/v1/traces"):
            bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = (
        f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    )
    os.environ["OTEL_SERVICE_NAME"] = "mlflow-app"
    os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"  # MLflow defaults to gRPC
    import mlflow
    import openai
    from fake_llm_server import FakeLLMServer

    mlflow.openai.autolog()

    @mlflow.trace(span_type="RETRIEVER")
    def retrieve(query: str) -> list[dict[str, object]]:
        return [
            {"page_content": "Refunds within 30 days.", "metadata": {"score": 0.91, "id": "d1"}},
            {"page_content": "Shipping is free.", "metadata": {"score": 0.42, "id": "d2"}},
        ]

    @mlflow.trace(span_type="CHAIN")
    def answer(question: str) -> str:
        docs = retrieve(question)
        reply = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Use: " + docs[0]["page_content"]},
                {"role": "user", "content": question},
            ],
        )
        return reply.choices[0].message.content or ""

    with FakeLLMServer() as fake:
        client = openai.OpenAI(base_url=fake.openai_base_url, api_key="sk-test")
        print(answer("refund policy?"))
        from mlflow.tracing.provider import get_bridged_tracer_provider

        # The OTLP exporter sends on its own schedule otherwise.
        get_bridged_tracer_provider().force_flush()
    server.shutdown()
    (HERE / "mlflow_otlp.bin").write_bytes(b"".join(bodies[-1:]))
    print(f"{len(bodies)} request(s); kept the last, {len(bodies[-1])} bytes")


if __name__ == "__main__":
    main()
