"""A program ending spans while another process holds the database's write lock.

    python benchmarks/locked_database.py [--hold 15] [--spans 14000]

The program ends ``--spans`` spans in rounds of 1,000, sleeping 0.1 s between rounds (its own
work), while a second process holds ``BEGIN IMMEDIATE`` on the file for ``--hold`` seconds;
then, the lock released, it flushes. Each variant runs in a fresh interpreter: the lock held,
and not held (the same loop with the lock taken and given back at once). Printed: the loop's
time, the longest single span end, the spans stored, and the locked loop's time over the free
one's. Before the processor told a stuck writer from a slow one, the longest span end was the
lock's whole hold (9.8 s of 15 s) and the loop took the hold's length.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PROGRAM = """
import json, sqlite3, subprocess, sys, time
import spyglass

db, hold, spans = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
spyglass.autolog(db=db, integrations=())
with spyglass.trace("warm-up"):
    pass
assert spyglass.flush()
holder = subprocess.Popen([sys.executable, "-c", '''
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
''', db, str(hold)], stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline() == "locked\\n"
worst, start = 0.0, time.perf_counter()
for done in range(0, spans, 1000):
    for _ in range(min(1000, spans - done)):
        began = time.perf_counter()
        with spyglass.trace("step"):
            pass
        worst = max(worst, time.perf_counter() - began)
    time.sleep(0.1)
loop = time.perf_counter() - start
holder.wait()
flushed = spyglass.flush(timeout=120)
conn = sqlite3.connect(db)
stored = conn.execute("SELECT count(*) FROM spans WHERE name = 'step'").fetchone()[0]
print(json.dumps({"loop": loop, "worst": worst, "stored": stored, "flushed": flushed}))
"""


def run(hold: float, spans: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="spyglass-locked-") as tmp:
        db = Path(tmp) / "locked.db"
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(PROGRAM), str(db), str(hold), str(spans)],
            capture_output=True,
            text=True,
            check=True,
        )
    outcome: dict[str, float] = json.loads(result.stdout.splitlines()[-1])
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=15.0, help="seconds the lock is held")
    parser.add_argument("--spans", type=int, default=14_000)
    args = parser.parse_args()
    free = run(0.0, args.spans)
    locked = run(args.hold, args.spans)
    print(f"{'variant':<22} {'loop s':>8} {'longest span end ms':>20} {'stored':>8}")
    for name, outcome in (("lock not held", free), (f"lock held {args.hold:g} s", locked)):
        print(
            f"{name:<22} {outcome['loop']:>8.2f} {outcome['worst'] * 1000:>20.1f} "
            f"{int(outcome['stored']):>8}"
        )
    print(f"locked / free loop time: {locked['loop'] / free['loop']:.2f}")


if __name__ == "__main__":
    main()
