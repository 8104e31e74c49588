"""What recording the index (``spyglass.retrieval.index.*``, fingerprint included) costs a
retrieval, beside the retrieval itself, on in-memory stores of 1,000 and 10,000 documents.

    python benchmarks/index_fingerprint.py [--rounds 7] [--calls 200] [--sizes 1000 10000]

Per framework and store size, three variants run in interleaved rounds (ABC ABC ..., set-up
outside the timing), ``--calls`` retrievals each, the median over rounds per retrieval:

* ``untraced``: the retriever alone (the retrieval time itself);
* ``traced``: spyglass's span for it, without the index (LangChain: the callback handler passed
  in ``callbacks``; LlamaIndex: spyglass's dispatcher handlers with no index probe);
* ``traced + index``: the same with the index probe: LangChain's ``BaseRetriever`` wrap,
  LlamaIndex's probe in the tracker; what ``autolog()`` runs.

The stores: LangChain's ``InMemoryVectorStore`` (``DeterministicFakeEmbedding``, 64
dimensions) behind ``as_retriever(k=4)``; LlamaIndex's ``VectorStoreIndex`` over nodes with
precomputed 64-dimension embeddings (default ``SimpleVectorStore`` and docstore) behind
``as_retriever(similarity_top_k=4)``. The store does not change during the timed calls, as in
serving, so each retrieval pays the cache check only. That check is also timed on its own
(``index µs / retrieval``: the probe's call for a retriever, a thousand times, the store
unchanged), since on a shared machine the difference of two ~10 ms medians is mostly noise;
``share`` is that time over the untraced retrieval. The one-off costs are printed apart: the
first fingerprint of a store (every document digested; each variant's probe takes it in its
set-up, outside the timing) and the update after one document is added (one digested, the
rest compared by identity). Spans go to a SQLite file in a temporary folder, flushed after
each round outside the timing. The machine's load average is printed: on a busy machine,
rerun.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _rounds import Variant, nothing, run_round

import spyglass
from spyglass.tracer import _runtime

DIM = 64
QUERIES = tuple(f"what does note {i} say about the lighthouse?" for i in range(16))


def _texts(n: int) -> list[tuple[str, dict[str, Any]]]:
    return [(f"note {i}: the lamp at station {i % 97} is lit at dusk", {"i": i}) for i in range(n)]


# --- LangChain ----------------------------------------------------------------------------------


def langchain_case(n: int) -> tuple[Callable[[], Any], list[Variant], Callable[[int, Any], object]]:
    from langchain_core.documents import Document
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore

    from spyglass.integrations.langchain import SpyglassCallbackHandler
    from spyglass.integrations.langchain._index import IndexProbe

    def build() -> Any:
        store = InMemoryVectorStore(DeterministicFakeEmbedding(size=DIM))
        store.add_documents([Document(page_content=t, metadata=m) for t, m in _texts(n)])
        return store.as_retriever(search_kwargs={"k": 4})

    retriever = build()
    handler = SpyglassCallbackHandler()
    traced = {"callbacks": [handler]}

    @contextmanager
    def with_probe() -> Iterator[Callable[[], None]]:
        probe = IndexProbe()
        probe.attach()
        probe.attributes(retriever)  # the store's first fingerprint, timed apart (one_off)
        try:
            yield lambda: spyglass.flush()
        finally:
            probe.close()

    @contextmanager
    def flushing() -> Iterator[Callable[[], None]]:
        yield lambda: spyglass.flush()

    variants = [
        Variant("untraced", nothing),
        Variant("traced", flushing, traced),
        Variant("traced + index", with_probe, traced),
    ]

    def call(i: int, config: Any) -> object:
        return retriever.invoke(QUERIES[i % len(QUERIES)], config)

    def one_off() -> Any:
        probe = IndexProbe()
        return probe, retriever, lambda r: probe.attributes(r), _lc_add

    return one_off, variants, call


def _lc_add(retriever: Any, i: int) -> None:
    from langchain_core.documents import Document

    retriever.vectorstore.add_documents([Document(page_content=f"added {i}")])


# --- LlamaIndex ---------------------------------------------------------------------------------


def llama_index_case(
    n: int,
) -> tuple[Callable[[], Any], list[Variant], Callable[[int, Any], object]]:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.schema import TextNode

    from spyglass.integrations.llama_index import SpyglassEventHandler, SpyglassSpanHandler
    from spyglass.integrations.llama_index._index import IndexProbe
    from spyglass.integrations.llama_index._tracker import Tracker

    nodes = [
        TextNode(text=t, metadata=m, embedding=[((i * 7 + d) % 13) / 13 for d in range(DIM)])
        for i, (t, m) in enumerate(_texts(n))
    ]
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=DIM))
    retriever = index.as_retriever(similarity_top_k=4)
    dispatcher = get_dispatcher()

    def handlers(probe: IndexProbe | None) -> Callable[[], Any]:
        @contextmanager
        def setup() -> Iterator[Callable[[], None]]:
            tracker = Tracker(_runtime.ensure().lite, True, probe)
            if probe is not None:
                probe.attributes(retriever)  # the first fingerprint, timed apart (one_off)
            span, event = SpyglassSpanHandler(tracker), SpyglassEventHandler(tracker)
            dispatcher.add_span_handler(span)
            dispatcher.add_event_handler(event)
            try:
                yield lambda: spyglass.flush()
            finally:
                dispatcher.span_handlers[:] = [h for h in dispatcher.span_handlers if h is not span]
                dispatcher.event_handlers[:] = [
                    h for h in dispatcher.event_handlers if h is not event
                ]
                if probe is not None:
                    probe.close()

        return setup

    variants = [
        Variant("untraced", nothing),
        Variant("traced", handlers(None)),
        Variant("traced + index", lambda: handlers(IndexProbe())()),
    ]

    def call(i: int, config: Any) -> object:
        return retriever.retrieve(QUERIES[i % len(QUERIES)])

    def one_off() -> Any:
        probe = IndexProbe()
        return probe, retriever, lambda r: probe.attributes(r), _li_add

    return one_off, variants, call


def _li_add(retriever: Any, i: int) -> None:
    from llama_index.core.schema import TextNode

    retriever._index.insert_nodes([TextNode(text=f"added {i}", embedding=[0.5] * DIM)])


# --- measuring ----------------------------------------------------------------------------------


def one_off_costs(one_off: Callable[[], Any], repeats: int = 3) -> tuple[float, float, float]:
    """Seconds: the first fingerprint of the store, the update after one added document, and a
    call while nothing changed (the cache check alone)."""
    first, update, check = [], [], []
    for i in range(repeats):
        probe, retriever, attributes, add = one_off()
        started = time.perf_counter()
        attributes(retriever)
        first.append(time.perf_counter() - started)
        add(retriever, i)
        started = time.perf_counter()
        attributes(retriever)
        update.append(time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(1000):
            attributes(retriever)
        check.append((time.perf_counter() - started) / 1000)
        probe.close()
    return statistics.median(first), statistics.median(update), statistics.median(check)


def measure(case: Callable[[int], Any], n: int, rounds: int, calls: int) -> dict[str, float]:
    one_off, variants, call = case(n)
    for variant in variants:  # a warm-up round, not counted
        run_round(variant, calls, call)
        variant.clear()
    for _ in range(rounds):
        for variant in variants:
            run_round(variant, calls, call)
    walls = {v.name: statistics.median(v.wall) for v in variants}
    first, update, check = one_off_costs(one_off)
    return {**walls, "first": first, "update": update, "check": check}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        spyglass.autolog(db=Path(folder) / "bench.db", integrations=())
        try:
            rows = [
                (name, n, measure(case, n, args.rounds, max(20, args.calls * 1000 // n)))
                for name, case in (("langchain", langchain_case), ("llama_index", llama_index_case))
                for n in args.sizes
            ]
        finally:
            spyglass.autolog(disable=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print(
        "| framework   |   docs | untraced ms | traced ms | traced + index ms "
        "| index µs / retrieval | share | first fingerprint ms | after 1 add ms |"
    )
    print("|" + "|".join("-" * width for width in (13, 8, 13, 11, 19, 22, 7, 22, 16)) + "|")
    for name, n, m in rows:
        print(
            f"| {name:<11} | {n:>6,} | {m['untraced'] * 1e3:11.2f} | {m['traced'] * 1e3:9.2f} "
            f"| {m['traced + index'] * 1e3:17.2f} | {m['check'] * 1e6:20.1f} "
            f"| {m['check'] / m['untraced'] * 100:4.2f}% | {m['first'] * 1e3:20.1f} "
            f"| {m['update'] * 1e3:14.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
