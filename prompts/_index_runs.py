"""The linked traces of two prompt versions, split by the index that answered them.

``prompts diff`` compares what two versions did; when the traces of either were answered by
more than one index (``spyglass.retrieval.index.*`` on their RETRIEVER spans: a different
fingerprint, class or name), a change in the figures may come from the index rather than the
prompt. ``IndexRunStats`` holds, for one index, the ``RunStats`` of each version's traces that
it answered. A trace that asked two indexes counts under both. The read goes from a version's
linked traces (the ``spans_prompt`` index) to their spans by ``trace_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spyglass.prompts._diff import RunStats
from spyglass.tracer import attributes as A
from spyglass.tracer._index_stats import index_key

IndexKey = tuple[str, str | None, str | None]
"""``(class, fingerprint, name)`` of an index; the name only without a fingerprint."""
Query = Callable[[str, tuple[object, ...]], list[tuple[Any, ...]]]


def _attr(name: str) -> str:
    return f"json_extract(s.attributes, '$.\"{name}\"')"


_ROWS = (
    f"SELECT DISTINCT s.trace_id, {_attr(A.SPYGLASS_INDEX_CLASS)}, "
    f"{_attr(A.SPYGLASS_INDEX_NAME)}, {_attr(A.SPYGLASS_INDEX_FINGERPRINT)}, "
    f"{_attr(A.SPYGLASS_INDEX_DOCUMENT_COUNT)}, "
    "t.error_count > 0, t.end_ns - t.start_ns, t.input_tokens, t.output_tokens "
    "FROM traces t JOIN spans s ON s.trace_id = t.trace_id "
    "WHERE t.trace_id IN (SELECT trace_id FROM spans WHERE prompt_name = ? "
    "AND prompt_version = ?) AND s.kind = 'RETRIEVER'"
)


@dataclass(frozen=True)
class IndexRunStats:
    """One index, and what the traces of each version that it answered show."""

    index_class: str
    index_name: str | None
    fingerprint: str | None
    document_count: int | None
    a: RunStats
    b: RunStats

    @property
    def label(self) -> str:
        """``Class name`` (the name when there is one)."""
        name = f" {self.index_name}" if self.index_name else ""
        return f"{self.index_class}{name}"

    def to_dict(self) -> dict[str, object]:
        return {
            "index_class": self.index_class,
            "index_name": self.index_name,
            "fingerprint": self.fingerprint,
            "document_count": self.document_count,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
        }


def _by_index(
    query: Query, name: str, version: int, names: dict[IndexKey, set[str | None]]
) -> dict[IndexKey, list[tuple[Any, ...]]]:
    grouped: dict[IndexKey, list[tuple[Any, ...]]] = {}
    seen: set[tuple[object, IndexKey]] = set()
    for trace_id, cls, index_name, fp, docs, *figures in query(_ROWS, (name, str(version))):
        if cls is None:
            continue
        key = index_key(cls, index_name, fp)
        names.setdefault(key, set()).add(None if index_name is None else str(index_name))
        if (trace_id, key) not in seen:  # a trace counts once per index
            seen.add((trace_id, key))
            grouped.setdefault(key, []).append((docs, *figures))
    return grouped


def index_run_stats(
    query: Query, a: tuple[str, int, str], b: tuple[str, int, str]
) -> tuple[IndexRunStats, ...]:
    """Per index, the run stats of versions ``a`` and ``b`` (each ``(name, version, ref)``);
    empty unless more than one index answered their traces."""
    names: dict[IndexKey, set[str | None]] = {}
    first, second = _by_index(query, *a[:2], names), _by_index(query, *b[:2], names)
    keys = sorted(set(first) | set(second), key=lambda k: (k[0], k[1] or "", k[2] or ""))
    if len(keys) < 2:
        return ()
    out = []
    for key in keys:
        rows_a, rows_b = first.get(key, []), second.get(key, [])
        counts = [row[0] for row in (*rows_a, *rows_b) if isinstance(row[0], int)]
        shared = names[key]
        out.append(
            IndexRunStats(
                index_class=key[0],
                index_name=next(iter(shared)) if len(shared) == 1 else None,
                fingerprint=key[1],
                document_count=max(counts) if counts else None,
                a=RunStats.from_rows(a[2], _figures(rows_a)),
                b=RunStats.from_rows(b[2], _figures(rows_b)),
            )
        )
    return tuple(out)


def _figures(rows: Sequence[tuple[Any, ...]]) -> list[tuple[object, int, int, int]]:
    return [(row[1], int(row[2] or 0), int(row[3] or 0), int(row[4] or 0)) for row in rows]
