"""Search matches word stems and, on request, prefixes; an older file's index is rebuilt.

``data/search_v7.db`` was written by spyglass before ``008_search_stems`` (see
``data/record_search_v7.py``): its index has ``unicode61`` words, where "refund" does not
find "Refunds". Opening a copy migrates it; the rebuilt index must hold exactly what the
exporter writes for the same spans today.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from viewer_data import TRACE_AGENT, TRACE_RAG, build, hex_id

import spyglass
from spyglass.errors import ConfigurationError
from spyglass.tracer import _schema
from spyglass.tracer._db import open_for_read
from spyglass.tracer._filters import fts_query
from spyglass.tracer._schema import applied_migrations

OLD = Path(__file__).parent / "data" / "search_v7.db"


def _index_sql(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()
        return str(row[0])
    finally:
        conn.close()


def _index(db: Path) -> set[tuple[str, str, str, int]]:
    """Every (trace, span, word, position) the search index holds."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, search, instance)")
        rows = conn.execute(
            "SELECT s.trace_id, s.span_id, w.term, w.offset FROM temp.words w "
            "JOIN spans s ON s.id = w.doc"
        ).fetchall()
    finally:
        conn.close()
    return {(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows}


@pytest.fixture
def old_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "old.db"
    shutil.copyfile(OLD, copy)
    return copy


def test_the_fixture_was_written_before_stemming(old_copy: Path) -> None:
    conn = sqlite3.connect(old_copy)
    assert applied_migrations(conn)[-1] == "007_eval_runs"
    count = "SELECT count(*) FROM search WHERE search MATCH ?"
    assert conn.execute(count, ("issued",)).fetchone()[0] == 1
    assert conn.execute(count, ("issuing",)).fetchone()[0] == 0  # no stems in this index
    conn.close()
    assert "porter" not in _index_sql(old_copy)


def test_reading_an_old_file_rebuilds_its_index_as_the_exporter_writes_it(
    old_copy: Path, tmp_path: Path
) -> None:
    before = sqlite3.connect(old_copy)
    counts = [
        before.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("spans", "documents", "traces")
    ]
    before.close()
    with spyglass.Store(old_copy) as store:  # a reader migrates a file written by an older one
        hits = store.search("refund")
    assert {hit.trace_id for hit in hits} == {hex_id(TRACE_RAG), hex_id(TRACE_AGENT)}
    assert "008_search_stems" in applied_migrations(sqlite3.connect(old_copy))
    assert "porter" in _index_sql(old_copy)
    after = sqlite3.connect(old_copy)
    for table, count in zip(("spans", "documents", "traces"), counts, strict=True):
        assert after.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count
    after.close()
    fresh = build(tmp_path / "fresh.db")  # the same spans, written by today's exporter
    migrated, written = _index(old_copy), _index(fresh)
    stored = {(t, s) for t, s, _, _ in migrated}
    assert migrated and migrated == {row for row in written if (row[0], row[1]) in stored}


def test_a_new_file_stems_from_the_start(tmp_path: Path) -> None:
    db = build(tmp_path / "new.db")
    assert "porter unicode61" in _index_sql(db)
    with spyglass.Store(db) as store:
        hits = store.search("refunded")
        rag = {hit.span_name for hit in hits if hit.trace_id == hex_id(TRACE_RAG)}
        assert rag == {"rag-query", "retrieve", "chat gpt-4o-mini"}
        assert store.search("refu") == []  # a part of a word is not a word...
        assert {hit.span_name for hit in store.search("refu*")} >= rag  # ...unless asked
        (hit,) = [h for h in store.search("issuing") if h.span_name == "retrieve"]
        assert "Refunds are issued" in hit.snippet  # the snippet shows the form that matched
        assert {s.trace_id for s in store.traces(search="REFUND")} == {
            hex_id(TRACE_RAG),
            hex_id(TRACE_AGENT),
        }


def test_query_syntax() -> None:
    assert fts_query("refund policy") == '"refund" "policy"'
    assert fts_query("refu* gpt-4o") == '"refu"* "gpt-4o"'
    assert fts_query('say "hi"**') == '"say" """hi"""*'
    assert fts_query("NEAR(a b) OR c") == '"NEAR(a" "b)" "OR" "c"'  # no FTS syntax applies
    for empty in ("", "   ", "* **"):
        with pytest.raises(ConfigurationError, match="search text is empty"):
            fts_query(empty)


def test_search_help_documents_the_syntax() -> None:
    from spyglass.cli import main

    result = CliRunner().invoke(main, ["search", "--help"])
    assert "refund finds Refunds" in result.output and "spy* finds spyglass" in result.output
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "### Search" in readme and "`spy*`" in readme


def test_a_big_rebuild_is_announced(
    old_copy: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_schema, "_REINDEX_NOTICE_SPANS", 3)  # the fixture has a few spans
    with caplog.at_level(logging.WARNING, logger="spyglass"):
        open_for_read(old_copy).close()
    (record,) = [r for r in caplog.records if "rebuilding the search index" in r.getMessage()]
    assert str(old_copy) in record.getMessage()
