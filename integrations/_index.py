"""Which vector index answered a retrieval: store class, name, embedding model and dimension,
document count, and a content fingerprint, at a cost per retrieval that does not grow with the
index.

**What the fingerprint covers.** The multiset of ``(text, metadata)`` of the documents (for
LlamaIndex: nodes) the index holds, and nothing else: not the ids, which most stores draw at
random (uuid4), so that two processes indexing the same data get the same fingerprint; not the
vectors, which follow from the text and the embedding model, recorded beside it; not the
insertion order. Each document's digest is BLAKE2b-128 over its UTF-8 text and its metadata as
sorted-key JSON; the digests are added modulo 2**128 (so adding or removing one document
changes the sum by one term, and a duplicate counts twice), and the fingerprint is 16 hex digits
of BLAKE2b over a version tag, the count and that sum. It detects change; it is not a security
hash.

**Why it is cheap.** Each store gets a ``Reader`` (``_index_readers``, the integrations'
``_index`` modules) whose ``signal(store)`` is O(1): the write counter of the store's mutating
methods (``Mutations``), the identity and length of its document dict, its last key. While the
signal is unchanged a retrieval gets the cached attributes (a dict lookup and a tuple compare).
When it changes, ``Fingerprints`` walks the records once, compares each record object with the
one it digested last time (stores replace a record on every write) and digests only the new
ones: once per change, never a re-hash per retrieval. Entries are keyed by the store's identity
and dropped with the store (a weak reference).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import logging
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from opentelemetry.util.types import AttributeValue

from spyglass.tracer import attributes as A

logger = logging.getLogger("spyglass")

#: Mixed into every fingerprint: a change of the recipe changes every fingerprint.
_RECIPE = b"spyglass-index-fingerprint-1"
_MODULUS = 1 << 128
_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
#: Stores whose writes are counted at once; past it the counts start afresh.
_MAX_COUNTED = 65536


@dataclass(frozen=True, slots=True)
class Description:
    """What a reader says about a store besides its contents."""

    store_class: str
    name: str | None = None
    embedding_model: str | None = None
    embedding_dimension: int | None = None
    document_count: int | None = None


class Reader(Protocol):
    """How to read one kind of store (duck-typed; each method may raise, the caller guards)."""

    def signal(self, store: Any) -> Hashable:
        """O(1): changes whenever the store's contents change through its API."""

    def describe(self, store: Any) -> Description:
        """Class, name, embedding model and dimension, document count."""

    def records(self, store: Any) -> Iterable[tuple[Hashable, object]] | None:
        """``(key, record)`` per document: ``record`` is an object the store replaces whenever
        the document changes (None: unknown, re-read it on every change). None: the store's
        contents cannot be read cheaply; no fingerprint."""

    def content(self, store: Any, key: Hashable, record: object) -> tuple[str, object]:
        """A document's text and metadata."""


def _metadata_json(metadata: object) -> bytes:
    if not metadata:
        return b"{}"
    try:
        return orjson.dumps(metadata, default=str, option=_JSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        pass
    try:  # the same shape through the standard library, keys made text so that they sort
        text = json.dumps(_plain(metadata), sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):  # a cycle: nothing stable to hash but this
        text = str(type(metadata))
    return text.encode("utf-8", "surrogatepass")


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def document_digest(text: str, metadata: object) -> int:
    """One document's 128-bit digest: its text and its metadata (sorted-key JSON)."""
    body = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else str(text).encode()
    digest = hashlib.blake2b(digest_size=16)
    digest.update(len(body).to_bytes(8, "little"))
    digest.update(body)
    digest.update(_metadata_json(metadata))
    return int.from_bytes(digest.digest(), "little")


def combine(count: int, total: int) -> str:
    """The fingerprint of ``count`` documents whose digests add up to ``total``."""
    digest = hashlib.blake2b(_RECIPE, digest_size=8)
    digest.update(count.to_bytes(8, "little"))
    digest.update((total % _MODULUS).to_bytes(16, "little"))
    return digest.hexdigest()


def fingerprint_of(documents: Iterable[tuple[str, object]]) -> str:
    """The fingerprint of ``(text, metadata)`` pairs, from scratch (tests, one-off use)."""
    count = total = 0
    for text, metadata in documents:
        count += 1
        total += document_digest(text, metadata)
    return combine(count, total)


Attributes = dict[str, AttributeValue]


def index_attributes(description: Description, fingerprint: str | None) -> Attributes:
    """The ``spyglass.retrieval.index.*`` attributes; unknown facts are left out."""
    pairs: Attributes = {A.SPYGLASS_INDEX_CLASS: description.store_class}
    optional: tuple[tuple[str, AttributeValue], ...] = (
        (A.SPYGLASS_INDEX_NAME, description.name),
        (A.SPYGLASS_INDEX_EMBEDDING_MODEL, description.embedding_model),
        (A.SPYGLASS_INDEX_EMBEDDING_DIMENSION, description.embedding_dimension),
        (A.SPYGLASS_INDEX_DOCUMENT_COUNT, description.document_count),
        (A.SPYGLASS_INDEX_FINGERPRINT, fingerprint),
    )
    pairs.update((key, value) for key, value in optional if value is not None)
    return pairs


@dataclass(slots=True)
class _Entry:
    ref: weakref.ref[Any]
    signal: Hashable
    attributes: Attributes
    digests: dict[Hashable, tuple[object, int]] = field(default_factory=dict)


class Fingerprints:
    """The per-store cache: attributes while the signal holds, an incremental update when not."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def attributes(self, store: object, reader: Reader) -> Attributes:
        """The index attributes of ``store`` now (the cached dict: do not change it)."""
        signal = reader.signal(store)
        entry = self._entries.get(id(store))
        if entry is not None and entry.signal == signal and entry.ref() is store:
            return entry.attributes
        with self._lock:
            return self._refresh(store, reader, signal)

    def _refresh(self, store: object, reader: Reader, signal: Hashable) -> Attributes:
        key = id(store)
        entry = self._entries.get(key)
        if entry is not None and entry.ref() is not store:
            entry = None  # a dead store's id, reused
        if entry is not None and entry.signal == signal:
            return entry.attributes  # another thread refreshed it meanwhile
        description = reader.describe(store)
        try:
            ref = weakref.ref(store, functools.partial(self._forget, key))
        except TypeError:  # not weak-referenceable: no cache, so no fingerprint (a walk a call)
            return index_attributes(description, None)
        previous = entry.digests if entry is not None else {}
        digests = _digests(store, reader, previous)
        fingerprint = None
        if digests is not None:
            fingerprint = combine(len(digests), sum(digest for _, digest in digests.values()))
        attributes = index_attributes(description, fingerprint)
        self._entries[key] = _Entry(ref, signal, attributes, digests or {})
        return attributes

    def _forget(self, key: int, ref: weakref.ref[Any]) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.ref is ref:
            self._entries.pop(key, None)


def _digests(
    store: object, reader: Reader, previous: dict[Hashable, tuple[object, int]]
) -> dict[Hashable, tuple[object, int]] | None:
    """Each document's digest, reusing those whose record object is the one digested before."""
    records = reader.records(store)
    if records is None:
        return None
    digests: dict[Hashable, tuple[object, int]] = {}
    for key, record in records:
        known = previous.get(key)
        if known is not None and record is not None and known[0] is record:
            digests[key] = known
            continue
        text, metadata = reader.content(store, key, record)
        digests[key] = (record, document_digest(text, metadata))
    return digests


class Mutations:
    """Write clocks per store, bumped by the store classes' mutating methods, which this
    wraps on first use (``watch``) and restores on ``close``: the O(1) part of a signal that
    sees an in-place update (a re-added id), which a length or a last key does not."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}
        self._clock = 0
        self._undo: list[Callable[[], None]] = []
        self._watched: set[tuple[type, str]] = set()
        self._lock = threading.Lock()
        self.active = True

    def count(self, key: Hashable) -> int:
        return self._counts.get(key, 0)

    def bump(self, key: Hashable) -> None:
        # A process-wide clock, not a per-key count: a value never repeats, so forgetting the
        # counts (too many keys) can cost a needless refresh but never hide a write.
        if len(self._counts) >= _MAX_COUNTED:
            self._counts.clear()
        self._clock += 1
        self._counts[key] = self._clock

    def watch(self, cls: type, names: Iterable[str], key: Callable[[Any], Hashable]) -> None:
        """Count calls of ``cls``'s methods ``names`` per ``key(self)`` (once per class)."""
        with self._lock:
            if not self.active:
                return
            for name in names:
                original = cls.__dict__.get(name)
                if (cls, name) in self._watched or not callable(original):
                    continue
                self._watched.add((cls, name))
                self._undo.append(_wrap(cls, name, original, self, key))

    def close(self) -> None:
        """Restore every wrapped method (uninstall)."""
        with self._lock:
            self.active = False
            undo, self._undo = self._undo, []
            self._watched.clear()
        for restore in reversed(undo):
            restore()
        self._counts.clear()


def _wrap(
    cls: type,
    name: str,
    original: Callable[..., Any],
    mutations: Mutations,
    key: Callable[[Any], Hashable],
) -> Callable[[], None]:
    """Replace ``cls.name`` by a wrapper that bumps the counter after each call; the undo puts
    the original back, or, if something wrapped it since, makes ours a plain pass-through."""

    def bump(obj: object) -> None:
        if mutations.active:
            try:
                mutations.bump(key(obj))
            except Exception:  # never into the app: the next write or signal catches up
                logger.debug("spyglass could not count a write to %s", name, exc_info=True)

    wrapper: Callable[..., Any]
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def wrapper(self: object, *args: Any, **kwargs: Any) -> Any:
            try:
                return await original(self, *args, **kwargs)
            finally:
                bump(self)

    else:

        @functools.wraps(original)
        def wrapper(self: object, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(self, *args, **kwargs)
            finally:
                bump(self)

    setattr(cls, name, wrapper)

    def restore() -> None:
        if cls.__dict__.get(name) is wrapper:
            setattr(cls, name, original)

    return restore


def class_names(obj: object) -> frozenset[str]:
    """The names of the classes ``obj`` is an instance of (to match a store without importing
    its library)."""
    return frozenset(cls.__name__ for cls in type(obj).__mro__)


def model_name(embedding: object) -> str | None:
    """An embedding object's model name, else its class name (a plain function: its name)."""
    if embedding is None:
        return None
    if inspect.isroutine(embedding):
        name = getattr(embedding, "__qualname__", None)
        return name if isinstance(name, str) else None
    for attribute in ("model", "model_name", "deployment", "model_id"):
        value = getattr(embedding, attribute, None)
        if isinstance(value, str) and value and value != "unknown":
            return value
    return type(embedding).__name__
