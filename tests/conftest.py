"""Shared fixtures: a real SQLite file in tmp_path, and autolog undone after every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import spyglass
from spyglass.tracer import _runtime


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees another's pipeline, writes ./spyglass.db or $HOME, or reads the caller's
    environment."""
    for name in (
        "SPYGLASS_DB",
        "SPYGLASS_PROJECT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "SPYGLASS_CHILD_SETTINGS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPYGLASS_DB", str(tmp_path / "default.db"))
    # The price cache and the user's price file live under these: keep tests off $HOME.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("SPYGLASS_PRICES", raising=False)
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
