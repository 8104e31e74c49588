"""The SQLite exporter writes a batch many rows per statement: every size lands whole.

Batches of every size around the chunk boundaries (and past SQLite's variable limit of old
builds) must store each span once, with its documents, search row and trace roll-up, exactly
as one row per statement would.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from spyglass.tracer import _exporter, _statements
from spyglass.tracer import attributes as A
from spyglass.tracer._exporter import SQLiteSpanExporter
from spyglass.tracer._pipeline import Pipeline, Settings


def _spans(count: int, trace_every: int = 7) -> list[ReadableSpan]:
    """``count`` finished light spans, ``trace_every`` per trace, each with one document."""
    pipeline = Pipeline(Settings(db=None))
    spans: list[ReadableSpan] = []
    lite = pipeline.lite
    lite.on_end = spans.append
    root = None
    for i in range(count):
        attributes = {
            A.SPYGLASS_KIND: "RETRIEVER",
            A.GEN_AI_RETRIEVAL_QUERY_TEXT: f"question number {i}",
            A.GEN_AI_RETRIEVAL_DOCUMENTS: json.dumps(
                [{"id": f"doc-{i}", "score": i / 10, "content": f"lighthouse {i}"}]
            ),
            A.GEN_AI_USAGE_INPUT_TOKENS: i,
        }
        if i % trace_every == 0 or root is None:
            root = lite.start_span(f"span {i}", None, attributes)
            span = root
        else:
            span = lite.start_child(f"span {i}", root, attributes)
        span.end()
    pipeline.shutdown()
    return spans


@pytest.mark.parametrize("count", [1, 2, 31, 63, 64, 65, 200, 256, 257, 600])
@pytest.mark.parametrize("variable_limit", [32_766, 999, 40])
def test_every_batch_size_stores_every_span_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int, variable_limit: int
) -> None:
    monkeypatch.setattr(_statements, "variable_limit", lambda conn: variable_limit)
    spans = _spans(count)
    exporter = SQLiteSpanExporter(tmp_path / "batches.db")
    exporter.open()
    exporter.export(spans)
    exporter.export(spans[: count // 2])  # exported again: stored and counted once
    exporter.shutdown()

    conn = sqlite3.connect(tmp_path / "batches.db")
    names = [row[0] for row in conn.execute("SELECT name FROM spans ORDER BY id")]
    assert names == [f"span {i}" for i in range(count)]
    documents = [row[0] for row in conn.execute("SELECT doc_id FROM documents ORDER BY span_row")]
    assert documents == [f"doc-{i}" for i in range(count)]
    traces = conn.execute("SELECT sum(span_count), sum(input_tokens), count(*) FROM traces")
    assert traces.fetchone() == (count, sum(range(count)), (count + 6) // 7)
    hits = conn.execute("SELECT rowid FROM search WHERE search MATCH 'lighthouse'").fetchall()
    assert len(hits) == count
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_multi_row_sql_repeats_the_row_and_keeps_the_upsert_tail() -> None:
    one = _statements.multi_row(_statements.INSERT_SEARCH, 1)
    assert one == "INSERT INTO search (rowid, text) VALUES (?, ?)"
    assert _statements.multi_row(_statements.INSERT_SEARCH, 3).endswith(
        "VALUES (?, ?), (?, ?), (?, ?)"
    )
    upsert = _statements.multi_row(_exporter._UPSERT_TRACE, 2)
    assert upsert.count("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") == 2
    assert "ON CONFLICT (trace_id) DO UPDATE" in upsert
