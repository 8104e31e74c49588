"""How long ``spyglass.autolog()`` takes, and what it imports.

Budget (DESIGN.md): autolog() ≤ 50 ms, and no framework imported that the program has not
imported itself. Each measurement runs in a fresh interpreter (imports are cached per process),
repeated, medians reported. "cold" imports spyglass's tracing modules and the OTel SDK inside
the measured time; the stdlib modules any LLM app has already loaded (logging, json, asyncio,
sqlite3, ...) are imported first so they are not charged to spyglass. "call" is the autolog()
call alone, after its modules are imported.

    python benchmarks/autolog_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

PRELUDE = (
    "import logging, json, dataclasses, inspect, pathlib, typing, threading, contextvars, "
    "asyncio, sqlite3, uuid, platform, tempfile, time, sys\n"
)
MEASURE = (
    PRELUDE
    + """
t0 = time.perf_counter()
import spyglass
spyglass.autolog(db=sys.argv[1])
t1 = time.perf_counter()
spyglass.autolog(disable=True)
import spyglass.tracer._pipeline  # already loaded: the second autolog times the call alone
t2 = time.perf_counter()
spyglass.autolog(db=sys.argv[1])
t3 = time.perf_counter()
frameworks = sorted({m.split(".")[0] for m in sys.modules
                     if m.split(".")[0] in {"langchain_core", "langchain", "llama_index",
                                            "openai", "anthropic", "textual"}})
print(json.dumps({"cold": (t1 - t0) * 1e3, "call": (t3 - t2) * 1e3, "frameworks": frameworks}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cold: list[float] = []
    call: list[float] = []
    frameworks: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            out = subprocess.run(
                [sys.executable, "-c", MEASURE, f"{tmp}/run{i}.db"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result = json.loads(out)
            cold.append(result["cold"])
            call.append(result["call"])
            frameworks.update(result["frameworks"])
    print(f"{'measure':<44}{'median ms':>10}{'min ms':>9}{'budget':>9}")
    rows = (
        ("import spyglass + first autolog() (cold)", cold, 50.0),
        ("autolog() call, modules already imported", call, 50.0),
    )
    for label, values, budget in rows:
        median = statistics.median(values)
        print(f"{label:<44}{median:>10.1f}{min(values):>9.1f}{budget:>9.0f}")
    print(f"frameworks imported by autolog(): {', '.join(sorted(frameworks)) or 'none'}")


if __name__ == "__main__":
    main()
