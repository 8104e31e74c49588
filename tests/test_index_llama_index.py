"""Which index answered a LlamaIndex retrieval, recorded by autolog on the retriever span: a
``VectorStoreIndex`` over the default in-memory stores; the fingerprint follows inserts,
deletes, ``update_ref_doc`` and upserts, is computed incrementally, and is the same for two
indexes built from the same documents."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from llama_fakes import DOCS, HashEmbedding, rag_index
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode

import spyglass
from spyglass.integrations import _index
from spyglass.integrations._index import fingerprint_of
from spyglass.tracer import attributes as A

PREFIX = "spyglass.retrieval.index."


@pytest.fixture
def li(db: Path) -> Path:
    spyglass.autolog(db=db, integrations=["llama_index"])
    return db


def retriever_indexes(db: Path) -> list[dict[str, object]]:
    """The index attributes of every RETRIEVER span, oldest first."""
    assert spyglass.flush()
    store = spyglass.Store(db)
    spans = [
        span
        for summary in store.traces(limit=1000)
        for span in store.trace(summary.trace_id).spans
        if span.kind == "RETRIEVER"
    ]
    spans.sort(key=lambda span: span.start_ns)
    return [{k: v for k, v in s.attributes.items() if k.startswith(PREFIX)} for s in spans]


def contents(index: VectorStoreIndex) -> list[tuple[str, object]]:
    nodes = index.docstore.get_nodes(list(index.index_struct.nodes_dict.values()))
    return [(n.get_content(metadata_mode=MetadataMode.NONE), n.metadata) for n in nodes]


def test_vector_store_index_is_described(li: Path) -> None:
    index = rag_index()
    index.as_retriever(similarity_top_k=2).retrieve("lighthouse lamp")
    assert retriever_indexes(li) == [
        {
            A.SPYGLASS_INDEX_CLASS: "SimpleVectorStore",
            A.SPYGLASS_INDEX_NAME: index.index_id,
            A.SPYGLASS_INDEX_EMBEDDING_MODEL: "hash-embedding",
            A.SPYGLASS_INDEX_EMBEDDING_DIMENSION: 32,
            A.SPYGLASS_INDEX_DOCUMENT_COUNT: len(DOCS),
            A.SPYGLASS_INDEX_FINGERPRINT: fingerprint_of(
                [(text, {"n": i}) for i, text in enumerate(DOCS)]
            ),
        }
    ]


def test_two_indexes_of_the_same_documents_agree(li: Path) -> None:
    rag_index().as_retriever().retrieve("tides")
    rag_index().as_retriever().retrieve("tides")
    first, second = retriever_indexes(li)
    assert first[A.SPYGLASS_INDEX_NAME] != second[A.SPYGLASS_INDEX_NAME]  # random index ids
    assert first[A.SPYGLASS_INDEX_FINGERPRINT] == second[A.SPYGLASS_INDEX_FINGERPRINT]


def test_fingerprint_follows_the_index(li: Path) -> None:
    index = VectorStoreIndex.from_documents(
        [Document(text=t, id_=f"doc{i}", metadata={"n": i}) for i, t in enumerate(DOCS)],
        embed_model=HashEmbedding(),
    )
    retriever = index.as_retriever()
    expected = []

    def retrieve() -> None:
        retriever.retrieve("lamp")
        expected.append(fingerprint_of(contents(index)))

    retrieve()
    retrieve()
    index.insert(Document(text="A new page on lighthouses.", id_="doc9"))
    retrieve()
    index.delete_ref_doc("doc9", delete_from_docstore=True)
    retrieve()
    index.update_ref_doc(Document(text="Sourdough needs patience.", id_="doc1", metadata={"n": 1}))
    retrieve()
    node_id = next(iter(index.index_struct.nodes_dict.values()))
    index.insert_nodes([TextNode(text="Replaced in place.", id_=node_id, embedding=[0.1] * 32)])
    asyncio.run(retriever.aretrieve("lamp"))
    expected.append(fingerprint_of(contents(index)))
    got = [attrs[A.SPYGLASS_INDEX_FINGERPRINT] for attrs in retriever_indexes(li)]
    assert got == expected
    assert got[0] == got[1] == got[3] and len(set(got)) == 4
    counts = [attrs[A.SPYGLASS_INDEX_DOCUMENT_COUNT] for attrs in retriever_indexes(li)]
    assert counts == [4, 4, 5, 4, 4, 4]


def test_digests_only_what_changed(li: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    digested: list[str] = []
    real = _index.document_digest

    def counting(text: str, metadata: object) -> int:
        digested.append(text)
        return real(text, metadata)

    monkeypatch.setattr(_index, "document_digest", counting)
    index = rag_index()
    retriever = index.as_retriever()
    for _ in range(10):
        retriever.retrieve("lamp")
    assert len(digested) == len(DOCS)  # once, at the first retrieval
    index.insert(Document(text="One more."))
    for _ in range(10):
        retriever.retrieve("lamp")
    assert digested[len(DOCS) :] == ["One more."]


class Keywords(BaseRetriever):
    """A retriever over no index."""

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [NodeWithScore(node=TextNode(text=query_bundle.query_str), score=1.0)]


def test_a_retriever_without_an_index_gets_no_index_attributes(li: Path) -> None:
    assert Keywords().retrieve("x")[0].node.get_content() == "x"
    assert retriever_indexes(li) == [{}]


def test_disable_restores_the_index_methods(db: Path) -> None:
    originals = {
        name: VectorStoreIndex.__dict__[name] for name in ("insert_nodes", "ainsert_nodes")
    }
    spyglass.autolog(db=db, integrations=["llama_index"])
    rag_index().as_retriever().retrieve("lamp")
    assert VectorStoreIndex.__dict__["insert_nodes"] is not originals["insert_nodes"]
    spyglass.autolog(disable=True)
    assert {name: VectorStoreIndex.__dict__[name] for name in originals} == originals


def test_node_contents_read_from_the_docstore_dict_match_the_rebuilt_nodes() -> None:
    from spyglass.integrations._index import Mutations
    from spyglass.integrations.llama_index._index import DocstoreReader

    index = rag_index()
    reader = DocstoreReader(Mutations())
    records = reader.records(index)
    assert len(records) == len(DOCS) and all(isinstance(r, dict) for _, r in records)
    for key, record in records:  # the fast path (the stored dict) and get_node agree
        assert reader.content(index, key, record) == reader.content(index, key, None)


def test_chroma_vector_store(li: Path) -> None:
    chromadb = pytest.importorskip("chromadb")
    chroma = pytest.importorskip("llama_index.vector_stores.chroma")
    from llama_index.core import StorageContext

    client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
    store = chroma.ChromaVectorStore(chroma_collection=client.create_collection("handbook"))
    index = VectorStoreIndex.from_documents(
        [Document(text=text, metadata={"n": i}) for i, text in enumerate(DOCS)],
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=HashEmbedding(),
    )
    retriever = index.as_retriever()
    retriever.retrieve("lamp")
    index.insert(Document(text="One more.", metadata={"n": 9}))
    retriever.retrieve("lamp")
    rag_index().as_retriever().retrieve("lamp")  # the same documents, in memory
    first, grown, in_memory = retriever_indexes(li)
    assert first[A.SPYGLASS_INDEX_CLASS] == "ChromaVectorStore"
    assert first[A.SPYGLASS_INDEX_NAME] == "handbook"
    assert first[A.SPYGLASS_INDEX_EMBEDDING_DIMENSION] == 32
    assert (first[A.SPYGLASS_INDEX_DOCUMENT_COUNT], grown[A.SPYGLASS_INDEX_DOCUMENT_COUNT]) == (
        4,
        5,
    )
    # LlamaIndex's own bookkeeping in Chroma's metadata (random ids) does not count
    assert first[A.SPYGLASS_INDEX_FINGERPRINT] == in_memory[A.SPYGLASS_INDEX_FINGERPRINT]
    assert grown[A.SPYGLASS_INDEX_FINGERPRINT] != first[A.SPYGLASS_INDEX_FINGERPRINT]
