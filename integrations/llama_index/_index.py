"""Which index answered a LlamaIndex retrieval (``spyglass.retrieval.index.*``).

The dispatcher hands the span handler the retriever instance, so no retriever is wrapped: a
``VectorIndexRetriever`` (or any retriever holding a ``VectorStoreIndex`` as ``_index``) names
its index, and the index its vector store, docstore and embedding model.

What is read (see ``_index`` for the fingerprint and the cache):

* **Nodes the index holds**: the node ids of ``index_struct.nodes_dict``, when the vector store
  keeps no text (``SimpleVectorStore``, FAISS, ...; the nodes are in the docstore). Each node's
  record is the docstore's stored dict when the docstore is an in-memory key-value store (its
  ``put`` stores a fresh copy on every write), so a change re-reads only the nodes that
  changed, a ``TextNode``'s text and metadata straight from that dict (rebuilding each node
  would make the first fingerprint of 10,000 nodes take ten times longer); another docstore
  is read whole through ``get_node``, once per change.
* **Signal**: the write clock of ``VectorStoreIndex.insert_nodes`` / ``ainsert_nodes`` (wrapped
  on first sight: a node inserted under an existing id replaces it in place), and the
  identity, length and last key of ``nodes_dict`` (deletions, ``update_ref_doc``).
* **A vector store that keeps the text** (Chroma, ...): its class and name; a Chroma collection
  is read as ``_index_chroma`` says; others get no count and no fingerprint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from typing import Any

from spyglass.integrations._index import (
    Attributes,
    Description,
    Fingerprints,
    Mutations,
    Reader,
    model_name,
)
from spyglass.integrations._index_chroma import ChromaReader, is_collection

logger = logging.getLogger("spyglass")

_INDEX_WRITES = ("insert_nodes", "ainsert_nodes")


def _nodes(index: Any) -> dict[Any, Any]:
    nodes = index.index_struct.nodes_dict
    if not isinstance(nodes, dict):
        raise TypeError("index_struct.nodes_dict is not a dict")
    return nodes


def _stored(docstore: Any) -> dict[Any, Any] | None:
    """The in-memory key-value docstore's dict of stored nodes, if it is one."""
    mappings = getattr(getattr(docstore, "_kvstore", None), "_collections_mappings", None)
    collection = getattr(docstore, "_node_collection", None)
    if isinstance(mappings, dict) and isinstance(collection, str):
        stored = mappings.get(collection)
        return stored if isinstance(stored, dict) else None
    return None


def _dimension(vector_store: Any) -> int | None:
    embeddings = getattr(getattr(vector_store, "data", None), "embedding_dict", None)
    if isinstance(embeddings, dict) and embeddings:
        return len(next(iter(embeddings.values())))
    return None


class DocstoreReader:
    """A ``VectorStoreIndex`` whose nodes are in its docstore."""

    def __init__(self, mutations: Mutations) -> None:
        self._mutations = mutations

    def signal(self, index: Any) -> Hashable:
        nodes = _nodes(index)
        return (
            self._mutations.count(id(index)),
            id(nodes),
            len(nodes),
            next(reversed(nodes), None),
        )

    def describe(self, index: Any) -> Description:
        vector_store = index.vector_store
        return Description(
            store_class=type(vector_store).__name__,
            name=index.index_id if isinstance(index.index_id, str) else None,
            embedding_model=model_name(getattr(index, "_embed_model", None)),
            embedding_dimension=_dimension(vector_store),
            document_count=len(_nodes(index)),
        )

    def records(self, index: Any) -> list[tuple[Hashable, object]]:
        stored = _stored(index.docstore)
        node_ids = list(_nodes(index).values())
        if stored is None:
            return [(node_id, None) for node_id in node_ids]
        return [(node_id, stored.get(node_id)) for node_id in node_ids]

    def content(self, index: Any, key: Hashable, record: object) -> tuple[str, object]:
        data = record.get("__data__") if isinstance(record, dict) else None
        if isinstance(data, dict) and data.get("class_name") == "TextNode":
            text, metadata = data.get("text"), data.get("metadata")
            if isinstance(text, str) and isinstance(metadata, dict):
                return text, metadata  # what get_content(NONE) returns, without a rebuild
        from llama_index.core.schema import MetadataMode

        node = index.docstore.get_node(key)
        return node.get_content(metadata_mode=MetadataMode.NONE), node.metadata


class TextStoreReader:
    """A ``VectorStoreIndex`` over a vector store that keeps the text: class and name."""

    def signal(self, index: Any) -> Hashable:
        return ()

    def describe(self, index: Any) -> Description:
        vector_store = index.vector_store
        name = getattr(vector_store, "collection_name", None) or getattr(
            vector_store, "index_name", None
        )
        return Description(
            store_class=type(vector_store).__name__,
            name=name if isinstance(name, str) else None,
            embedding_model=model_name(getattr(index, "_embed_model", None)),
        )

    def records(self, index: Any) -> None:
        return None

    def content(self, index: Any, key: Hashable, record: object) -> tuple[str, object]:
        raise NotImplementedError


class ChromaIndexReader(ChromaReader):
    """A ``VectorStoreIndex`` over a ``ChromaVectorStore``: the collection, read whole. Each
    record's metadata also holds LlamaIndex's own (the node serialized, its document's random
    id): the node is rebuilt from it so that only the node's text and metadata count, as for a
    docstore."""

    def content(self, store: object, key: Hashable, record: object) -> tuple[str, object]:
        from llama_index.core.schema import MetadataMode
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        text, metadata = super().content(store, key, record)
        if not isinstance(metadata, dict) or "_node_content" not in metadata:
            return text, metadata
        node = metadata_dict_to_node(metadata, text=text)
        return node.get_content(metadata_mode=MetadataMode.NONE), node.metadata

    def collection(self, store: Any) -> Any:
        return super().collection(store.vector_store)

    def describe(self, index: Any) -> Description:
        embedding = model_name(getattr(index, "_embed_model", None))
        description = self.describe_collection(index, embedding)
        return Description(
            store_class=type(index.vector_store).__name__,
            name=description.name,
            embedding_model=description.embedding_model,
            embedding_dimension=description.embedding_dimension,
            document_count=description.document_count,
        )


class IndexProbe:
    """autolog's index recording for LlamaIndex: readers per index class, the cache."""

    def __init__(self) -> None:
        self.fingerprints = Fingerprints()
        self.mutations = Mutations()
        self._readers: dict[tuple[type, type], Reader] = {}
        self._lock = threading.Lock()
        self._failed: set[type[BaseException]] = set()

    def attributes(self, retriever: object) -> Attributes | None:
        """The index attributes of a retriever's index; None when it holds no index, or
        reading it failed (logged once per kind of failure, never raised)."""
        try:
            index = getattr(retriever, "_index", None)
            if index is None or not hasattr(index, "index_struct"):
                return None
            vector_store = getattr(index, "vector_store", None)
            if vector_store is None:
                return None
            return self.fingerprints.attributes(index, self.reader(index, vector_store))
        except Exception as exc:
            key = type(exc)
            (logger.debug if key in self._failed else logger.warning)(
                "spyglass could not read the index of a %s; the retrieval is traced without it",
                type(retriever).__name__,
                exc_info=True,
            )
            self._failed.add(key)
            return None

    def reader(self, index: object, vector_store: object) -> Reader:
        key = (type(index), type(vector_store))
        found = self._readers.get(key)
        if found is None:
            with self._lock:
                found = self._readers[key] = self._new_reader(index, vector_store)
        return found

    def _new_reader(self, index: object, vector_store: object) -> Reader:
        for cls in type(index).__mro__:
            if cls.__name__ == "VectorStoreIndex":
                self.mutations.watch(cls, _INDEX_WRITES, id)
        if not getattr(vector_store, "stores_text", False):
            return DocstoreReader(self.mutations)
        if is_collection(getattr(vector_store, "_collection", None)):
            return ChromaIndexReader(self.mutations)
        return TextStoreReader()

    def close(self) -> None:
        """Restore every wrapped method (uninstall)."""
        self.mutations.close()
