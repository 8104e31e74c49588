"""The public surface is a contract: pin it, and keep `import spyglass` and the CLI light."""

from __future__ import annotations

import subprocess
import sys

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


def test_tracer_exports_are_sorted_and_resolve() -> None:
    import spyglass.tracer as tracer

    assert tracer.__all__ == sorted(tracer.__all__)
    for name in tracer.__all__:
        assert getattr(tracer, name) is not None


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
