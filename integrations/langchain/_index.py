"""Which vector store answered a LangChain retriever run (``spyglass.retrieval.index.*``).

The callbacks never see the retriever: ``on_retriever_start`` gets ``serialized=None``, the
query and metadata. What does see it is ``VectorStoreRetriever._get_relevant_documents`` (and
its async twin), called by ``BaseRetriever.invoke`` right after ``on_retriever_start`` with the
retriever as ``self`` and the run's ``run_manager``, whose ``run_id`` names the span in the
shared ``RunTable``. So autolog wraps those two methods; the wrapper reads the retriever's
``vectorstore``, sets the index attributes on the run's span, and calls the original. A
retrieval no spyglass handler traces costs one dict lookup. ``functools.wraps`` keeps the
signature that ``BaseRetriever.__init_subclass__`` inspects.

``langchain_core.vectorstores`` costs a third of a second to import, so install does not import
it: the wrap happens when it is already imported, or else at the first ``on_retriever_start``
that names a vector store (LangChain's ``ls_vector_store_provider`` metadata; the module is
imported by then, and the method is looked up after the callback returns, so that first
retrieval is covered too). ``close`` restores the methods exactly, and any store method that
``Mutations`` wrapped.

Readers (see ``_index``): ``InMemoryVectorStore`` (its ``store`` dict of records, replaced on
every write; ``add_documents``, ``aadd_documents`` and ``delete`` are counted, since re-adding
an id replaces the record in place), FAISS (``docstore._dict``, which ``InMemoryDocstore``
replaces on every add; ids cannot be re-added, so no method needs counting), Chroma
(``_index_chroma``); any other store records its class and embedding model only.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Hashable
from typing import Any

from spyglass.integrations._index import (
    Description,
    Fingerprints,
    Mutations,
    Reader,
    class_names,
    model_name,
)
from spyglass.integrations._index_chroma import ChromaReader
from spyglass.integrations.langchain._runs import RunTable
from spyglass.integrations.langchain._spans import callback_failed

_MODULE = "langchain_core.vectorstores.base"
_IN_MEMORY_WRITES = ("add_documents", "aadd_documents", "delete")


def _last_key(mapping: dict[Any, Any]) -> object:
    return next(reversed(mapping), None)


class InMemoryReader:
    """langchain-core's ``InMemoryVectorStore``: ``store`` maps id → record dict."""

    def __init__(self, mutations: Mutations) -> None:
        self._mutations = mutations

    def signal(self, store: Any) -> Hashable:
        records = store.store
        return (self._mutations.count(id(store)), id(records), len(records), _last_key(records))

    def describe(self, store: Any) -> Description:
        records = store.store
        first = next(iter(records.values()), None)
        vector = first.get("vector") if isinstance(first, dict) else None
        return Description(
            store_class=type(store).__name__,
            embedding_model=model_name(getattr(store, "embedding", None)),
            embedding_dimension=len(vector) if vector is not None else None,
            document_count=len(records),
        )

    def records(self, store: Any) -> list[tuple[Hashable, object]]:
        return list(store.store.items())  # one C-level copy: safe against concurrent writes

    def content(self, store: Any, key: Hashable, record: Any) -> tuple[str, object]:
        return str(record.get("text") or ""), record.get("metadata")


class FaissReader:
    """langchain-community's ``FAISS``: a faiss index plus a docstore of ``Document``s."""

    def signal(self, store: Any) -> Hashable:
        docstore = store.docstore
        docs = getattr(docstore, "_dict", None)
        positions = store.index_to_docstore_id
        size = (id(docs), len(docs), _last_key(docs)) if isinstance(docs, dict) else None
        return (id(docstore), size, int(store.index.ntotal), id(positions), len(positions))

    def describe(self, store: Any) -> Description:
        return Description(
            store_class=type(store).__name__,
            embedding_model=model_name(getattr(store, "embedding_function", None)),
            embedding_dimension=int(store.index.d),
            document_count=int(store.index.ntotal),
        )

    def records(self, store: Any) -> list[tuple[Hashable, object]] | None:
        docs = getattr(store.docstore, "_dict", None)
        return list(docs.items()) if isinstance(docs, dict) else None

    def content(self, store: Any, key: Hashable, record: Any) -> tuple[str, object]:
        return str(record.page_content), record.metadata


class OtherReader:
    """Any other vector store: its class and embedding model, read once."""

    def signal(self, store: Any) -> Hashable:
        return ()

    def describe(self, store: Any) -> Description:
        return Description(
            store_class=type(store).__name__,
            embedding_model=model_name(getattr(store, "embeddings", None)),
        )

    def records(self, store: Any) -> None:
        return None

    def content(self, store: Any, key: Hashable, record: object) -> tuple[str, object]:
        raise NotImplementedError


class IndexProbe:
    """autolog's index recording for LangChain: the retriever wrap, the readers, the cache."""

    def __init__(self, runs: RunTable) -> None:
        self._runs = runs
        self.fingerprints = Fingerprints()
        self.mutations = Mutations()
        self._readers: dict[type, Reader] = {}
        self._lock = threading.Lock()
        self._restore: Callable[[], None] | None = None
        self.attached = False
        self.closed = False

    def attach(self) -> None:
        """Wrap ``VectorStoreRetriever`` if its module is imported (else a later call will)."""
        module = sys.modules.get(_MODULE)
        if module is None:
            return
        with self._lock:
            if self.attached or self.closed:
                return
            self._restore = _wrap_retriever(module.VectorStoreRetriever, self)
            self.attached = True

    def close(self) -> None:
        """Restore every wrapped method (uninstall)."""
        with self._lock:
            self.closed = True
            restore, self._restore = self._restore, None
        if restore is not None:
            restore()
        self.mutations.close()

    def record(self, retriever: Any, run_manager: object) -> None:
        """Set the index attributes on the run's span, if spyglass traces the run."""
        try:
            run = self._runs.get(getattr(run_manager, "run_id", None))
            if run is None or run.kind != "RETRIEVER":
                return
            store = retriever.vectorstore
            run.span.set_attributes(self.fingerprints.attributes(store, self.reader(store)))
        except Exception as exc:
            callback_failed("index fingerprint", exc)

    def reader(self, store: object) -> Reader:
        cls = type(store)
        found = self._readers.get(cls)
        if found is None:
            found = self._readers[cls] = self._new_reader(store)
        return found

    def _new_reader(self, store: object) -> Reader:
        names = class_names(store)
        if "InMemoryVectorStore" in names and isinstance(getattr(store, "store", None), dict):
            for cls in type(store).__mro__:
                if cls.__name__ == "InMemoryVectorStore":
                    self.mutations.watch(cls, _IN_MEMORY_WRITES, id)
            return InMemoryReader(self.mutations)
        if "FAISS" in names and hasattr(store, "index_to_docstore_id"):
            return FaissReader()
        if "Chroma" in names and hasattr(store, "_collection"):
            return ChromaReader(self.mutations)
        return OtherReader()


def _wrap_retriever(cls: type, probe: IndexProbe) -> Callable[[], None]:
    """Wrap ``cls``'s sync and async retrieval; the undo restores both (or, if something
    wrapped them since, leaves that in place and makes ours a pass-through)."""
    sync = cls.__dict__["_get_relevant_documents"]
    asynchronous = cls.__dict__["_aget_relevant_documents"]

    @functools.wraps(sync)
    def _get_relevant_documents(self: Any, query: str, *, run_manager: Any, **kwargs: Any) -> Any:
        if not probe.closed:
            probe.record(self, run_manager)
        return sync(self, query, run_manager=run_manager, **kwargs)

    @functools.wraps(asynchronous)
    async def _aget_relevant_documents(
        self: Any, query: str, *, run_manager: Any, **kwargs: Any
    ) -> Any:
        if not probe.closed:
            probe.record(self, run_manager)
        return await asynchronous(self, query, run_manager=run_manager, **kwargs)

    wrapped = {
        "_get_relevant_documents": (_get_relevant_documents, sync),
        "_aget_relevant_documents": (_aget_relevant_documents, asynchronous),
    }
    for name, (wrapper, _) in wrapped.items():
        setattr(cls, name, wrapper)

    def restore() -> None:
        for name, (wrapper, original) in wrapped.items():
            if cls.__dict__.get(name) is wrapper:
                setattr(cls, name, original)

    return restore
