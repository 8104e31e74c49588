"""autolog: idempotence, argument checks, post-import installation and exact uninstall."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

import spyglass
from spyglass.errors import ConfigurationError, IntegrationNotAvailable
from spyglass.integrations import INTEGRATIONS, Integration
from spyglass.tracer import _runtime


def test_same_arguments_keep_the_pipeline(db: Path) -> None:
    spyglass.autolog(db=db, integrations=())
    first = _runtime.active()
    spyglass.autolog(db=db, integrations=())
    assert _runtime.active() is first
    spyglass.autolog(db=db, integrations=(), project="other")
    assert _runtime.active() is not first and _runtime.active() is not None


def test_disable_removes_the_pipeline_and_twice_is_fine(db: Path) -> None:
    spyglass.autolog(db=db, integrations=())
    spyglass.autolog(disable=True)
    spyglass.autolog(disable=True)
    assert _runtime.active() is None
    assert spyglass.flush() is True


def test_autolog_leaves_its_settings_for_spawned_children_until_disabled(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPYGLASS_CHILD_SETTINGS", "set by someone before")
    spyglass.autolog(db=db, project="billing", redact=[r"cust-\d{6}"], integrations=())
    settings = json.loads(os.environ["SPYGLASS_CHILD_SETTINGS"])
    assert settings == {
        "pid": os.getpid(),
        "db": str(db.absolute()),
        "project": "billing",
        "capture_content": True,
        "otlp_endpoint": None,
        "redact": [[r"cust-\d{6}", 0]],
    }
    spyglass.autolog(db=db, redact=lambda text: text, integrations=())  # replaces it
    assert json.loads(os.environ["SPYGLASS_CHILD_SETTINGS"])["redact"] == "custom"
    spyglass.autolog(disable=True)
    assert os.environ["SPYGLASS_CHILD_SETTINGS"] == "set by someone before"  # as it was


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"db": 123}, "db must be a path"),
        ({"project": "  "}, "project must be a non-empty string"),
        ({"otlp_endpoint": "ftp://x"}, "otlp_endpoint must be an http"),
        ({"redact": 5}, "redact="),
        ({"capture_content": "yes"}, "capture_content must be True or False"),
        ({"integrations": ["nope"]}, "unknown integration 'nope'"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        spyglass.autolog(**kwargs)  # type: ignore[arg-type]
    assert _runtime.active() is None


def test_integration_whose_library_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        INTEGRATIONS, "ghost", Integration("ghost", "spyglass_no_such_lib", "spyglass_no_impl")
    )
    with pytest.raises(IntegrationNotAvailable, match=r"spyglass_no_such_lib.*not installed"):
        spyglass.autolog(integrations=["ghost"])


@pytest.fixture
def fake_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A library and an integration for it, both real modules on sys.path."""
    (tmp_path / "sg_fake_lib.py").write_text("VALUE = 1\n")
    (tmp_path / "sg_fake_integration.py").write_text(
        textwrap.dedent(
            """
            calls = []

            def install(ctx):
                import sg_fake_lib
                calls.append(("install", sg_fake_lib.VALUE, ctx.capture_content))
                return lambda: calls.append(("uninstall",))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(
        INTEGRATIONS, "fake", Integration("fake", "sg_fake_lib", "sg_fake_integration")
    )
    yield tmp_path
    for name in ("sg_fake_lib", "sg_fake_integration"):
        sys.modules.pop(name, None)


def test_integration_installs_when_its_library_is_imported(fake_library: Path, db: Path) -> None:
    meta_path = list(sys.meta_path)
    spyglass.autolog(db=db, integrations=["fake"], capture_content=False)
    assert "sg_fake_lib" not in sys.modules  # autolog imported nothing
    import sg_fake_integration  # type: ignore[import-not-found]

    assert sg_fake_integration.calls == []
    import sg_fake_lib  # type: ignore[import-not-found]  # noqa: F401

    assert sg_fake_integration.calls == [("install", 1, False)]
    assert sys.meta_path == meta_path  # the watch removed itself once it fired
    spyglass.autolog(disable=True)
    assert sg_fake_integration.calls[-1] == ("uninstall",)


def test_integration_installs_at_once_if_already_imported(fake_library: Path, db: Path) -> None:
    import sg_fake_integration  # type: ignore[import-not-found]
    import sg_fake_lib  # type: ignore[import-not-found]  # noqa: F401

    spyglass.autolog(db=db, integrations=["fake"])
    assert sg_fake_integration.calls == [("install", 1, True)]
    spyglass.autolog(disable=True)
    assert sg_fake_integration.calls == [("install", 1, True), ("uninstall",)]


def test_disable_before_import_removes_the_watch(fake_library: Path, db: Path) -> None:
    meta_path = list(sys.meta_path)
    spyglass.autolog(db=db, integrations=["fake"])
    assert len(sys.meta_path) == len(meta_path) + 1
    spyglass.autolog(disable=True)
    assert sys.meta_path == meta_path
    import sg_fake_integration  # type: ignore[import-not-found]
    import sg_fake_lib  # type: ignore[import-not-found]  # noqa: F401

    assert sg_fake_integration.calls == []


def test_none_chooses_importable_integrations_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        INTEGRATIONS, "ghost", Integration("ghost", "spyglass_no_such_lib", "spyglass_no_impl")
    )
    from spyglass._autolog import _choose

    assert "ghost" not in _choose(None)


def test_unwritable_database_is_a_warning_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "a-directory.db"
    directory.mkdir()
    spyglass.autolog(db=directory, integrations=())
    with spyglass.trace("still-works") as span:
        assert span is not None
    assert spyglass.flush() is False  # the spans could not be written...
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.name == "spyglass"]
    assert len(warnings) == 1 and "is a directory" in warnings[0].getMessage()


def test_otel_sdk_disabled_records_nothing(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``OTEL_SDK_DISABLED=true``: neither ``spyglass.trace`` spans (the SDK's own no-op
    provider) nor LangChain's light spans reach the file, and the app still runs."""
    from spyglass.demo import QUESTIONS, build_chain

    monkeypatch.setenv("OTEL_SDK_DISABLED", " True ")
    spyglass.autolog(db=db, integrations=["langchain"])
    with spyglass.trace("user code"):
        answer = build_chain().invoke(QUESTIONS[0])
    assert answer
    assert spyglass.flush()
    assert spyglass.Store(db).span_count() == 0


def test_without_otel_sdk_disabled_the_same_run_records(db: Path) -> None:
    from spyglass.demo import QUESTIONS, build_chain

    spyglass.autolog(db=db, integrations=["langchain"])
    with spyglass.trace("user code"):
        build_chain().invoke(QUESTIONS[0])
    assert spyglass.flush()
    assert spyglass.Store(db).span_count() > 1
