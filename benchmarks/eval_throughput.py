"""Throughput of ``spyglass.evaluate`` with code evaluators, and what tracing costs in it.

1,000 examples of a small RAG-shaped app (a keyword retriever span recording its documents,
then an answer) are evaluated with text evaluators (exact match, contains, regex), in four
set-ups, each repeated, medians reported:

* ``plain loop``: the app and the same evaluators called in a loop: no spyglass at all;
* ``evaluate, spans not stored``: ``evaluate`` with an active pipeline that has no exporter
  (spans are made, then dropped): the run's own bookkeeping plus OTel span creation;
* ``evaluate, autolog``: the real thing, spans exported to SQLite and flushed;
* ``+ trace evaluators``: the same plus hit rate, MRR, groundedness and a latency budget,
  which read the examples' traces back from the file.

"tracing share" is the time autolog's SQLite export adds to the no-export run, as a share of
the autolog run; "spyglass share" is everything ``evaluate`` adds to the plain loop. Both are
given for wall time and for CPU time (all threads): on a shared machine the CPU figures are the
steadier ones.

    python benchmarks/eval_throughput.py [--examples 1000] [--repeats 3] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import spyglass
from spyglass.evaluation._case import EvalCase, RetrievedDocument, TraceFacts
from spyglass.evaluators import (
    contains,
    exact_match,
    groundedness,
    hit_rate,
    latency_budget,
    mrr,
    regex,
)
from spyglass.tracer import _runtime
from spyglass.tracer import attributes as A
from spyglass.tracer._pipeline import Pipeline, Settings

TOPICS = ["spans", "sqlite", "viewer", "prompts", "tokens", "redaction", "otlp", "scores"]
DOCS = {
    f"doc-{i}": f"Fact {i}: spyglass keeps {topic} in one file and shows {topic} in the terminal."
    for i, topic in enumerate(TOPICS)
}


def dataset(count: int) -> list[dict[str, object]]:
    rows = []
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        doc = f"doc-{i % len(TOPICS)}"
        rows.append(
            {
                "inputs": {"question": f"Where does spyglass keep {topic}? (#{i})"},
                "expected": DOCS[doc],
                "expected_doc_ids": [doc],
            }
        )
    return rows


def rank(question: str) -> list[str]:
    words = set(question.lower().replace("?", " ").split())
    return sorted(DOCS, key=lambda d: -len(words & set(DOCS[d].lower().split())))[:3]


def app(question: str) -> str:
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        ids = rank(question)
        if span is not None:
            docs = [{"id": d, "content": DOCS[d], "score": 1.0} for d in ids]
            span.set_attribute(A.GEN_AI_RETRIEVAL_DOCUMENTS, json.dumps(docs))
    return DOCS[ids[0]]


def text_evaluators() -> list[object]:
    return [exact_match(), contains(), regex(r"Fact \d+")]


def trace_evaluators() -> list[object]:
    return [*text_evaluators(), hit_rate(), mrr(), groundedness(), latency_budget(1000)]


def plain_loop(data: list[dict[str, object]]) -> None:
    checks = text_evaluators()
    for row in data:
        question = row["inputs"]["question"]  # type: ignore[index]
        ids = rank(question)
        output = DOCS[ids[0]]
        facts = TraceFacts("", "OK", 0.0, 0, 0, tuple(RetrievedDocument(d, DOCS[d]) for d in ids))
        case = EvalCase(row["inputs"], output, row["expected"], facts=facts)
        for check in checks:
            check(case)  # type: ignore[operator]


Timing = tuple[float, float]  # wall seconds, CPU seconds (every thread of the process)


def timed(action: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def run_once(setup: str, data: list[dict[str, object]], db: Path, concurrency: int) -> Timing:
    if setup == "plain loop":
        return timed(lambda: plain_loop(data))
    if setup == "evaluate, spans not stored":
        previous = _runtime.replace(Pipeline(Settings(db=None)))
        assert previous is None
        try:
            return timed(
                lambda: spyglass.evaluate(
                    app, data, text_evaluators(), db=db, concurrency=concurrency, progress=False
                )
            )
        finally:
            replaced = _runtime.replace(None)
            if replaced is not None:
                replaced.shutdown()
    checks = trace_evaluators() if setup == "+ trace evaluators" else text_evaluators()
    spyglass.autolog(db=db, integrations=())
    try:
        return timed(
            lambda: spyglass.evaluate(
                app, data, checks, db=db, concurrency=concurrency, progress=False
            )
        )
    finally:
        spyglass.autolog(disable=True)


SETUPS = ("plain loop", "evaluate, spans not stored", "evaluate, autolog", "+ trace evaluators")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    data = dataset(args.examples)
    runs: dict[str, list[Timing]] = {setup: [] for setup in SETUPS}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for number, setup in enumerate(SETUPS):
                db = Path(tmp) / f"run{repeat}-{number}.db"
                runs[setup].append(run_once(setup, data, db, args.concurrency))
    wall = {setup: statistics.median(t[0] for t in timings) for setup, timings in runs.items()}
    cpu = {setup: statistics.median(t[1] for t in timings) for setup, timings in runs.items()}
    print(
        f"{args.examples} examples, concurrency {args.concurrency}, median of {args.repeats} runs\n"
    )
    print(f"{'set-up':<28} {'wall s':>7} {'cpu s':>7} {'examples/s':>11} {'vs plain':>9}")
    for setup in SETUPS:
        rate = args.examples / wall[setup]
        ratio = wall[setup] / wall["plain loop"]
        print(f"{setup:<28} {wall[setup]:>7.3f} {cpu[setup]:>7.3f} {rate:>11,.0f} {ratio:>8.1f}x")
    print()
    for label, figures in (("wall", wall), ("cpu", cpu)):
        on, off = figures["evaluate, autolog"], figures["evaluate, spans not stored"]
        plain = figures["plain loop"]
        print(
            f"{label:>4}: tracing share (SQLite export) {(on - off) / on:.0%}, "
            f"spyglass share (vs plain loop) {(on - plain) / on:.0%}"
        )


if __name__ == "__main__":
    main()
