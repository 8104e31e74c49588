"""The link from traces to prompt versions: format() in a traced block, and prompt_attributes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import spyglass
from spyglass.prompts import PromptRegistry, PromptVersion, prompt_attributes
from spyglass.tracer import _runtime
from spyglass.tracer import attributes as A

QA = "Answer from {context}\nQ: {question}"


@pytest.fixture
def qa(traced: Path) -> tuple[PromptRegistry, PromptVersion]:
    registry = PromptRegistry(traced)
    return registry, registry.register("qa", QA)


def spans_by_name(db: Path) -> dict[str, tuple[str | None, str | None]]:
    assert spyglass.flush()
    store = spyglass.Store(db)
    out = {}
    for summary in store.traces(limit=100):
        for span in store.trace(summary.trace_id).spans:
            out[span.name] = (span.prompt_name, span.prompt_version)
    return out


def render(version: PromptVersion) -> object:
    return version.format(context="C", question="Q")


def test_format_links_the_current_span_and_later_llm_spans(
    qa: tuple[PromptRegistry, PromptVersion], traced: Path
) -> None:
    registry, v1 = qa
    with spyglass.trace("request"):
        with spyglass.trace("llm-before", kind="LLM"):
            pass
        render(v1)
        with spyglass.trace("retrieve", kind="RETRIEVER"):
            pass
        with spyglass.trace("chain"), spyglass.trace("llm-nested", kind="LLM"):
            pass
        with spyglass.trace("llm-after", kind="LLM"):
            pass
    with spyglass.trace("next-request"), spyglass.trace("llm-next-trace", kind="LLM"):
        pass
    spans = spans_by_name(traced)
    linked = ("qa", "1")
    assert spans["request"] == linked
    assert spans["llm-nested"] == linked and spans["llm-after"] == linked
    for other in ("llm-before", "retrieve", "chain", "next-request", "llm-next-trace"):
        assert spans[other] == (None, None), other
    (summary,) = registry.traces("qa@1")
    assert summary.name == "request"
    assert registry.traces("qa", version=1, limit=1) == [summary]


def test_the_next_format_replaces_the_pending_prompt(traced: Path) -> None:
    registry = PromptRegistry(traced)
    qa = registry.register("qa", QA)
    judge = registry.register("judge", "Grade {answer}")
    with spyglass.trace("request"):
        render(qa)
        with spyglass.trace("answer", kind="LLM"):
            pass
        judge.format(answer="A")
        with spyglass.trace("grade", kind="LLM"):
            pass
    spans = spans_by_name(traced)
    assert spans["answer"] == ("qa", "1") and spans["grade"] == ("judge", "1")
    assert spans["request"] == ("judge", "1")  # a span holds one value: the last rendered
    assert [t.name for t in registry.traces("qa@1")] == ["request"]


def test_an_llm_span_that_names_its_prompt_keeps_it(
    qa: tuple[PromptRegistry, PromptVersion], traced: Path
) -> None:
    _, v1 = qa
    tracer = _runtime.ensure().tracer
    with spyglass.trace("request"):
        render(v1)
        span = tracer.start_span(
            "framework-llm", attributes={A.SPYGLASS_KIND: "LLM", A.GEN_AI_PROMPT_NAME: "other"}
        )
        span.end()
        chat = tracer.start_span("sdk-chat", attributes={A.GEN_AI_OPERATION_NAME: "chat"})
        chat.end()
    spans = spans_by_name(traced)
    assert spans["framework-llm"] == ("other", None)
    assert spans["sdk-chat"] == ("qa", "1")  # an LLM span by its GenAI operation name


def test_asyncio_tasks_started_after_format_inherit(
    qa: tuple[PromptRegistry, PromptVersion], traced: Path
) -> None:
    _, v1 = qa

    async def call_model(name: str) -> None:
        with spyglass.trace(name, kind="LLM"):
            await asyncio.sleep(0)

    async def main() -> None:
        with spyglass.trace("request"):
            early = asyncio.ensure_future(call_model("early-task"))  # context copied now
            render(v1)
            await asyncio.gather(early, call_model("late-task"))

    asyncio.run(main())
    spans = spans_by_name(traced)
    assert spans["late-task"] == ("qa", "1") and spans["early-task"] == (None, None)


def test_no_span_no_link_and_foreign_spans_are_untouched(
    qa: tuple[PromptRegistry, PromptVersion], traced: Path
) -> None:
    _, v1 = qa
    assert render(v1) == "Answer from C\nQ: Q"  # no current span: renders, links nothing
    foreign = TracerProvider().get_tracer("app")
    with foreign.start_as_current_span("app-span") as app_span:
        render(v1)
        assert A.GEN_AI_PROMPT_NAME not in (app_span.attributes or {})  # type: ignore[attr-defined]
        with spyglass.trace("inside-app", kind="LLM"):
            pass
    assert spans_by_name(traced)["inside-app"] == (None, None)


def test_a_broken_link_never_breaks_rendering(
    qa: tuple[PromptRegistry, PromptVersion], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, v1 = qa
    from spyglass.prompts import _pending

    def explode(attributes: Mapping[str, str]) -> bool:
        raise RuntimeError("tracing is broken")

    monkeypatch.setattr(_pending, "link_current_span", explode)
    with spyglass.trace("request"):
        assert render(v1) == "Answer from C\nQ: Q"


def test_run_stats_of_linked_traces(traced: Path) -> None:
    registry = PromptRegistry(traced)
    v1 = registry.register("qa", QA)
    v2 = registry.register("qa", QA + "\nBe brief.")
    runs = ((v1, 10, False), (v1, 30, True), (v1, None, True), (v2, 5, False))
    for version, tokens, fail in runs:
        try:
            with spyglass.trace("request"):
                render(version)
                with spyglass.trace("llm", kind="LLM") as llm:
                    assert llm is not None
                    if tokens is None:  # failed before answering: no usage reported
                        raise ValueError("timeout")
                    llm.set_attributes(
                        {A.GEN_AI_USAGE_INPUT_TOKENS: tokens, A.GEN_AI_USAGE_OUTPUT_TOKENS: 2}
                    )
                if fail:
                    raise ValueError("model said no")
        except ValueError:
            pass
    assert spyglass.flush()
    diff = registry.diff("qa", 1, 2)
    a, b = diff.runs
    durations = sorted(t.duration_ms for t in registry.traces("qa@1"))
    assert (a.runs, a.errors, a.error_rate) == (3, 2, 2 / 3)
    assert a.median_latency_ms == pytest.approx(durations[1])
    assert (a.mean_input_tokens, a.mean_output_tokens) == (20.0, 2.0)  # runs with usage
    assert (b.runs, b.errors, b.error_rate, b.mean_input_tokens) == (1, 0, 0.0, 5.0)
    assert diff.to_dict()["runs"]["b"]["runs"] == 1  # type: ignore[index]
    assert registry.diff("qa", 2, 2).runs[0].runs == 1


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"spyglass.prompt.name": "qa", "spyglass.prompt.version": 3}, ("qa", "3")),
        ({"spyglass.prompt.name": "qa", "spyglass.prompt.version": "3"}, ("qa", "3")),
        ({"gen_ai.prompt.name": "qa", "gen_ai.prompt.version": 2, "other": 1}, ("qa", "2")),
        ({"spyglass.prompt.name": "qa"}, None),
        ({"spyglass.prompt.name": "qa", "spyglass.prompt.version": True}, None),
        ({"spyglass.prompt.name": "qa", "spyglass.prompt.version": 0}, None),
        ({"spyglass.prompt.name": "", "spyglass.prompt.version": 1}, None),
        ({"spyglass.prompt.name": 5, "spyglass.prompt.version": 1}, None),
        ({}, None),
        (None, None),
        ("not a mapping", None),
    ],
)
def test_prompt_attributes(metadata: object, expected: tuple[str, str] | None) -> None:
    attributes = prompt_attributes(metadata)  # type: ignore[arg-type]
    if expected is None:
        assert attributes == {}
    else:
        assert attributes == {
            "gen_ai.prompt.name": expected[0],
            "gen_ai.prompt.version": expected[1],
        }


def test_prompt_attributes_survives_a_hostile_mapping() -> None:
    class Hostile(dict[str, object]):
        def get(self, key: str, default: object = None) -> object:
            raise RuntimeError("no")

    assert prompt_attributes(Hostile()) == {}


def test_format_without_tracing_imports_no_sdk(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from spyglass.prompts import PromptRegistry\n"
        f"r = PromptRegistry({str(tmp_path / 'x.db')!r})\n"
        "v = r.register('qa', 'Q: {q}')\n"
        "assert v.format(q='x') == 'Q: x'\n"
        "print(any(m.startswith('opentelemetry') for m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
