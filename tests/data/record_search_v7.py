"""Records ``search_v7.db`` beside this file: the tests' viewer file (``viewer_data.build``) as
spyglass wrote it before ``008_search_stems``, with the search index of migration
``003_search_index`` (``unicode61``, no stemming). ``tests/test_search_stems.py`` migrates
copies of it.

Run with a spyglass from before that migration (commit 554379d or earlier), from a checkout::

    git worktree add /tmp/old 554379d && cd /tmp/old
    python -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python \
        /path/to/this/tests/data/record_search_v7.py
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from viewer_data import build  # noqa: E402  (the tests folder is on the path now)

OUT = HERE / "search_v7.db"


def main() -> None:
    OUT.unlink(missing_ok=True)
    build(OUT)
    conn = sqlite3.connect(OUT, isolation_level=None)
    applied = [row[0] for row in conn.execute("SELECT name FROM _spyglass_migrations")]
    if applied[-1] != "007_eval_runs":
        raise SystemExit(f"run this with a spyglass before 008_search_stems (got {applied})")
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    conn.execute("VACUUM")
    conn.close()
    print(f"{OUT}: {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
