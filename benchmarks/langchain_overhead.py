"""Time spyglass's LangChain tracing adds to an offline RAG chain, beside the floor and a peer.

    python benchmarks/langchain_overhead.py [--rounds 15] [--calls 150]

The chain is the demo's (``spyglass.demo.build_chain``): a scored retriever over an
in-memory vector store (k=4), a chat prompt, a stand-in chat model that reports token usage, a
string parser: 9 runs, so 9 spans, per call. Variants, in one process:

* ``untraced``: the chain alone;
* ``no-op handler``: the same chain with a callback handler that does nothing (the floor: what
  LangChain's callback machinery costs by itself);
* ``spyglass``: ``spyglass.autolog()`` into a SQLite file in a temporary folder. Its exporter
  writes on a worker thread, concurrently with the calls, as in a real program (a round is
  long enough for it to write several batches while the calls run); the row ``+ export`` adds
  the time ``flush()`` then needs for the round's leftover spans, i.e. all of spyglass's work,
  caller's thread and worker's;
* ``spyglass hot path``: the same handler and OTel spans, into a pipeline with no exporter:
  what the callbacks cost the calling thread, without the SQLite writer competing for the GIL;
* ``OTel SDK spans only``: a handler that starts and ends one OTel SDK span per run in the
  same pipeline, with no attributes but the kind: the floor of any design that makes SDK spans
  on the calling thread (why the integrations make light spans instead);
* ``light spans only``: the same with spyglass's light spans (``tracer/_lite.py``);
* ``openinference``: ``openinference-instrumentation-langchain`` with its own TracerProvider
  and a ``SimpleSpanProcessor`` into an ``InMemorySpanExporter`` (no I/O at all).

Each round runs every variant once (ABCD ABCD ...), ``--calls`` calls each, set-up and
tear-down outside the timing; the table reports, per call, the median over rounds of wall time
and of process CPU time (all threads). The machine may be shared: interleaving puts a burst of
someone else's work on every variant alike, the median drops it, and CPU time ignores time spent
waiting for a core. Budget (the overhead decision): the ``spyglass`` calls ≤ 1.35 × untraced
(wall, exporter alongside) and the whole process's CPU for them and their flush ≤ 1.50 ×; the
calling thread alone (``spyglass hot path``) is reported against a target of about 1.15. The
exit status is 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from _rounds import Variant, check_budget, nothing, print_table, run_round
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig
from opentelemetry.context import get_current
from opentelemetry.trace import Span, Tracer, set_span_in_context

import spyglass
from spyglass.demo import QUESTIONS, build_chain
from spyglass.integrations.langchain import SpyglassCallbackHandler
from spyglass.tracer._lite import LiteSpan, LiteTracer
from spyglass.tracer._pipeline import Pipeline, Settings


class NoopHandler(BaseCallbackHandler):
    """Receives every event and does nothing (chat start too, so no fallback to on_llm_start)."""

    run_inline = True

    def on_chat_model_start(self, *args: Any, **kwargs: Any) -> None:
        return None


class SpansOnlyHandler(BaseCallbackHandler):
    """One bare SDK span per run, parented by run id: the cost of the spans themselves."""

    run_inline = True

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.spans: dict[UUID, Span] = {}

    def _start(self, run_id: UUID, parent_run_id: UUID | None, name: str) -> None:
        parent = self.spans.get(parent_run_id) if parent_run_id else None
        context = set_span_in_context(parent) if parent is not None else get_current()
        self.spans[run_id] = self.tracer.start_span(
            name, context=context, attributes={"spyglass.span.kind": "CHAIN"}
        )

    def _end(self, run_id: UUID) -> None:
        span = self.spans.pop(run_id, None)
        if span is not None:
            span.end()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._start(run_id, kw.get("parent_run_id"), kw.get("name") or "chain")

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any
    ) -> None:
        self._start(run_id, kw.get("parent_run_id"), "model")

    def on_retriever_start(self, serialized: Any, query: Any, *, run_id: UUID, **kw: Any) -> None:
        self._start(run_id, kw.get("parent_run_id"), "retriever")

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)


class LightSpansOnlyHandler(SpansOnlyHandler):
    """The same with spyglass's light spans (``tracer/_lite.py``), as the real handler makes."""

    def __init__(self, tracer: LiteTracer) -> None:
        self.lite = tracer
        self.spans: dict[UUID, Span] = {}

    def _start(self, run_id: UUID, parent_run_id: UUID | None, name: str) -> None:
        parent = self.spans.get(parent_run_id) if parent_run_id else None
        attributes = {"spyglass.span.kind": "CHAIN"}
        if isinstance(parent, LiteSpan):
            self.spans[run_id] = self.lite.start_child(name, parent, attributes)
        else:
            self.spans[run_id] = self.lite.start_span(name, get_current(), attributes)


@contextmanager
def _spyglass(folder: Path) -> Iterator[Callable[[], None]]:
    spyglass.autolog(db=folder / "bench.db", integrations=["langchain"])
    try:
        yield lambda: None if spyglass.flush(60) else print("flush timed out", file=sys.stderr)
    finally:
        spyglass.autolog(disable=True)


def _openinference_factory() -> Callable[[], AbstractContextManager[Callable[[], None]]] | None:
    try:
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return None
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LangChainInstrumentor()

    @contextmanager
    def instrumented() -> Iterator[Callable[[], None]]:
        instrumentor.instrument(tracer_provider=provider)
        try:
            yield exporter.clear
        finally:
            instrumentor.uninstrument()

    return instrumented


def report(variants: list[Variant], rounds: int, calls: int) -> bool:
    print(f"\nLangChain RAG chain (9 runs per call), {rounds} interleaved rounds x {calls} calls;")
    print("medians per call; ratios against untraced.\n")
    print_table(variants)
    return check_budget(variants[0], variants[2], variants[3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--calls", type=int, default=150, help="chain calls per variant per round")
    args = parser.parse_args(argv)
    # OpenInference calls LangChain APIs that now warn on every call; keep the table readable.
    warnings.filterwarnings("ignore", module=r"openinference\..*")
    chain = build_chain(k=4)
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        folder = Path(tmp)
        bare = Pipeline(Settings(db=None))
        no_export = bare.tracer
        hot_path = SpyglassCallbackHandler(tracer=bare.lite)
        variants = [
            Variant("untraced", nothing),
            Variant("no-op handler (floor)", nothing, {"callbacks": [NoopHandler()]}),
            Variant("spyglass", lambda: _spyglass(folder)),
            Variant("spyglass hot path (no exporter)", nothing, {"callbacks": [hot_path]}),
            Variant(
                "OTel SDK spans only (no exporter)",
                nothing,
                {"callbacks": [SpansOnlyHandler(no_export)]},
            ),
            Variant(
                "light spans only (no exporter)",
                nothing,
                {"callbacks": [LightSpansOnlyHandler(bare.lite)]},
            ),
        ]
        openinference = _openinference_factory()
        if openinference is not None:
            variants.append(Variant("openinference (in-memory export)", openinference))
        else:
            print("openinference-instrumentation-langchain is not installed: skipped")

        def call(i: int, config: RunnableConfig | None) -> object:
            return chain.invoke(QUESTIONS[i % len(QUESTIONS)], config=config)

        for variant in variants:  # warm-up: imports, caches, first-call costs
            run_round(variant, max(5, args.calls // 4), call)
            variant.clear()
        for _ in range(args.rounds):
            for variant in variants:
                run_round(variant, args.calls, call)
        ok = report(variants, args.rounds, args.calls)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
