"""The open LangChain runs: ``run_id`` → span, shared by every spyglass handler of the process.

LangChain names each run's parent by ``parent_run_id``; this table turns that into the OTel
parent without ever attaching a context (attach/detach inside callbacks breaks under batch and
async, see the research notes). Callbacks for one run can arrive on different threads (batch
workers, asyncio executor threads), so the table is locked.

The table is shared so that two handlers seeing the same run (autolog's, plus one the user
passed in ``callbacks=[...]``) make one span: the first to claim a run owns it, the other
ignores it from start to end. Entries leave the table when their run ends, so nothing
accumulates and tests need no reset.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from uuid import UUID

from spyglass.tracer._lite import LiteSpan


@dataclass(eq=False, slots=True)
class Run:
    """One open run: its span and what later callbacks of the run need to know."""

    span: LiteSpan
    owner: object
    kind: str
    capture: bool
    agent_scope: bool = False
    """Inside a ``create_agent`` agent (its children are not agents themselves)."""
    deferred_input: bool = False
    """A streamed run: the real input arrives with the end callback."""
    started_ns: int = 0
    """``time.monotonic_ns()`` at start, for a stream's time to first chunk."""
    streamed: bool = False
    tool_call_id: bool = False
    prompt: dict[str, str] | None = None
    """A registered prompt a child rendered: the next model call of this run used it."""
    request: object = None
    """A model run's prompt (messages or strings, a shallow copy): for a usage estimate."""


class RunTable:
    """``run_id → Run`` map: a claim takes the lock (check and add as one step); a read or a
    removal is a single dict operation, atomic in CPython, so it takes none.

    Keyed by ``UUID.int``: hashing a UUID runs Python code, hashing its int does not, and every
    callback looks a run up a few times.
    """

    def __init__(self) -> None:
        self._runs: dict[int, Run] = {}
        self.lock = threading.Lock()

    def __contains__(self, run_id: UUID) -> bool:
        return run_id.int in self._runs

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, run_id: UUID | None) -> Run | None:
        # One dict lookup is atomic in CPython: no lock to read.
        return self._runs.get(run_id.int) if run_id is not None else None

    def add(self, run_id: UUID, run: Run) -> None:
        """Record a run; call with ``lock`` held, after checking the id is free."""
        self._runs[run_id.int] = run

    def release(self, run_id: UUID, owner: object) -> Run | None:
        """Remove and return the run if ``owner`` owns it."""
        key = run_id.int
        run = self._runs.get(key)  # atomic; only the owner removes its run, once
        if run is None or run.owner is not owner:
            return None
        return self._runs.pop(key, None)

    def release_all(self, owner: object) -> list[Run]:
        """Remove and return every run ``owner`` owns (on uninstall)."""
        with self.lock:
            mine = [(run_id, run) for run_id, run in self._runs.items() if run.owner is owner]
            for run_id, _ in mine:
                del self._runs[run_id]
        return [run for _, run in mine]


#: The process's table: one, so that every handler instance sees every other's runs.
SHARED_RUNS = RunTable()
