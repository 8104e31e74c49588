"""Concurrent registration from real processes: distinct numbers, nothing lost, no duplicates."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from spyglass.prompts import PromptRegistry

PROCESSES = 4
EACH = 10


def _register_many(db: str, worker: int, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    registry = PromptRegistry(db)
    for i in range(EACH):
        registry.register("qa", f"worker {worker} template {i}: {{question}}", f"w{worker}-{i}")
    registry.close()


def test_processes_registering_one_name_get_distinct_versions(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    PromptRegistry(db).close()  # created and migrated once, so the workers race on versions
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [
        ctx.Process(target=_register_many, args=(str(db), n, start)) for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    versions = PromptRegistry(db).versions("qa")
    assert [v.version for v in versions] == list(range(1, PROCESSES * EACH + 1))
    messages = {v.message for v in versions}
    assert messages == {f"w{w}-{i}" for w in range(PROCESSES) for i in range(EACH)}
    # Each worker's own registrations keep their order (a writer never overtakes itself).
    for w in range(PROCESSES):
        mine = [v for v in versions if (v.message or "").startswith(f"w{w}-")]
        assert [v.message for v in mine] == [f"w{w}-{i}" for i in range(EACH)]


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    registry = PromptRegistry(tmp_path / "fork.db")
    registry.register("qa", "parent {x}")
    pid = os.fork()
    if pid == 0:  # the child: register through the inherited object, then exit at once
        try:
            registry.register("qa", "child {x}")
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert [v.template for v in registry.versions("qa")] == ["parent {x}", "child {x}"]
