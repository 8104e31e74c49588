"""Shared fixtures: a real SQLite file in tmp_path, and autolog undone after every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import spyglass
from spyglass.tracer import _runtime


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees another's pipeline, or writes ./spyglass.db, or reads the caller's env."""
    for name in (
        "SPYGLASS_DB",
        "SPYGLASS_PROJECT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPYGLASS_DB", str(tmp_path / "default.db"))
    yield
    spyglass.autolog(disable=True)
    assert _runtime.active() is None


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "traces.db"


@pytest.fixture
def traced(db: Path) -> Iterator[Path]:
    """autolog into ``db`` with no framework integration."""
    spyglass.autolog(db=db, integrations=())
    yield db
