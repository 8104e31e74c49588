"""The index fingerprint itself: what it covers, that it is the same in every process, that the
cache re-reads a store only when it changed and then only what changed, that wrapped write
methods are restored exactly, and the Chroma reader on a stand-in collection."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from collections.abc import Hashable
from typing import Any

import pytest

from spyglass.integrations import _index
from spyglass.integrations._index import (
    Description,
    Fingerprints,
    Mutations,
    fingerprint_of,
    model_name,
)
from spyglass.integrations._index_chroma import ChromaReader
from spyglass.tracer import attributes as A

DOCS = [("alpha", {"page": 1, "source": "a.txt"}), ("beta", {"page": 2}), ("gamma", {})]


def test_fingerprint_covers_text_and_metadata_not_order() -> None:
    base = fingerprint_of(DOCS)
    assert len(base) == 16 and int(base, 16) >= 0
    assert fingerprint_of(reversed(DOCS)) == base
    assert fingerprint_of([("alpha", {"source": "a.txt", "page": 1}), *DOCS[1:]]) == base
    changed = {
        "text edited": [("alpha!", DOCS[0][1]), *DOCS[1:]],
        "metadata edited": [("alpha", {"page": 9, "source": "a.txt"}), *DOCS[1:]],
        "document removed": DOCS[:2],
        "document added": [*DOCS, ("delta", {})],
        "duplicate added": [*DOCS, DOCS[2]],
        "metadata moved": [("alpha", {}), ("beta", {"page": 2}), ("gamma", DOCS[0][1])],
    }
    seen = {base}
    for why, docs in changed.items():
        fingerprint = fingerprint_of(docs)
        assert fingerprint not in seen, why
        seen.add(fingerprint)
    assert fingerprint_of([]) != fingerprint_of([("", {})])


def test_fingerprint_is_the_same_in_another_process() -> None:
    docs = [*DOCS, ("ünïcode \U0001f600", {"k": [1, 2.5, None, "x"], "n": {"b": 1, "a": 2}})]
    code = (
        "import json, sys\n"
        "from spyglass.integrations._index import fingerprint_of\n"
        "print(fingerprint_of(json.loads(sys.stdin.read())))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(docs),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == fingerprint_of(docs)


def test_odd_metadata_still_digests() -> None:
    huge = {"n": 2**70, "obj": object.__name__, 3: "non-str key"}
    assert fingerprint_of([("t", huge)]) == fingerprint_of([("t", dict(huge))])
    assert fingerprint_of([("lone \ud800 surrogate", None)])


class Shelf:
    """A toy store: ``docs`` maps id → (text, metadata) tuple, replaced on every write."""

    def __init__(self, docs: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.docs = dict(docs)
        self.writes = 0

    def put(self, key: str, text: str, metadata: dict[str, Any] | None = None) -> None:
        self.docs[key] = (text, metadata or {})
        self.writes += 1


class ShelfReader:
    """A ``Reader`` for ``Shelf`` that counts how often it is asked for what."""

    def __init__(self) -> None:
        self.walks = 0
        self.reads: list[Hashable] = []

    def signal(self, store: Shelf) -> Hashable:
        return (store.writes, len(store.docs))

    def describe(self, store: Shelf) -> Description:
        return Description("Shelf", "books", "words", 3, len(store.docs))

    def records(self, store: Shelf) -> list[tuple[Hashable, object]]:
        self.walks += 1
        return list(store.docs.items())

    def content(self, store: Shelf, key: Hashable, record: Any) -> tuple[str, object]:
        self.reads.append(key)
        return record[0], record[1]


def test_cache_reads_a_store_once_per_change_and_only_what_changed() -> None:
    shelf = Shelf({"a": DOCS[0], "b": DOCS[1], "c": DOCS[2]})
    reader, fingerprints = ShelfReader(), Fingerprints()
    first = fingerprints.attributes(shelf, reader)
    assert first == {
        A.SPYGLASS_INDEX_CLASS: "Shelf",
        A.SPYGLASS_INDEX_NAME: "books",
        A.SPYGLASS_INDEX_EMBEDDING_MODEL: "words",
        A.SPYGLASS_INDEX_EMBEDDING_DIMENSION: 3,
        A.SPYGLASS_INDEX_DOCUMENT_COUNT: 3,
        A.SPYGLASS_INDEX_FINGERPRINT: fingerprint_of(DOCS),
    }
    for _ in range(50):
        assert fingerprints.attributes(shelf, reader) is first
    assert (reader.walks, sorted(map(str, reader.reads))) == (1, ["a", "b", "c"])

    shelf.put("b", "beta, second edition", {"page": 2})
    edited = fingerprints.attributes(shelf, reader)
    assert reader.walks == 2 and reader.reads[3:] == ["b"]  # the others were not re-read
    expected = [DOCS[0], ("beta, second edition", {"page": 2}), DOCS[2]]
    assert edited[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(expected)

    del shelf.docs["b"]
    shelf.writes += 1
    removed = fingerprints.attributes(shelf, reader)
    assert removed[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of([DOCS[0], DOCS[2]])
    assert removed[A.SPYGLASS_INDEX_DOCUMENT_COUNT] == 2
    assert reader.reads[4:] == []


def test_cache_forgets_a_store_that_is_gone() -> None:
    fingerprints = Fingerprints()
    shelf = Shelf({"a": DOCS[0]})
    fingerprints.attributes(shelf, ShelfReader())
    assert len(fingerprints) == 1
    del shelf
    gc.collect()
    assert len(fingerprints) == 0


def test_a_store_that_cannot_be_weakly_referenced_is_described_without_a_fingerprint() -> None:
    """Without a cache entry every retrieval would walk the whole store: no fingerprint."""

    class Plain:
        __slots__ = ("docs", "writes")

    store = Plain()
    store.docs, store.writes = {"a": DOCS[0]}, 0
    fingerprints, reader = Fingerprints(), ShelfReader()
    for _ in range(3):
        got = fingerprints.attributes(store, reader)
    assert got[A.SPYGLASS_INDEX_CLASS] == "Shelf"
    assert A.SPYGLASS_INDEX_FINGERPRINT not in got
    assert (reader.walks, len(fingerprints)) == (0, 0)


class Store:
    def add(self, text: str) -> str:
        return text.upper()

    async def aadd(self, text: str) -> str:
        return text.lower()

    def broken(self) -> None:
        raise KeyError("nope")

    def read(self) -> int:
        return 1


def test_mutations_count_writes_and_restore_exactly() -> None:
    originals = {name: Store.__dict__[name] for name in ("add", "aadd", "broken", "read")}
    mutations = Mutations()
    mutations.watch(Store, ("add", "aadd", "broken", "missing"), id)
    mutations.watch(Store, ("add",), id)  # a second watch wraps nothing twice
    assert Store.__dict__["add"].__wrapped__ is originals["add"]
    store, other = Store(), Store()
    before = mutations.count(id(store))
    assert store.add("x") == "X"
    after_add = mutations.count(id(store))
    assert after_add != before
    assert asyncio.run(store.aadd("Y")) == "y"
    after_aadd = mutations.count(id(store))
    assert after_aadd not in (before, after_add)
    with pytest.raises(KeyError, match="nope"):  # the app's exception, unchanged
        store.broken()
    assert mutations.count(id(store)) != after_aadd  # a failed write may have half-written
    assert store.read() == 1 and mutations.count(id(other)) == 0
    mutations.close()
    assert {name: Store.__dict__[name] for name in originals} == originals
    assert "missing" not in Store.__dict__


def test_mutations_leave_a_later_wrapper_in_place() -> None:
    original = Store.__dict__["add"]
    mutations = Mutations()
    mutations.watch(Store, ("add",), id)
    ours = Store.__dict__["add"]

    def theirs(self: Store, text: str) -> str:
        return "theirs:" + ours(self, text)

    Store.add = theirs  # type: ignore[method-assign]
    try:
        mutations.close()
        assert Store.__dict__["add"] is theirs
        store = Store()
        assert store.add("x") == "theirs:X"
        assert mutations.count(id(store)) == 0  # ours is a pass-through now
    finally:
        Store.add = original  # type: ignore[method-assign]


def test_mutation_clock_values_never_repeat_after_forgetting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_index, "_MAX_COUNTED", 2)
    mutations = Mutations()
    mutations.bump("a")
    seen = mutations.count("a")
    mutations.bump("b")
    mutations.bump("c")  # forgets a and b
    mutations.bump("a")
    assert mutations.count("a") not in (0, seen)


def test_model_name() -> None:
    class Named:
        model = "text-embedding-3-small"

    class Unknown:
        model_name = "unknown"

    assert model_name(Named()) == "text-embedding-3-small"
    assert model_name(Unknown()) == "Unknown"
    assert model_name(len) == "len"  # a plain embedding function: its name
    assert model_name(None) is None


# --- Chroma, on a stand-in collection (the real one: test_index_langchain) -----------------------


class Collection:
    """Stands in for chromadb's ``Collection``: same class name, a chromadb module, same calls."""

    def __init__(self, rows: dict[str, tuple[str, dict[str, Any], list[float]]], cid: str) -> None:
        self.rows, self.id, self.name = rows, cid, "docs"

    def add(self, ids: list[str], documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        for key, text, metadata in zip(ids, documents, metadatas, strict=True):
            self.rows[key] = (text, metadata, [0.0, 1.0])

    def update(self, ids: list[str], documents: list[str]) -> None:
        for key, text in zip(ids, documents, strict=True):
            self.rows[key] = (text, self.rows[key][1], self.rows[key][2])

    def count(self) -> int:
        return len(self.rows)

    def get(self, limit: int | None = None, include: tuple[str, ...] = ()) -> dict[str, Any]:
        keys = list(self.rows)[:limit]
        return {
            "ids": keys,
            "documents": [self.rows[k][0] for k in keys],
            "metadatas": [self.rows[k][1] for k in keys],
            "embeddings": [self.rows[k][2] for k in keys] if "embeddings" in include else None,
        }


Collection.__module__ = "chromadb.api.models.Collection"


class Chroma:
    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._embedding_function = Store()


def test_chroma_reader_sees_writes_through_any_handle_of_the_collection() -> None:
    original = Collection.__dict__["update"]
    rows = {"1": ("alpha", {"p": 1}, [0.0, 1.0]), "2": ("beta", {"p": 2}, [1.0, 0.0])}
    store, other_handle = Chroma(Collection(rows, "c1")), Collection(rows, "c1")
    mutations = Mutations()
    reader, fingerprints = ChromaReader(mutations), Fingerprints()
    first = fingerprints.attributes(store, reader)
    assert first[A.SPYGLASS_INDEX_CLASS] == "Chroma"
    assert first[A.SPYGLASS_INDEX_NAME] == "docs"
    assert first[A.SPYGLASS_INDEX_EMBEDDING_MODEL] == "Store"
    assert first[A.SPYGLASS_INDEX_EMBEDDING_DIMENSION] == 2
    assert first[A.SPYGLASS_INDEX_DOCUMENT_COUNT] == 2
    assert first[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(
        [("alpha", {"p": 1}), ("beta", {"p": 2})]
    )
    assert fingerprints.attributes(store, reader) is first
    other_handle.update(["2"], ["beta v2"])  # same collection id, another Collection object
    edited = fingerprints.attributes(store, reader)
    assert edited[A.SPYGLASS_INDEX_FINGERPRINT] == fingerprint_of(
        [("alpha", {"p": 1}), ("beta v2", {"p": 2})]
    )
    mutations.close()
    assert Collection.__dict__["update"] is original


def test_chroma_reader_refuses_what_is_not_a_collection() -> None:
    class NotChroma:
        _collection = object()

    with pytest.raises(TypeError, match="not a Collection"):
        ChromaReader(Mutations()).signal(NotChroma())
