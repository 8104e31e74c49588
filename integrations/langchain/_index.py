"""Which vector store answered a LangChain retriever run (``spyglass.retrieval.index.*``).

The callbacks never see the retriever: ``on_retriever_start`` gets ``serialized=None``, the
query and metadata. So autolog wraps ``BaseRetriever.invoke`` and ``ainvoke``, the entry points
of every retriever: the wrapper puts ``(probe, retriever)`` in a ``ContextVar`` for the length
of the call and resets it after, and ``on_retriever_start``, which langchain-core calls inside
``invoke`` in the same context (spyglass's handler runs inline, also in async code), reads the
retriever's ``vectorstore`` from it: a ``VectorStoreRetriever``'s, or that of any retriever of
the user's that holds one under that name (like the demo's). A nested retriever's own call
sets the var for its own span; the value never outlives the call, so nothing stale is read.
Any spyglass handler reads it, also one the user passed in ``callbacks``.

``langchain_core.retrievers`` costs a fifth of a second to import, so install does not import
it: a post-import hook (``_hooks``) wraps it when the program imports it, or at once if it has.
``close`` removes the hook and restores the methods exactly, and any store method that
``Mutations`` wrapped.

Readers (see ``_index``): ``InMemoryVectorStore`` (its ``store`` dict of records, replaced on
every write; ``add_documents``, ``aadd_documents`` and ``delete`` are counted, since re-adding
an id replaces the record in place), FAISS (``docstore._dict``, which ``InMemoryDocstore``
replaces on every add; ids cannot be re-added, so no method needs counting), Chroma
(``_index_chroma``); any other store records its class and embedding model only.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from spyglass.integrations._hooks import PostImportFinder
from spyglass.integrations._index import (
    Attributes,
    Description,
    Fingerprints,
    Mutations,
    Reader,
    class_names,
    model_name,
)
from spyglass.integrations._index_chroma import ChromaReader
from spyglass.integrations.langchain._spans import callback_failed

_MODULE = "langchain_core.retrievers"
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

    def __init__(self) -> None:
        self.fingerprints = Fingerprints()
        self.mutations = Mutations()
        self._readers: dict[type, Reader] = {}
        self._hook = PostImportFinder()
        self._lock = threading.Lock()
        self._restore: Callable[[], None] | None = None
        self.closed = False

    def attach(self) -> None:
        """Wrap ``BaseRetriever`` now if its module is imported, else when it is."""
        self._hook.watch(_MODULE, self._wrap)

    def _wrap(self, module: ModuleType) -> None:
        with self._lock:
            if self._restore is None and not self.closed:
                self._restore = _wrap_retriever(module.BaseRetriever, self)

    def close(self) -> None:
        """Remove the hook and restore every wrapped method (uninstall)."""
        self._hook.remove()
        with self._lock:
            self.closed = True
            restore, self._restore = self._restore, None
        if restore is not None:
            restore()
        self.mutations.close()

    def attributes(self, retriever: object) -> Attributes | None:
        """The index attributes of the retriever's ``vectorstore``; None without one."""
        store = getattr(retriever, "vectorstore", None)
        if store is None or "VectorStore" not in class_names(store):
            return None
        return self.fingerprints.attributes(store, self.reader(store))

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


#: The retriever whose ``invoke`` / ``ainvoke`` runs now in this context, and its probe.
_CURRENT: ContextVar[tuple[IndexProbe, object] | None] = ContextVar(
    "spyglass_langchain_retriever", default=None
)


def current_index_attributes() -> Attributes | None:
    """For ``on_retriever_start``: the index attributes of the retriever being invoked; None
    when there is none (or reading it failed: logged once, never raised)."""
    current = _CURRENT.get()
    if current is None:
        return None
    probe, retriever = current
    try:
        return probe.attributes(retriever)
    except Exception as exc:
        callback_failed("index fingerprint", exc)
        return None


def _wrap_retriever(cls: type, probe: IndexProbe) -> Callable[[], None]:
    """Wrap ``cls.invoke`` and ``cls.ainvoke``; the undo restores both (or, if something
    wrapped them since, leaves that in place and makes ours a pass-through)."""
    sync = cls.__dict__["invoke"]
    asynchronous = cls.__dict__["ainvoke"]

    @functools.wraps(sync)
    def invoke(self: object, *args: Any, **kwargs: Any) -> Any:
        if probe.closed:
            return sync(self, *args, **kwargs)
        token = _CURRENT.set((probe, self))
        try:
            return sync(self, *args, **kwargs)
        finally:
            _CURRENT.reset(token)

    @functools.wraps(asynchronous)
    async def ainvoke(self: object, *args: Any, **kwargs: Any) -> Any:
        if probe.closed:
            return await asynchronous(self, *args, **kwargs)
        token = _CURRENT.set((probe, self))
        try:
            return await asynchronous(self, *args, **kwargs)
        finally:
            _CURRENT.reset(token)

    wrapped = {"invoke": (invoke, sync), "ainvoke": (ainvoke, asynchronous)}
    for name, (wrapper, _) in wrapped.items():
        setattr(cls, name, wrapper)

    def restore() -> None:
        for name, (wrapper, original) in wrapped.items():
            if cls.__dict__.get(name) is wrapper:
                setattr(cls, name, original)

    return restore
