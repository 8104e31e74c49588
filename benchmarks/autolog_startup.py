"""How long ``spyglass.autolog()`` takes, and what it imports.

Budget (DESIGN.md): autolog() ≤ 50 ms, and no framework imported that the program has not
imported itself. Each measurement runs in a fresh interpreter (imports are cached per process),
repeated, medians reported. "cold" imports spyglass's tracing modules and the OTel SDK inside
the measured time; the stdlib modules any LLM app has already loaded (logging, json, asyncio,
sqlite3, ...) are imported first so they are not charged to spyglass. "call" is the autolog()
call alone, after its modules are imported.

Bytecode matters more than anything spyglass imports: an installed wheel has its ``.pyc``
files, but an editable checkout run with ``PYTHONDONTWRITEBYTECODE=1`` compiles every spyglass
module from source at each start. So "cold" is measured both ways: with a bytecode cache
written by one warm-up run (``PYTHONPYCACHEPREFIX``, a temporary folder), and with the same
cache less spyglass's own files.

    python benchmarks/autolog_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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


def _run(db: str, env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, db], capture_output=True, text=True, check=True, env=env
    ).stdout
    return dict(json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cold: dict[str, list[float]] = {"cached": [], "none": []}
    call: list[float] = []
    frameworks: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        cached = {**os.environ, "PYTHONPYCACHEPREFIX": f"{tmp}/pycache"}
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        _run(f"{tmp}/warm.db", cached)  # writes the bytecode cache of everything imported
        # The same cache without spyglass's own files: only the checkout is compiled each time.
        shutil.copytree(f"{tmp}/pycache", f"{tmp}/others")
        for folder in Path(f"{tmp}/others{ROOT}").glob("[!.]*"):  # not .venv's packages
            shutil.rmtree(folder)
        none = {
            **os.environ,
            "PYTHONPYCACHEPREFIX": f"{tmp}/others",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        for i in range(args.runs):  # interleaved, so a busy machine weighs on both alike
            for kind, env in (("cached", cached), ("none", none)):
                result = _run(f"{tmp}/{kind}{i}.db", env)
                cold[kind].append(float(result["cold"]))  # type: ignore[arg-type]
                if kind == "cached":
                    call.append(float(result["call"]))  # type: ignore[arg-type]
                frameworks.update(result["frameworks"])  # type: ignore[arg-type]
    print(f"{'measure':<52}{'median ms':>10}{'min ms':>9}{'budget':>9}")
    rows = (
        ("import spyglass + first autolog(), bytecode cached", cold["cached"], 50.0),
        ("the same, spyglass compiled at each start", cold["none"], 50.0),
        ("autolog() call, modules already imported", call, 50.0),
    )
    for label, values, budget in rows:
        median = statistics.median(values)
        print(f"{label:<52}{median:>10.1f}{min(values):>9.1f}{budget:>9.0f}")
    print(f"frameworks imported by autolog(): {', '.join(sorted(frameworks)) or 'none'}")


if __name__ == "__main__":
    main()
