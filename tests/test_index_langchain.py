"""Which vector store answered a LangChain retrieval, recorded by autolog on the retriever span:
langchain-core's ``InMemoryVectorStore`` (and a custom retriever holding one), FAISS and Chroma
for real when installed; the fingerprint follows adds, deletes and edits made through the
store's API, stays put otherwise, and is the same in another process for the same data."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import InMemoryVectorStore, VectorStoreRetriever
from langchain_fakes import all_traces

import spyglass
from spyglass.demo import build_chain
from spyglass.integrations import _index
from spyglass.integrations._index import fingerprint_of
from spyglass.tracer import attributes as A

TEXTS = [("The lamp is lit at dusk.", {"page": 1}), ("Tides follow the moon.", {"page": 2})]


@pytest.fixture
def lc(db: Path) -> Path:
    spyglass.autolog(db=db, integrations=["langchain"])
    return db


def make_store(
    texts: list[tuple[str, dict[str, Any]]] = TEXTS, **kwargs: Any
) -> InMemoryVectorStore:
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    store.add_documents([Document(page_content=t, metadata=m) for t, m in texts], **kwargs)
    return store


def index_of(db: Path) -> list[dict[str, object]]:
    """The index attributes of every RETRIEVER span, oldest first."""
    return [
        {k: v for k, v in span.attributes.items() if k.startswith("spyglass.retrieval.index.")}
        for trace in all_traces(db)
        for span in trace.spans
        if span.kind == "RETRIEVER"
    ]


def fingerprints(db: Path) -> list[object]:
    return [attrs.get(A.SPYGLASS_INDEX_FINGERPRINT) for attrs in index_of(db)]


def test_in_memory_store_is_described_on_the_retriever_span(lc: Path) -> None:
    docs = make_store().as_retriever(search_kwargs={"k": 1}).invoke("lamp")
    assert len(docs) == 1
    assert index_of(lc) == [
        {
            A.SPYGLASS_INDEX_CLASS: "InMemoryVectorStore",
            A.SPYGLASS_INDEX_EMBEDDING_MODEL: "DeterministicFakeEmbedding",
            A.SPYGLASS_INDEX_EMBEDDING_DIMENSION: 16,
            A.SPYGLASS_INDEX_DOCUMENT_COUNT: 2,
            A.SPYGLASS_INDEX_FINGERPRINT: fingerprint_of(TEXTS),
        }
    ]


def test_fingerprint_follows_adds_deletes_and_edits_through_the_api(lc: Path) -> None:
    store = make_store(ids=["a", "b"])
    retriever = store.as_retriever()
    retriever.invoke("q")
    retriever.invoke("q")  # unchanged
    store.add_documents([Document(page_content="New page.")], ids=["c"])
    retriever.invoke("q")
    store.delete(["c"])
    retriever.invoke("q")  # back to the same contents: the same fingerprint
    store.add_documents(
        [Document(page_content="The lamp is lit at dawn.", metadata={"page": 1})], ids=["a"]
    )
    retriever.invoke("q")  # edited in place: same id, same count
    asyncio.run(
        store.aadd_documents([Document(page_content="Tides.", metadata={"page": 2})], ids=["b"])
    )
    asyncio.run(retriever.ainvoke("q"))
    base = fingerprint_of(TEXTS)
    edited = [("The lamp is lit at dawn.", {"page": 1}), TEXTS[1]]
    assert fingerprints(lc) == [
        base,
        base,
        fingerprint_of([*TEXTS, ("New page.", {})]),
        base,
        fingerprint_of(edited),
        fingerprint_of([edited[0], ("Tides.", {"page": 2})]),
    ]
    assert [a[A.SPYGLASS_INDEX_DOCUMENT_COUNT] for a in index_of(lc)] == [2, 2, 3, 2, 2, 2]


def test_same_contents_same_fingerprint_whatever_the_ids(lc: Path) -> None:
    make_store().as_retriever().invoke("q")  # random uuid4 ids
    make_store(list(reversed(TEXTS)), ids=["x", "y"]).as_retriever().invoke("q")
    first, second = fingerprints(lc)
    assert first == second == fingerprint_of(TEXTS)


def test_a_custom_retriever_holding_a_vectorstore_is_described(lc: Path) -> None:
    assert build_chain().invoke("Where are the spans stored?")
    (attrs,) = index_of(lc)  # the demo's ScoredRetriever(vectorstore=InMemoryVectorStore)
    assert attrs[A.SPYGLASS_INDEX_CLASS] == "InMemoryVectorStore"
    assert attrs[A.SPYGLASS_INDEX_EMBEDDING_MODEL] == "WordHashEmbeddings"
    assert attrs[A.SPYGLASS_INDEX_EMBEDDING_DIMENSION] == 256


class Lookup(BaseRetriever):
    """A retriever over no vector store."""

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
        return [Document(page_content=query)]


def test_retrievers_without_a_store_and_nested_ones(lc: Path) -> None:
    class Outer(BaseRetriever):
        inner: Any

        def _get_relevant_documents(self, query: str, *, run_manager: Any) -> list[Document]:
            config = {"callbacks": run_manager.get_child()}
            return self.inner.invoke(query, config) + Lookup().invoke(query, config)

    store = make_store()
    assert len(Outer(inner=store.as_retriever(search_kwargs={"k": 1})).invoke("lamp")) == 2
    (trace,) = all_traces(lc)
    by_name = {span.name: span.attributes for span in trace.spans}
    assert A.SPYGLASS_INDEX_CLASS not in by_name["Outer"]
    assert A.SPYGLASS_INDEX_CLASS not in by_name["Lookup"]
    assert by_name["VectorStoreRetriever"][A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(TEXTS)


class CountingDict(dict):  # type: ignore[type-arg]
    """A store's record dict that counts how often all of it is read."""

    walks = 0

    def items(self):  # type: ignore[no-untyped-def]
        type(self).walks += 1
        return super().items()


def test_no_rehash_per_retrieval(lc: Path) -> None:
    store = make_store([(f"document {i}", {"i": i}) for i in range(200)])
    store.store = CountingDict(store.store)
    retriever = store.as_retriever()
    for _ in range(20):
        retriever.invoke("document 3")
    assert CountingDict.walks == 1
    store.add_documents([Document(page_content="one more")])
    for _ in range(20):
        retriever.invoke("document 3")
    assert CountingDict.walks == 2
    assert len(set(fingerprints(lc))) == 2


def test_a_store_that_cannot_be_read_costs_its_attributes_only(
    lc: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Unreadable(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("store is locked")

    store = make_store()
    store.store = Unreadable(store.store)
    expected = InMemoryVectorStore.similarity_search(store, "lamp", k=1)
    with caplog.at_level(logging.WARNING, logger="spyglass"):
        got = store.as_retriever(search_kwargs={"k": 1}).invoke("lamp")
    assert got == expected
    assert index_of(lc) == [{}]
    assert "index fingerprint" in caplog.text


def test_disable_restores_every_method_exactly(db: Path) -> None:
    originals = {
        (cls, name): cls.__dict__[name]
        for cls, names in (
            (BaseRetriever, ("invoke", "ainvoke")),
            (InMemoryVectorStore, ("add_documents", "aadd_documents", "delete")),
            (VectorStoreRetriever, ("_get_relevant_documents",)),
        )
        for name in names
    }
    spyglass.autolog(db=db, integrations=["langchain"])
    make_store().as_retriever().invoke("q")
    assert BaseRetriever.__dict__["invoke"] is not originals[(BaseRetriever, "invoke")]
    assert (
        InMemoryVectorStore.__dict__["add_documents"]
        is not originals[(InMemoryVectorStore, "add_documents")]
    )
    spyglass.autolog(disable=True)
    assert {key: key[0].__dict__[key[1]] for key in originals} == originals
    assert [f for f in sys.meta_path if type(f).__name__ == "PostImportFinder"] == []
    assert make_store().as_retriever(search_kwargs={"k": 1}).invoke("lamp")[0].page_content


def test_index_is_recorded_when_retrievers_are_imported_after_autolog(tmp_path: Path) -> None:
    """autolog does not import ``langchain_core.retrievers``; a hook wraps it on import, in
    time for the very first retrieval."""
    db = tmp_path / "late.db"
    script = textwrap.dedent(
        f"""
        import sys
        import spyglass
        spyglass.autolog(db={str(db)!r}, integrations=["langchain"])
        import langchain_core.callbacks
        assert "langchain_core.retrievers" not in sys.modules
        from langchain_core.documents import Document
        from langchain_core.embeddings import DeterministicFakeEmbedding
        from langchain_core.vectorstores import InMemoryVectorStore
        store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
        store.add_documents([Document(page_content="only")])
        store.as_retriever().invoke("only")
        spyglass.flush()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert fingerprints(db) == [fingerprint_of([("only", {})])]


def test_two_processes_on_the_same_data_agree(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    script = textwrap.dedent(
        f"""
        import spyglass
        from langchain_core.documents import Document
        from langchain_core.embeddings import DeterministicFakeEmbedding
        from langchain_core.vectorstores import InMemoryVectorStore
        spyglass.autolog(db={str(db)!r}, integrations=["langchain"])
        store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
        store.add_documents([Document(page_content=t, metadata=m) for t, m in {TEXTS!r}])
        store.as_retriever().invoke("lamp")
        spyglass.flush()
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert fingerprints(db) == [fingerprint_of(TEXTS)] * 2


def test_untraced_retrievals_are_untouched() -> None:
    store = make_store(ids=["a", "b"])
    assert [d.id for d in store.as_retriever(search_kwargs={"k": 2}).invoke("lamp")] in (
        ["a", "b"],
        ["b", "a"],
    )
    assert "invoke" in BaseRetriever.__dict__ and not hasattr(
        BaseRetriever.__dict__["invoke"], "__wrapped__"
    )


# --- FAISS and Chroma, for real when installed ---------------------------------------------------


def test_faiss(lc: Path) -> None:
    pytest.importorskip("faiss")
    faiss_store = pytest.importorskip("langchain_community.vectorstores")
    store = faiss_store.FAISS.from_texts(
        [t for t, _ in TEXTS], DeterministicFakeEmbedding(size=12), metadatas=[m for _, m in TEXTS]
    )
    retriever = store.as_retriever(search_kwargs={"k": 1})
    retriever.invoke("lamp")
    (added,) = store.add_texts(["A third page."], metadatas=[{"page": 3}])
    retriever.invoke("lamp")
    store.delete([added])
    retriever.invoke("lamp")
    first, grown, back = index_of(lc)
    assert first[A.SPYGLASS_INDEX_CLASS] == "FAISS"
    assert first[A.SPYGLASS_INDEX_EMBEDDING_DIMENSION] == 12
    assert first[A.SPYGLASS_INDEX_DOCUMENT_COUNT] == 2
    assert first[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(TEXTS)  # as in memory
    assert grown[A.SPYGLASS_INDEX_DOCUMENT_COUNT] == 3
    assert grown[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(
        [*TEXTS, ("A third page.", {"page": 3})]
    )
    assert back == first


def test_chroma(lc: Path) -> None:
    chromadb = pytest.importorskip("chromadb")
    langchain_chroma = pytest.importorskip("langchain_chroma")
    client = chromadb.EphemeralClient(settings=chromadb.Settings(anonymized_telemetry=False))
    store = langchain_chroma.Chroma(
        collection_name="manual",
        embedding_function=DeterministicFakeEmbedding(size=8),
        client=client,
    )
    store.add_documents([Document(page_content=t, metadata=m) for t, m in TEXTS], ids=["a", "b"])
    retriever = store.as_retriever(search_kwargs={"k": 1})
    retriever.invoke("lamp")
    retriever.invoke("lamp")
    store.update_document("b", Document(page_content="Tides follow the sun.", metadata={"page": 2}))
    retriever.invoke("lamp")
    first, same, edited = index_of(lc)
    assert first == same
    assert first[A.SPYGLASS_INDEX_CLASS] == "Chroma"
    assert first[A.SPYGLASS_INDEX_NAME] == "manual"
    assert first[A.SPYGLASS_INDEX_EMBEDDING_DIMENSION] == 8
    assert first[A.SPYGLASS_INDEX_DOCUMENT_COUNT] == 2
    assert first[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(TEXTS)
    assert edited[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(
        [TEXTS[0], ("Tides follow the sun.", {"page": 2})]
    )
    spyglass.autolog(disable=True)
    assert not hasattr(type(store._collection).__dict__["update"], "__wrapped__")


def test_fingerprint_module_imports_no_store_library() -> None:
    code = (
        "import sys, spyglass.integrations._index, spyglass.integrations._index_chroma\n"
        "bad = [m for m in ('chromadb', 'faiss', 'langchain_community', 'llama_index.core') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert _index.fingerprint_of([]) == fingerprint_of([])
