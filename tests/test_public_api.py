"""The public surface is a contract: pin it, and keep `import spyglass` and the CLI light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import spyglass


def test_exported_names() -> None:
    assert spyglass.__all__ == sorted(spyglass.__all__)
    assert set(spyglass.__all__) == {
        "PromptRegistry",
        "Store",
        "__version__",
        "autolog",
        "evaluate",
        "flush",
        "score",
        "trace",
    }
    for name in spyglass.__all__:
        assert getattr(spyglass, name) is not None


#: The exact ``__all__`` of each public package: adding or removing a name is a decision.
SURFACE = {
    "spyglass.tracer": [
        "IntegrationContext",
        "Pipeline",
        "Redactor",
        "SQLiteSpanExporter",
        "Score",
        "ScoreRecord",
        "ScoreSummary",
        "Settings",
        "SpanHandle",
        "Store",
        "Trace",
        "database_error",
        "error_type",
        "record_error",
        "score",
        "to_json",
        "to_jsonable",
        "trace",
    ],
    "spyglass.prompts": [
        "ImportResult",
        "PromptDiff",
        "PromptRegistry",
        "PromptVersion",
        "RunStats",
        "prompt_attributes",
    ],
    "spyglass.evaluation": [
        "EvalCase",
        "EvalResult",
        "EvalRow",
        "Evaluator",
        "ExampleChange",
        "LLMJudge",
        "MetricDelta",
        "RetrievedDocument",
        "RunComparison",
        "RunInfo",
        "Score",
        "TraceFacts",
    ],
    "spyglass.errors": [
        "AmbiguousTraceId",
        "CollectorError",
        "ConfigurationError",
        "CorruptDatabase",
        "DatabaseError",
        "DatabaseNotFound",
        "DatabaseTooNew",
        "EvaluationError",
        "IntegrationNotAvailable",
        "NotASpyglassDatabase",
        "PromptError",
        "PromptNotFound",
        "PromptTemplateError",
        "RunNotFound",
        "SpyglassError",
        "TraceNotFound",
        "one_line",
    ],
}


@pytest.mark.parametrize("package", sorted(SURFACE))
def test_package_exports_are_pinned_sorted_and_resolve(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == SURFACE[package]
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_every_error_is_a_spyglass_error() -> None:
    import spyglass.errors as errors

    classes = {name for name, value in vars(errors).items() if isinstance(value, type)}
    assert classes == set(errors.__all__) - {"one_line"}
    assert all(issubclass(getattr(errors, name), errors.SpyglassError) for name in classes)


def test_store_public_methods_are_pinned() -> None:
    """The change-tracking reads of ``traces --follow`` and the live list are not on Store
    (they live in ``spyglass.tracer._follow``)."""
    public = sorted(name for name in dir(spyglass.Store) if not name.startswith("_"))
    assert public == [
        "close",
        "prices",
        "resolve",
        "scores",
        "search",
        "span_count",
        "stats",
        "trace",
        "traces",
    ]


def test_score_is_one_class_everywhere() -> None:
    import spyglass.evaluation
    import spyglass.evaluators
    import spyglass.tracer

    assert spyglass.evaluators.Score is spyglass.evaluation.Score is spyglass.tracer.Score


def _imported_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_import_spyglass_loads_no_sdk_and_no_framework() -> None:
    modules = _imported_after("import spyglass")
    assert not any(
        m.startswith(
            ("opentelemetry", "langchain", "llama_index", "openai", "anthropic", "textual", "rich")
        )
        for m in modules
    )


def test_autolog_imports_no_framework(tmp_path: object) -> None:
    modules = _imported_after(
        f"import spyglass; spyglass.autolog(db={str(tmp_path) + '/x.db'!r}); "
        "spyglass.autolog(disable=True)"
    )
    assert not any(
        m.startswith(("langchain", "llama_index", "openai", "anthropic", "textual"))
        for m in modules
    )


def test_cli_help_imports_nothing_heavy() -> None:
    modules = _imported_after(
        "import sys; sys.argv=['spyglass','--help']\n"
        "from spyglass.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert not any(
        m.startswith(
            ("opentelemetry", "langchain", "llama_index", "openai", "anthropic", "textual")
        )
        for m in modules
    )


def test_read_commands_on_the_default_file_load_no_sdk(tmp_path: object) -> None:
    """The default file's path comes from the environment (``tracer._config``), not from the
    module holding the active pipeline, which imports the OTel SDK."""
    import os

    db = f"{tmp_path}/default.db"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import spyglass; spyglass.Store  # noqa\n"
            f"from spyglass.tracer._db import open_for_write; open_for_write({db!r}).close()",
        ],
        check=True,
    )
    script = (
        "import sys; sys.argv=['spyglass','traces']\n"
        "from spyglass.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules))"
    )
    env = {**os.environ, "SPYGLASS_DB": db}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert "no traces" in out.stdout
    assert not [m for m in out.stdout.split() if m.startswith("opentelemetry")]


def test_autolog_defers_importlib_abc_to_the_first_watched_import(tmp_path: object) -> None:
    modules = _imported_after(
        f"import spyglass; spyglass.autolog(db={str(tmp_path) + '/x.db'!r}, integrations=())"
    )
    already = _imported_after("pass")  # whatever the interpreter's start-up loads anyway
    assert "spyglass.integrations._hooks" in modules
    assert "importlib.abc" in already or "importlib.abc" not in modules
