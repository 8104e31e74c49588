"""Diffs: unified text, chat message by message, variable / model / parameter changes, and the
rich view (colours, word-level highlighting, untrusted text shown literally)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from spyglass.prompts import PromptRegistry
from spyglass.viewer._prompts import diff_lines, diff_view

QA = "Answer from {context}\nQ: {question}\nBe brief."


@pytest.fixture
def registry(db: Path) -> PromptRegistry:
    return PromptRegistry(db)


def test_text_diff_is_a_unified_diff(registry: PromptRegistry) -> None:
    registry.register("qa", QA)
    registry.register("qa", "Answer only from {context}\nQ: {question}\nBe brief.\n{style}")
    diff = registry.diff("qa", 1, 2)
    assert str(diff) == (
        "--- qa@1\n"
        "+++ qa@2\n"
        "@@ -1,3 +1,4 @@\n"
        "-Answer from {context}\n"
        "+Answer only from {context}\n"
        " Q: {question}\n"
        " Be brief.\n"
        "+{style}\n"
    )
    assert diff.variables_added == ("style",) and diff.variables_removed == ()
    assert diff.model_change is None and diff.parameter_changes == ()
    assert diff.template_changed and diff.name == "qa"


def test_identical_templates_have_an_empty_diff(registry: PromptRegistry) -> None:
    registry.register("qa", QA)
    registry.register("qa", QA, model="gpt-4o", parameters={"temperature": 0.1, "seed": 1})
    registry.register("qa", QA, model="gpt-4o-mini", parameters={"temperature": 0.5, "top_p": 1})
    diff = registry.diff("qa", 2, 3)
    assert str(diff) == "" and not diff.template_changed
    assert diff.model_change == ("gpt-4o", "gpt-4o-mini")
    assert [c.to_dict() for c in diff.parameter_changes] == [
        {"key": "seed", "change": "removed", "a": 1, "b": None},
        {"key": "temperature", "change": "changed", "a": 0.1, "b": 0.5},
        {"key": "top_p", "change": "added", "a": None, "b": 1},
    ]
    assert registry.diff("qa", 1, 2).model_change == (None, "gpt-4o")


def test_trailing_newline_shows(registry: PromptRegistry) -> None:
    registry.register("qa", "x {a}")
    registry.register("qa", "x {a}\n")
    assert "+\n" in str(registry.diff("qa", 1, 2))


def test_chat_diff_goes_message_by_message(registry: PromptRegistry) -> None:
    registry.register(
        "chat",
        [("system", "Use {context}.\nCite sources."), ("user", "{question}"), ("assistant", "OK")],
    )
    registry.register(
        "chat",
        [
            ("system", "You are terse."),  # inserted: only it shows as added
            ("system", "Use only {context}.\nCite sources."),
            ("user", "{question}"),
            ("user", "OK"),  # role changed, content the same
        ],
    )
    diff = registry.diff("chat", 1, 2)
    assert str(diff) == (
        "--- chat@1\n"
        "+++ chat@2\n"
        "@@ message 1 (system) added @@\n"
        "+You are terse.\n"
        "@@ message 1 → 2 (system) -1,2 +1,2 @@\n"
        "-Use {context}.\n"
        "+Use only {context}.\n"
        " Cite sources.\n"
        "@@ message 3 → 4 (assistant → user) @@\n"
    )
    assert diff.variables_added == () and diff.variables_removed == ()


def test_chat_message_removed_and_text_to_chat(registry: PromptRegistry) -> None:
    registry.register("c", [("system", "S"), ("user", "{q}\nmore")])
    registry.register("c", [("system", "S")])
    assert str(registry.diff("c", 1, 2)).endswith("@@ message 2 (user) removed @@\n-{q}\n-more\n")
    assert registry.diff("c", 1, 2).variables_removed == ("q",)
    registry.register("t", "Q: {q}")
    registry.register("t", [("user", "Q: {q}")])
    assert "@@ message 1 (text → user) @@" in str(registry.diff("t", 1, 2))


def test_diff_by_alias_and_errors(registry: PromptRegistry) -> None:
    registry.register("qa", QA)
    registry.register("qa", QA + "!")
    registry.set_alias("qa", "production", 1)
    diff = registry.diff("qa", "production", "latest")
    assert (diff.a.version, diff.b.version) == (1, 2)
    assert registry.diff("qa", "1", "2").b.version == 2
    with pytest.raises(LookupError, match="no version 3 of 'qa'"):
        registry.diff("qa", 1, 3)
    with pytest.raises(ValueError, match="alias"):
        registry.diff("qa", 1, "not valid!")


def test_diff_to_dict(registry: PromptRegistry) -> None:
    registry.register("qa", QA)
    registry.register("qa", QA.replace("brief", "thorough"), model="m")
    data = registry.diff("qa", 1, 2).to_dict()
    assert set(data) == {
        "name",
        "a",
        "b",
        "diff",
        "variables_added",
        "variables_removed",
        "model",
        "parameters",
        "runs",
        "runs_by_index",
    }
    assert data["runs_by_index"] == []  # no index answered these versions' traces
    assert data["model"] == {"a": None, "b": "m"}
    assert str(data["diff"]).startswith("--- qa@1\n+++ qa@2\n")
    assert data["runs"] == {
        side: {
            "ref": f"qa@{n}",
            "runs": 0,
            "errors": 0,
            "error_rate": None,
            "median_latency_ms": None,
            "mean_input_tokens": None,
            "mean_output_tokens": None,
            "mean_scores": {},
        }
        for side, n in (("a", 1), ("b", 2))
    }


def styled(line: Text, style_word: str) -> list[str]:
    """The pieces of a rendered line whose style contains ``style_word``."""
    return [line.plain[s.start : s.end] for s in line.spans if style_word in str(s.style)]


def test_changed_words_are_highlighted_within_lines(registry: PromptRegistry) -> None:
    registry.register("qa", "Answer from the {context} please\nunchanged")
    registry.register("qa", "Answer only from the {context}\nunchanged")
    lines = diff_lines(registry.diff("qa", 1, 2).lines)
    removed = next(line for line in lines if line.plain.startswith("-Answer"))
    added = next(line for line in lines if line.plain.startswith("+Answer"))
    assert [w.strip() for w in styled(removed, "reverse")] == ["please"]
    assert [w.strip() for w in styled(added, "reverse")] == ["only"]
    assert "red" in str(removed.style) and "green" in str(added.style)
    context = next(line for line in lines if line.plain == " unchanged")
    assert styled(context, "reverse") == []


def render(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=120, force_terminal=False, color_system=None).print(renderable)
    return out.getvalue()


def test_untrusted_text_is_shown_literally(registry: PromptRegistry) -> None:
    registry.register("qa", "[bold red]hi[/] {x}")
    registry.register("qa", "[bold red]bye[/] {x}\x1b[31m\u202e")
    shown = render(diff_view(registry.diff("qa", 1, 2)))
    assert "-[bold red]hi[/] {x}" in shown
    assert "+[bold red]bye[/] {x}\\x1b[31m\\u202e" in shown
    assert "\x1b" not in shown


def test_diff_view_sections(registry: PromptRegistry) -> None:
    registry.register("qa", "A {x}", model="m1", parameters={"temperature": 0.1})
    registry.register("qa", "A {y}", model="m2", parameters={"temperature": 0.7})
    shown = render(diff_view(registry.diff("qa", 1, 2)))
    for expected in (
        "qa@1 → qa@2",
        "+ variable y",
        "- variable x",
        "model: m1 → m2",
        "parameter changed: temperature 0.1 → 0.7",
        "LINKED TRACES",
        "median latency",
        "no traces linked to these versions yet",
    ):
        assert expected in shown, expected
    registry.register("qa", "A {y}", model="m3", parameters={"temperature": 0.7})
    assert "templates are identical" in render(diff_view(registry.diff("qa", 2, 3)))


def test_diff_compares_mean_scores_of_each_versions_traces(
    db: Path, registry: PromptRegistry
) -> None:
    import spyglass

    one = registry.register("qa", "v1 {q}")
    two = registry.register("qa", "v2 {q}")
    spyglass.autolog(db=db, integrations=())
    graded = {one: [1.0, 0.5], two: [0.25]}
    for version, values in graded.items():
        for value in values:
            with spyglass.trace("run") as span:
                assert span is not None
                version.format(q="?")
            spyglass.score(span.trace_id, "correctness", value)
    spyglass.score(span.trace_id, "tone", "dry")  # a label: no mean
    diff = registry.diff("qa", 1, 2)
    assert dict(diff.runs[0].mean_scores) == {"correctness": 0.75}
    assert dict(diff.runs[1].mean_scores) == {"correctness": 0.25}
    assert diff.to_dict()["runs"]["b"]["mean_scores"] == {"correctness": 0.25}  # type: ignore[index]
    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    console.print(diff_view(diff))
    shown = console.export_text()
    assert "mean correctness" in shown and "0.750" in shown and "-66.7%" in shown
