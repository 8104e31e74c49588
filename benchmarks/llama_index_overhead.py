"""Time spyglass's LlamaIndex tracing adds to an offline query engine, beside the floor and a peer.

    python benchmarks/llama_index_overhead.py [--rounds 15] [--calls 150]

The app: a ``VectorStoreIndex`` over 24 short documents (LlamaIndex's ``MockEmbedding``), a
query engine with ``similarity_top_k=4`` and the default compact-and-refine synthesizer, and
LlamaIndex's ``MockLLM``. MockLLM reports no usage, so spyglass estimates tokens with
LlamaIndex's tokenizer on every call (line counts are cached: the template and the retrieved
chunks repeat from query to query, the question does not). Variants, in one process:

* ``untraced``: the query engine alone;
* ``no-op handlers``: a span handler and an event handler that do nothing, on the root
  dispatcher (the floor: what LlamaIndex's instrumentation costs by itself once anyone listens);
* ``spyglass``: ``spyglass.autolog()`` into a SQLite file in a temporary folder. Its exporter
  writes on a worker thread, concurrently with the calls, as in a real program (a round is
  long enough for it to write several batches while the queries run); the row ``+ export``
  adds the time and CPU ``flush()`` then needs for the round's leftover spans: all the work
  spyglass adds, wherever it runs;
* two rows that split that cost (not what a program runs): ``spyglass, content off``
  (``capture_content=False``: structure, timings and tokens only), and ``spyglass, no
  exporter`` (the integration on a pipeline without SQLite: the caller's thread alone);
* ``openinference``: ``openinference-instrumentation-llama-index`` with its own TracerProvider
  and a ``SimpleSpanProcessor`` into an ``InMemorySpanExporter`` (no I/O at all).

Each round runs every variant once (ABCD ABCD ...), ``--calls`` queries each, set-up and
tear-down outside the timing; the table reports, per query, the median over rounds of wall
time and of process CPU time (all threads). The machine may be shared: interleaving puts a
burst of someone else's work on every variant alike, and the median drops it.
Budget (the overhead decision): the ``spyglass`` calls <= 1.35 x untraced (wall, exporter
alongside) and the whole process's CPU for them and their flush <= 1.50 x; the calling
thread alone (``spyglass, no exporter``) is reported against a target of about 1.15. The exit
status is 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from _rounds import Variant, check_budget, nothing, print_table, run_round
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.llms import MockLLM

import spyglass

TOPICS = ("lighthouses", "tides", "sourdough", "glaciers", "comets", "orchards")
#: Thirty distinct questions, cycled: no two consecutive prompts are the same.
QUESTIONS = tuple(f"What does note {i} say about {TOPICS[i % len(TOPICS)]}?" for i in range(30))


def build_engine() -> BaseQueryEngine:
    documents = [
        Document(text=f"Note {i} on {TOPICS[i % len(TOPICS)]}: " + "a fact worth keeping. " * 12)
        for i in range(24)
    ]
    index = VectorStoreIndex.from_documents(documents, embed_model=MockEmbedding(embed_dim=64))
    return index.as_query_engine(llm=MockLLM(max_tokens=16), similarity_top_k=4)


class NoopSpanHandler(BaseSpanHandler[BaseSpan]):
    def span_enter(self, *args: Any, **kwargs: Any) -> None:
        return None

    def span_exit(self, *args: Any, **kwargs: Any) -> None:
        return None

    def span_drop(self, *args: Any, **kwargs: Any) -> None:
        return None

    def new_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_exit_span(self, *args: Any, **kwargs: Any) -> None:
        return None

    def prepare_to_drop_span(self, *args: Any, **kwargs: Any) -> None:
        return None


class NoopEventHandler(BaseEventHandler):
    def handle(self, event: Any, **kwargs: Any) -> None:
        return None


@contextmanager
def _noop_handlers() -> Iterator[Callable[[], None]]:
    dispatcher = get_dispatcher()
    span_handler, event_handler = NoopSpanHandler(), NoopEventHandler()
    dispatcher.add_span_handler(span_handler)
    dispatcher.add_event_handler(event_handler)
    try:
        yield lambda: None
    finally:
        dispatcher.span_handlers.remove(span_handler)
        dispatcher.event_handlers.remove(event_handler)


@contextmanager
def _spyglass(folder: Path, capture: bool = True) -> Iterator[Callable[[], None]]:
    db = folder / ("bench.db" if capture else "bench-no-content.db")
    spyglass.autolog(db=db, integrations=["llama_index"], capture_content=capture)
    try:
        yield lambda: None if spyglass.flush(60) else print("flush timed out", file=sys.stderr)
    finally:
        spyglass.autolog(disable=True)


@contextmanager
def _no_exporter() -> Iterator[Callable[[], None]]:
    from spyglass.integrations.llama_index import install
    from spyglass.tracer._integration import IntegrationContext
    from spyglass.tracer._pipeline import Pipeline, Settings

    pipeline = Pipeline(Settings(db=None))
    uninstall = install(IntegrationContext(pipeline.tracer, True, pipeline.lite))
    try:
        yield lambda: None
    finally:
        uninstall()
        pipeline.shutdown()


def _openinference_factory() -> Callable[[], AbstractContextManager[Callable[[], None]]] | None:
    try:
        from openinference.instrumentation.llama_index import LlamaIndexInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return None
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LlamaIndexInstrumentor()

    @contextmanager
    def instrumented() -> Iterator[Callable[[], None]]:
        instrumentor.instrument(tracer_provider=provider)
        try:
            yield exporter.clear
        finally:
            instrumentor.uninstrument()

    return instrumented


def report(variants: list[Variant], rounds: int, calls: int) -> bool:
    print(f"\nLlamaIndex query engine (top_k=4), {rounds} interleaved rounds x {calls} queries;")
    print("medians per query; ratios against untraced.\n")
    print_table(variants)
    return check_budget(variants[0], variants[2], variants[4])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--calls", type=int, default=150, help="queries per variant per round")
    args = parser.parse_args(argv)
    engine = build_engine()
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        variants = [
            Variant("untraced", nothing),
            Variant("no-op handlers (floor)", _noop_handlers),
            Variant("spyglass", lambda: _spyglass(Path(tmp))),
            Variant("spyglass, content off", lambda: _spyglass(Path(tmp), capture=False)),
            Variant("spyglass, no exporter", _no_exporter),
        ]
        openinference = _openinference_factory()
        if openinference is not None:
            variants.append(Variant("openinference (in-memory export)", openinference))
        else:
            print("openinference-instrumentation-llama-index is not installed: skipped")

        def call(i: int, _config: object) -> object:
            return engine.query(QUESTIONS[i % len(QUESTIONS)])

        for variant in variants:  # warm-up: imports, caches, the tokenizer, first-call costs
            run_round(variant, max(5, args.calls // 4), call)
            variant.clear()
        for _ in range(args.rounds):
            for variant in variants:
                run_round(variant, args.calls, call)
        ok = report(variants, args.rounds, args.calls)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
