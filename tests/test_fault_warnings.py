"""A failing database costs one warning, and that warning is one line: no traceback and no
multi-line message at WARNING, the file named once (a traceback may follow at DEBUG).

The faults are made real as in ``test_reliability`` (a lock held by another connection, a
read-only bind mount, a tiny tmpfs, garbage over the pages, the file deleted); the file sits in
a directory whose name holds a newline, the way a path, or an SQLite message, would otherwise
split a warning over several lines of the program's log.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from test_reliability import _corrupt, _fill, _read_only, _seed, _small_disk

import spyglass
from spyglass.errors import one_line
from spyglass.tracer._processor import BlockingBatchProcessor
from spyglass.tracer._warn import warn


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "spyglass" and r.levelno >= logging.WARNING]


def assert_one_line_each(caplog: pytest.LogCaptureFixture, db: Path, *words: str) -> None:
    records = warnings_of(caplog)
    assert records, "no warning at all"
    for record in records:
        message = record.getMessage()
        assert "\n" not in message and "\r" not in message, message
        assert record.exc_info is None and record.stack_info is None, message
        assert message.count(one_line(str(db))) <= 1, message  # the file named once
    first = records[0].getMessage()
    assert one_line(str(db)) in first and all(word in first for word in words), first


def _spans(count: int) -> None:
    for i in range(count):
        with spyglass.trace("step", metadata={"i": i}) as span:
            assert span is not None
            span.set_output("x" * 500)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "app\nlogs"
    folder.mkdir()
    return folder


def test_locked(
    folder: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("spyglass.tracer._db.BUSY_TIMEOUT_MS", 200)
    db = folder / "locked.db"
    _seed(db)
    spyglass.autolog(db=db, integrations=())
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        caplog.clear()
        _spans(50)
        assert spyglass.flush(timeout=30) is False
        assert_one_line_each(caplog, db, "locked")
    finally:
        holder.execute("COMMIT")
        holder.close()


def test_read_only(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = folder / "traces.db"
    _seed(db)
    with _read_only(folder):
        caplog.clear()
        spyglass.autolog(db=db, integrations=())
        _spans(50)
        assert spyglass.flush(timeout=30) is False
        assert_one_line_each(caplog, db)


def test_corrupt_and_the_loss_at_exit(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = folder / "corrupt.db"
    _seed(db)
    _corrupt(db)
    caplog.clear()
    spyglass.autolog(db=db, integrations=())
    _spans(50)
    assert spyglass.flush(timeout=30) is False
    spyglass.autolog(disable=True)  # "lost N spans" at shutdown: one line too
    assert_one_line_each(caplog, db, "corrupt")
    assert len(warnings_of(caplog)) == 2


def test_not_a_database(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = folder / "notes.db"
    db.write_text("these are my notes\n" * 200)
    caplog.clear()
    spyglass.autolog(db=db, integrations=())
    _spans(5)
    assert spyglass.flush(timeout=30) is False
    assert_one_line_each(caplog, db, "not a SQLite database")
    assert db.read_text() == "these are my notes\n" * 200


def test_full(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "small\ndisk"
    with _small_disk(folder):
        db = folder / "traces.db"
        spyglass.autolog(db=db, integrations=())
        _spans(2)
        assert spyglass.flush() is True
        _fill(folder)
        caplog.clear()
        _spans(1000)
        assert spyglass.flush(timeout=30) is False
        assert_one_line_each(caplog, db, "full")


def test_deleted(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = folder / "traces.db"
    spyglass.autolog(db=db, integrations=())
    _spans(5)
    assert spyglass.flush() is True
    caplog.clear()
    db.unlink()
    _spans(5)
    assert spyglass.flush() is True
    assert_one_line_each(caplog, db, "deleted or replaced")


class _Raising(SpanExporter):
    """An exporter that breaks its contract and raises (as a buggy third-party one may)."""

    def export(self, spans: object) -> SpanExportResult:
        raise RuntimeError("exporter bug\nsecond line")

    def shutdown(self) -> None:
        pass


@pytest.fixture
def raising_processor() -> Iterator[BlockingBatchProcessor]:
    processor = BlockingBatchProcessor(_Raising(), target="a collector")
    yield processor
    processor.shutdown()


def test_an_exporter_that_raises_is_one_line_and_a_debug_traceback(
    raising_processor: BlockingBatchProcessor, caplog: pytest.LogCaptureFixture, db: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="spyglass")
    spyglass.autolog(db=db, integrations=())
    with spyglass.trace("x") as span:
        assert span is not None
    raising_processor.on_end(span.otel_span)  # type: ignore[arg-type]
    raising_processor.force_flush(5_000)
    (record,) = [r for r in warnings_of(caplog) if "exporter failed" in r.getMessage()]
    assert record.getMessage() == (
        "spyglass exporter failed: RuntimeError: exporter bug\\nsecond line"
    )
    assert record.exc_info is None
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert debug and "exporter bug" in str(debug[-1].exc_info[1])  # type: ignore[index]


def test_warn_never_raises_on_a_bad_argument(caplog: pytest.LogCaptureFixture) -> None:
    class Bad:
        def __str__(self) -> str:
            raise ValueError("no")

    warn("spyglass: %s broke", Bad())
    assert [r.getMessage() for r in warnings_of(caplog)] == ["spyglass: %s broke"]
