"""Trace chat calls to any OpenAI-compatible server (OpenAI, Ollama, vLLM, LM Studio, ...).

    python examples/openai_compatible.py                       # offline, against a stand-in
    python examples/openai_compatible.py --base-url http://localhost:11434/v1 --model llama3.2
    SPYGLASS_OPENAI_STREAM_USAGE=1 python examples/openai_compatible.py   # streams report usage

``spyglass.autolog()`` patches the ``openai`` client classes, so the plain client below is
traced: one span per call, with the messages, the answer, token counts, the server's address
and, for the streamed call, the time to the first chunk. Without ``--base-url`` the example
starts a tiny stand-in server on 127.0.0.1 that answers like the Chat Completions API, so it
runs with no network and no API key. Needs the ``openai`` extra: ``pip install -e '.[openai]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

try:
    import openai
except ModuleNotFoundError as missing:  # the "try it" set-up installs only LangChain
    raise SystemExit(
        f"this example needs the openai client ({missing}): pip install -e '.[openai]'"
    ) from None

import spyglass


class StoredSpan(Protocol):
    """What this example reads of a span from ``spyglass.Store(...).trace(...).spans``."""

    kind: str
    input_tokens: int | None
    output_tokens: int | None
    attributes: dict[str, object]


ANSWER = "Spans go to one SQLite file; open it with `spyglass show`."


class StandIn(BaseHTTPRequestHandler):
    """Answers ``POST /v1/chat/completions`` as OpenAI does, streamed or not."""

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        base = {"id": "chatcmpl-demo", "created": int(time.time()), "model": body["model"]}
        usage = {"prompt_tokens": 21, "completion_tokens": 12, "total_tokens": 33}
        if not body.get("stream"):
            message = {"role": "assistant", "content": ANSWER}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            completion = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            self._send("application/json", [completion])
            return
        words = ANSWER.split()
        events = [
            {
                **base,
                "object": "chat.completion.chunk",
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": word + " "},
                        "finish_reason": "stop" if last else None,
                    }
                ],
            }
            for last, word in ((i == len(words) - 1, w) for i, w in enumerate(words))
        ]
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            )
        self._send("text/event-stream", events)

    def _send(self, content_type: str, payloads: list[dict[str, object]]) -> None:
        stream = content_type == "text/event-stream"
        lines = [f"data: {json.dumps(p)}\n\n" for p in payloads] + ["data: [DONE]\n\n"]
        data = ("".join(lines) if stream else json.dumps(payloads[0])).encode()
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start_stand_in() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _usage(span: StoredSpan) -> str:
    """What the span says about tokens: an LLM call's counts, or why there are none."""
    if span.kind != "LLM":
        return ""
    if span.input_tokens is None and span.output_tokens is None:
        # OpenAI sends a stream's usage only when asked.
        shown = "tokens: not reported (for streams: SPYGLASS_OPENAI_STREAM_USAGE=1)"
    else:
        shown = f"tokens in/out: {span.input_tokens or 0}/{span.output_tokens or 0}"
    ttft = span.attributes.get("gen_ai.response.time_to_first_chunk")
    if isinstance(ttft, (int, float)):
        shown += f", first chunk after {ttft * 1000:.1f} ms"
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="an OpenAI-compatible /v1 URL (default: a stand-in)")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "not-needed"))
    parser.add_argument("--db", default="spyglass.db", help="SQLite file (default ./spyglass.db)")
    args = parser.parse_args()

    stand_in = None if args.base_url else start_stand_in()
    base_url = args.base_url or f"http://127.0.0.1:{stand_in.server_address[1]}/v1"  # type: ignore[union-attr]

    spyglass.autolog(db=args.db, project="openai-compatible")
    client = openai.OpenAI(base_url=base_url, api_key=args.api_key)
    messages = [
        {"role": "system", "content": "You answer in one sentence."},
        {"role": "user", "content": "Where does spyglass keep traces?"},
    ]
    with spyglass.trace("ask twice", kind="CHAIN"):
        reply = client.chat.completions.create(model=args.model, messages=messages)
        print("answer:  ", reply.choices[0].message.content)
        stream = client.chat.completions.create(model=args.model, messages=messages, stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        print("streamed:", text.strip())
    spyglass.flush()

    with spyglass.Store(args.db) as store:
        latest = store.trace(store.traces(limit=1, project="openai-compatible")[0].trace_id)
    for span in latest.spans:
        print(f"  {span.kind:<5} {span.name:<28} {span.duration_ms:7.1f} ms  {_usage(span)}")
    print(f"\nNext: spyglass show {latest.trace_id[:12]} --db {args.db}")
    spyglass.autolog(disable=True)
    if stand_in is not None:
        stand_in.shutdown()


if __name__ == "__main__":
    main()
