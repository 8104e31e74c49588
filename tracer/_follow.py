"""``spyglass traces --follow``: new traces, printed once each, as they land (like ``tail -f``).

Polling by time window would miss traces that land late (a batch exported after a slow one)
and repeat others. Instead the follower keeps a cursor on the ``traces`` rows (row ids only
grow as traces are added) and waits, per new trace, until its root span has landed: children
usually finish, and are written, before their root, and until then the trace has neither its
name nor its status. A trace whose root never comes (the process died) is shown anyway after
``grace`` seconds. Filters apply when a trace is shown, to its final state.

The change-tracking reads (``data_version`` and the ``traces`` row cursor) live here, beside
their only users (this follower and the live viewer list), not on ``Store``'s public surface.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from spyglass.tracer._filters import TraceFilters, chunks
from spyglass.tracer._records import TraceSummary
from spyglass.tracer._store import Store

#: Remembered shown ids, so a trace is never shown twice; older ones are forgotten.
MAX_REMEMBERED = 10_000
_BATCH = 1000


def data_version(store: Store) -> int:
    """Changes whenever another connection commits to the file (cheap to poll)."""
    return int(store._query("PRAGMA data_version")[0][0])


def trace_cursor(store: Store) -> int:
    """The newest ``traces`` row; rows added later have larger ids."""
    return int(store._query("SELECT coalesce(max(rowid), 0) FROM traces")[0][0])


def trace_heads(store: Store, after: int, limit: int = 1000) -> list[tuple[int, str, bool]]:
    """``(row, trace_id, complete)`` of traces added after row ``after``, oldest first.

    A trace's row lands with its first spans; it is complete once its root span has.
    """
    rows = store._query(
        "SELECT rowid, trace_id, root_span_id IS NOT NULL FROM traces WHERE rowid > ? "
        "ORDER BY rowid LIMIT ?",
        (after, limit),
    )
    return [(int(r[0]), str(r[1]), bool(r[2])) for r in rows]


def completed(store: Store, trace_ids: list[str]) -> set[str]:
    """Which of these traces have their root span."""
    done: set[str] = set()
    for chunk in chunks(trace_ids):
        done.update(
            row[0]
            for row in store._query(
                f"SELECT trace_id FROM traces WHERE trace_id IN "
                f"({', '.join('?' * len(chunk))}) AND root_span_id IS NOT NULL",
                list(chunk),
            )
        )
    return done


class Follower:
    """Yields each new trace once, in start order, as soon as it is complete."""

    def __init__(
        self,
        store: Store,
        filters: TraceFilters,
        *,
        grace: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._filters = filters
        self._grace = grace
        self._clock = clock
        self._cursor = trace_cursor(store)
        self._version: int | None = None
        self._pending: dict[str, float] = {}
        self._shown: OrderedDict[str, None] = OrderedDict()

    def backlog(self, limit: int) -> list[TraceSummary]:
        """The newest ``limit`` matching traces, oldest first (what ``tail`` shows first)."""
        found = self._store.traces(limit=limit, **self._filters)
        self._remember(s.trace_id for s in found)
        return list(reversed(found))

    def _remember(self, trace_ids: Iterable[str]) -> None:
        for trace_id in trace_ids:
            self._shown[trace_id] = None
        while len(self._shown) > MAX_REMEMBERED:
            self._shown.popitem(last=False)

    def poll(self) -> list[TraceSummary]:
        """Traces that became complete (and match) since the last poll."""
        version = data_version(self._store)
        if version == self._version and not self._pending:
            return []  # nothing was written
        self._version = version
        self._collect_new()
        now = self._clock()
        done = completed(self._store, list(self._pending)) if self._pending else set()
        ready = [t for t, seen in self._pending.items() if t in done or now - seen >= self._grace]
        if not ready:
            return []
        for trace_id in ready:
            del self._pending[trace_id]
        self._remember(ready)
        found = self._store.traces(limit=len(ready), trace_ids=ready, **self._filters)
        return sorted(found, key=lambda s: (s.start_ns, s.trace_id))

    def _collect_new(self) -> None:
        top = trace_cursor(self._store)
        if top < self._cursor:
            self._cursor = top  # the file was vacuumed and its rows renumbered
        now = self._clock()
        while True:
            heads = trace_heads(self._store, self._cursor, _BATCH)
            for row, trace_id, _complete in heads:
                self._cursor = max(self._cursor, row)
                if trace_id not in self._shown:
                    self._pending.setdefault(trace_id, now)
            if len(heads) < _BATCH:
                return
