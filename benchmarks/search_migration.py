"""The stemmed search index: how long ``008_search_stems`` takes to rebuild an older file's
index, and what searching costs before and after.

The file is ``viewer_scale.py``'s (``--spans`` spans in ten-span RAG traces plus one
1,000-span agent trace; cached in ``$TMPDIR/spyglass-bench``). A copy is turned back into what
an older spyglass left: its index rebuilt with the tokenizer of ``003_search_index``
(``unicode61``) from the same text, and ``008_search_stems`` struck from the migrations table.
Then:

* before: the SQL of ``Store.search`` (newest 50 matching spans) on the old index, with the
  queries an older spyglass sent (each word quoted);
* the migration: ``open_for_write`` on the old copy, which applies ``008_search_stems`` (one
  run: it is a one-off, and each run needs a fresh copy);
* after: the same SQL on the migrated file with today's queries (stems; ``word*`` prefixes),
  and ``spyglass search`` in process (store opened, hits rendered), against the budget of
  ``search`` ≤ 0.2 s on 1,000,000 spans.

    python benchmarks/search_migration.py [--spans 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from viewer_scale import BENCH_DIR, _render, dataset, median_time  # the script's folder

from spyglass.tracer._db import open_for_write
from spyglass.tracer._filters import fts_query
from spyglass.tracer._reindex import rebuild_search_index

SEARCH_SQL = (
    "SELECT s.id, s.trace_id, s.span_id, s.name, s.kind, s.start_ns, t.name, s.attributes, "
    "s.status_message FROM search JOIN spans s ON s.id = search.rowid "
    "LEFT JOIN traces t ON t.trace_id = s.trace_id "
    "WHERE search MATCH ? ORDER BY search.rowid DESC LIMIT 50"
)
QUERIES = ("refund warranty", "refunds", "cancelled subscriptions", "refund*", "ref*", "xyzzy")


def _old_query(text: str) -> str:
    """What an older spyglass sent: every word quoted, no prefixes."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def make_old(new: Path, old: Path) -> None:
    shutil.copyfile(new, old)
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    rebuild_search_index(conn, "unicode61")
    conn.execute("DELETE FROM _spyglass_migrations WHERE name = '008_search_stems'")
    conn.execute("COMMIT")
    conn.close()


def sql_times(db: Path, queries: dict[str, str], repeats: int) -> dict[str, tuple[float, int]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    out = {}
    for label, query in queries.items():
        hits = len(conn.execute(SEARCH_SQL, (query,)).fetchall())
        median, _ = median_time(lambda q=query: conn.execute(SEARCH_SQL, (q,)).fetchall(), repeats)
        out[label] = (median, hits)
    conn.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("XDG_CACHE_HOME", str(BENCH_DIR / "cache"))
    new, _ = dataset(args.spans)
    old = BENCH_DIR / f"search_old_{args.spans}.db"
    make_old(new, old)
    size = old.stat().st_size / 1e9
    print(f"{old}: {args.spans:,} spans, {size:.2f} GB")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    before = sql_times(old, {q: _old_query(q) for q in QUERIES}, args.repeats)
    started = time.perf_counter()
    open_for_write(old).close()
    migration = time.perf_counter() - started
    after = sql_times(old, {q: fts_query(q) for q in QUERIES}, args.repeats)
    per_span = migration / args.spans * 1e6
    print(f"migration 008_search_stems: {migration:.1f} s ({per_span:.0f} µs per span)\n")
    print(f"{'query':<26} {'before':>9} {'hits':>5} {'after':>9} {'hits':>5}")
    for query in QUERIES:
        (b, bh), (a, ah) = before[query], after[query]
        print(f"{query:<26} {b * 1000:7.1f}ms {bh:5} {a * 1000:7.1f}ms {ah:5}")
    from spyglass.tracer._store import Store
    from spyglass.viewer._static import search_table

    def command() -> None:
        with Store(old) as store:
            _render(search_table(store.search("refund warranty")))

    median, fastest = median_time(command, args.repeats)
    verdict = "ok" if median <= 0.2 or args.spans < 1_000_000 else "OVER BUDGET"
    print(
        f"\nspyglass search 'refund warranty' in process: {median:.3f} s (fastest {fastest:.3f})"
        f"; budget 0.2 s on 1,000,000 spans: {verdict}"
    )
    old.unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{old}{extra}").unlink(missing_ok=True)
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
