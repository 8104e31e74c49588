"""Time spyglass adds to each openai / anthropic SDK call, against the unwrapped client.

    python benchmarks/sdk_overhead.py [--calls 300]

Both variants run in one process against the tests' local fake server (tests/fake_llm_server.py,
127.0.0.1), with autolog on and spans going to a SQLite file in a temporary folder. The
untraced variant calls the original SDK function that spyglass's patch wraps (its
``__wrapped__``), on the same client, so both share the connection pool, the server and the
machine's load at that moment. Calls alternate (traced, untraced, traced, ...) and the table
reports medians per call: the machine is shared, so a burst of someone else's work lands on both
variants alike and the median ignores it.

Rows: a chat completion; a streamed one read to the end (8 chunks); the async chat completion;
an Anthropic message; and an Anthropic stream through the ``messages.stream`` helper.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import anthropic
import openai
from anthropic.resources.messages import messages as anthropic_messages
from fake_llm_server import FakeLLMServer, Reply
from openai.resources.chat.completions import completions as chat

import spyglass

MESSAGES = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "Summarise the plot of Hamlet in one sentence."},
]

Call = Callable[[], object]


def original(owner: type, name: str) -> Callable[..., object]:
    """The SDK function under spyglass's patch."""
    return owner.__dict__[name].__wrapped__  # type: ignore[no-any-return]


def variants(server: FakeLLMServer) -> dict[str, tuple[Call, Call]]:
    """name -> (traced call, untraced call)."""
    oa = openai.OpenAI(base_url=server.openai_base_url, api_key="bench", max_retries=0)
    aoa = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="bench", max_retries=0)
    an = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="bench", max_retries=0)
    loop = asyncio.new_event_loop()
    create, acreate = (
        original(chat.Completions, "create"),
        original(chat.AsyncCompletions, "create"),
    )
    messages_create = original(anthropic_messages.Messages, "create")
    messages_stream = original(anthropic_messages.Messages, "stream")
    chat_kw = {"model": "gpt-4o-mini", "messages": MESSAGES}
    an_kw = {"model": "claude-test", "max_tokens": 64, "messages": MESSAGES[1:]}

    def drain(stream: object) -> None:
        for _ in stream:  # type: ignore[attr-defined]
            pass

    def helper(manager: object) -> None:
        with manager as stream:  # type: ignore[attr-defined]
            stream.until_done()

    return {
        "openai chat": (
            lambda: oa.chat.completions.create(**chat_kw),
            lambda: create(oa.chat.completions, **chat_kw),
        ),
        "openai chat stream (8 chunks)": (
            lambda: drain(oa.chat.completions.create(**chat_kw, stream=True)),
            lambda: drain(create(oa.chat.completions, **chat_kw, stream=True)),
        ),
        "openai chat, async": (
            lambda: loop.run_until_complete(aoa.chat.completions.create(**chat_kw)),
            lambda: loop.run_until_complete(acreate(aoa.chat.completions, **chat_kw)),
        ),
        "anthropic messages": (
            lambda: an.messages.create(**an_kw),
            lambda: messages_create(an.messages, **an_kw),
        ),
        "anthropic messages.stream": (
            lambda: helper(an.messages.stream(**an_kw)),
            lambda: helper(messages_stream(an.messages, **an_kw)),
        ),
    }


def measure(traced: Call, untraced: Call, calls: int) -> tuple[float, float]:
    """Median seconds per call of each variant, interleaved."""
    for _ in range(10):  # warm up connections, caches and code paths
        traced()
        untraced()
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(2 * calls):
        which = i % 2
        start = time.perf_counter()
        (traced if which == 0 else untraced)()
        times[which].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per variant and row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeLLMServer() as server:
        server.default = Reply(text="Hamlet avenges his father and everyone dies.", chunks=6)
        spyglass.autolog(db=Path(tmp) / "bench.db", integrations=["openai", "anthropic"])
        rows = [(name, *measure(t, u, args.calls)) for name, (t, u) in variants(server).items()]
        spyglass.flush()
        stored = spyglass.Store(Path(tmp) / "bench.db").span_count()
        spyglass.autolog(disable=True)
    print(f"{args.calls} calls per variant, interleaved; medians per call\n")
    print(f"{'call':<31} {'untraced':>10} {'traced':>10} {'added':>10} {'ratio':>7}")
    for name, traced, untraced in rows:
        added = (traced - untraced) * 1e6
        print(
            f"{name:<31} {untraced * 1e3:>8.3f}ms {traced * 1e3:>8.3f}ms "
            f"{added:>8.0f}µs {traced / untraced:>7.3f}"
        )
    print(f"\n{stored} spans stored")


if __name__ == "__main__":
    main()
