"""Records the OTLP/JSON body a Node.js app sends (OpenInference's OpenAI instrumentation, the
official ``@opentelemetry/exporter-trace-otlp-http``), into ``typescript_otlp.json``.

Needs Node.js and the app's packages, installed anywhere::

    mkdir /tmp/tsapp && cd /tmp/tsapp && npm install openai \
        @arizeai/openinference-instrumentation-openai @opentelemetry/sdk-trace-node \
        @opentelemetry/exporter-trace-otlp-http @opentelemetry/resources
    python tests/data/record_typescript.py /tmp/tsapp/node_modules
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
bodies: list[tuple[str, bytes]] = []


class _Collector(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/v1/traces"):
            bodies.append((self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        return


def main(node_modules: str) -> None:
    from fake_llm_server import FakeLLMServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with FakeLLMServer() as fake:
        env = {
            **os.environ,
            "NODE_PATH": node_modules,
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}",
            "FAKE_OPENAI_BASE_URL": fake.openai_base_url,
        }
        subprocess.run(["node", str(HERE / "typescript_app.js")], env=env, check=True)
    server.shutdown()
    ((content_type, body),) = bodies
    assert content_type.startswith("application/json"), content_type
    (HERE / "typescript_otlp.json").write_bytes(body)
    print(f"{len(body)} bytes of {content_type}")


if __name__ == "__main__":
    main(sys.argv[1])
