"""Reading a Chroma collection for the index fingerprint (LangChain's ``Chroma`` and
LlamaIndex's ``ChromaVectorStore`` both hold a ``chromadb`` ``Collection`` as ``_collection``).

chromadb is never imported here: the collection is recognised by its class name, and its own
methods are called. A Chroma collection keeps its data in Chroma's database, so there is no
cheap way to see a change from outside: even ``count()`` is a query, which would cost a quarter
of a small retrieval. So the signal is only the write clock of the collection's ``add``,
``update``, ``upsert``, ``delete`` and ``modify`` methods, wrapped on first sight and keyed by
the collection's id (two ``Collection`` objects may name one collection). Writes made through
chromadb in this process are seen; writes by another process to a persistent collection are not
until this process writes (the README says so). On a change the collection is read once, whole:
its count, one embedding for the dimension, every document and its metadata.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from spyglass.integrations._index import Description, Mutations, class_names, model_name

_WRITES = ("add", "update", "upsert", "delete", "modify")


def is_collection(obj: object) -> bool:
    """A chromadb ``Collection`` (by class name and module, without importing chromadb)."""
    return "Collection" in class_names(obj) and type(obj).__module__.startswith("chromadb")


def _collection_key(collection: Any) -> Hashable:
    return ("chroma", str(collection.id))


class ChromaReader:
    """A ``Reader`` for a store holding a chromadb collection in ``collection_of(store)``."""

    def __init__(self, mutations: Mutations, collection_attribute: str = "_collection") -> None:
        self._mutations = mutations
        self._attribute = collection_attribute

    def collection(self, store: object) -> Any:
        collection = getattr(store, self._attribute)
        if not is_collection(collection):
            raise TypeError(f"{type(store).__name__}.{self._attribute} is not a Collection")
        self.watch(collection)
        return collection

    def watch(self, collection: object) -> None:
        for cls in type(collection).__mro__:
            if cls.__name__ == "Collection":
                self._mutations.watch(cls, _WRITES, _collection_key)
                return

    def signal(self, store: object) -> Hashable:
        collection = self.collection(store)
        return (id(collection), self._mutations.count(_collection_key(collection)))

    def describe_collection(self, store: object, embedding_model: str | None) -> Description:
        collection = self.collection(store)
        sample = collection.get(limit=1, include=["embeddings"])
        embeddings = sample.get("embeddings") if isinstance(sample, dict) else None
        dimension = None
        if embeddings is not None and len(embeddings):
            dimension = len(embeddings[0])
        return Description(
            store_class=type(store).__name__,
            name=str(collection.name),
            embedding_model=embedding_model,
            embedding_dimension=dimension,
            document_count=int(collection.count()),
        )

    def describe(self, store: object) -> Description:
        embedding = getattr(store, "_embedding_function", None)
        return self.describe_collection(store, model_name(embedding))

    def records(self, store: object) -> list[tuple[Hashable, object]]:
        """Every document, read whole (the record is the ``(text, metadata)`` pair itself)."""
        got = self.collection(store).get(include=["documents", "metadatas"])
        ids = got.get("ids") or []
        documents = got.get("documents") or [None] * len(ids)
        metadatas = got.get("metadatas") or [None] * len(ids)
        return [
            (key, (text or "", metadata or {}))
            for key, text, metadata in zip(ids, documents, metadatas, strict=False)
        ]

    def content(self, store: object, key: Hashable, record: object) -> tuple[str, object]:
        if isinstance(record, tuple) and len(record) == 2:
            return str(record[0]), record[1]
        raise TypeError("not a (text, metadata) pair")
