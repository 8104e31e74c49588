"""The interleaved-rounds harness the overhead benchmarks share.

A ``Variant`` is entered outside the timing (its ``setup`` yields what to call after the timed
calls: a flush, or nothing); ``run_round`` times ``calls`` calls of it, wall and process CPU
(all threads), then the flush. ``print_table`` prints the medians per call against the first
variant, with a "+ export (flush)" row under ``spyglass``: everything spyglass added, the
calling thread's time and its exporter's.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Variant:
    name: str
    setup: Callable[[], AbstractContextManager[Callable[[], None]]]
    """Entered outside the timing; yields what to call after the timed calls (a flush)."""
    config: Any = None
    """Passed to each call (a LangChain ``RunnableConfig``; unused by LlamaIndex)."""
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    drain: list[float] = field(default_factory=list)
    drain_cpu: list[float] = field(default_factory=list)

    def clear(self) -> None:
        """Forget the samples (after the warm-up round)."""
        for samples in (self.wall, self.cpu, self.drain, self.drain_cpu):
            samples.clear()

    def ratio(self, base: Variant) -> tuple[float, float]:
        """Median wall and CPU time per call, as ratios to ``base``'s."""
        return (
            statistics.median(self.wall) / statistics.median(base.wall),
            statistics.median(self.cpu) / statistics.median(base.cpu),
        )

    def with_flush(self) -> tuple[float, float]:
        """Median wall and CPU time per call, the flush after the calls included."""
        walls = [w + d for w, d in zip(self.wall, self.drain, strict=True)]
        cpus = [c + d for c, d in zip(self.cpu, self.drain_cpu, strict=True)]
        return statistics.median(walls), statistics.median(cpus)


@contextmanager
def nothing() -> Iterator[Callable[[], None]]:
    yield lambda: None


def run_round(variant: Variant, calls: int, call: Callable[[int, Any], object]) -> None:
    """``call(i, variant.config)`` for i in range(calls), timed, then the variant's flush."""
    with variant.setup() as finish:
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(calls):
            call(i, variant.config)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        drain, drain_cpu = time.perf_counter(), time.process_time()
        finish()
        drain, drain_cpu = time.perf_counter() - drain, time.process_time() - drain_cpu
    variant.wall.append(wall / calls)
    variant.cpu.append(cpu / calls)
    variant.drain.append(drain / calls)
    variant.drain_cpu.append(drain_cpu / calls)


def _row(name: str, wall: float, cpu: float, base: Variant) -> str:
    base_wall, base_cpu = statistics.median(base.wall), statistics.median(base.cpu)
    return (
        f"| {name:<33} | {wall * 1e3:8.3f} | {wall / base_wall:6.2f} "
        f"| {cpu * 1e3:8.3f} | {cpu / base_cpu:6.2f} |"
    )


def print_table(variants: list[Variant]) -> None:
    """Medians per call of every variant against the first, and spyglass's total."""
    base = variants[0]
    print(f"| {'variant':<33} | wall ms  | ratio  | CPU ms   | ratio  |")
    print(f"|{'-' * 35}|----------|--------|----------|--------|")
    for variant in variants:
        wall, cpu = statistics.median(variant.wall), statistics.median(variant.cpu)
        print(_row(variant.name, wall, cpu, base))
        if variant.name == "spyglass":
            print(_row("spyglass + export (flush)", *variant.with_flush(), base))


CALLS_BUDGET = 1.35
"""Traced calls / untraced calls, wall time, the exporter running alongside in this process."""
PROCESS_BUDGET = 1.50
"""Traced / untraced process CPU (all threads), the calls plus the flush of their spans."""
THREAD_TARGET = 1.15
"""Traced / untraced wall time of the calling thread alone (no exporter): a target, not a gate."""


def check_budget(base: Variant, traced: Variant, hot_path: Variant) -> bool:
    """Print the overhead budget's three figures; True when both gated ones hold."""
    calls, _ = traced.ratio(base)
    process_cpu = traced.with_flush()[1] / statistics.median(base.cpu)
    thread, _ = hot_path.ratio(base)
    held = calls <= CALLS_BUDGET and process_cpu <= PROCESS_BUDGET
    print("\nbudget (traced / untraced):")
    print(f"  calls, exporter alongside (wall) <= {CALLS_BUDGET:.2f}: {calls:.2f}")
    print(f"  whole process CPU, calls + flush <= {PROCESS_BUDGET:.2f}: {process_cpu:.2f}")
    print(f"  your thread alone (target ~{THREAD_TARGET:.2f}, not gated): {thread:.2f}")
    print(f"-> {'PASS' if held else 'FAIL'}")
    return held
