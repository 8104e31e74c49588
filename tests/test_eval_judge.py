"""``LLMJudge`` with LangChain's fake chat models and the real OpenAI / Anthropic clients against
the local fake server; verdict parsing; rubrics versioned in the registry; judge traces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from fake_llm_server import FakeLLMServer, Reply
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage

import spyglass
from spyglass.errors import EvaluationError
from spyglass.evaluation._case import EvalCase, RetrievedDocument, TraceFacts
from spyglass.evaluation._verdict import parse_verdict
from spyglass.evaluators import LLMJudge

CASE = EvalCase(
    inputs={"question": "Where are spans stored?"},
    output="In one SQLite file.",
    expected="One SQLite file.",
    facts=TraceFacts("t" * 32, "OK", 5.0, 0, 0, (RetrievedDocument("d1", "Spans: SQLite."),)),
)


@pytest.mark.parametrize(
    ("reply", "value", "label"),
    [
        ('{"score": 5, "label": "PASS", "reason": "all there"}', 1.0, "PASS"),
        ('Sure!\n```json\n{"score": 2, "reason": "thin"}\n```', 0.25, "FAIL"),
        ('{"rating": "4/5", "explanation": "ok"}', 0.8, "PASS"),
        ('{"verdict": "fail", "reason": "wrong city"}', 0.0, "FAIL"),
        ('{"label": "partially", "reason": "half"}', "partially", "partially"),
        ("Score: 4/5 - mostly relevant", 0.8, "PASS"),
        ("Rating: 3", 0.5, "PASS"),
        ("I'd say 80%", 0.8, "PASS"),
        ("PASS", 1.0, "PASS"),
        ("FAIL: the answer names the wrong file", 0.0, "FAIL"),
        ("yes", 1.0, "YES"),
        ("4", 0.75, "PASS"),
        ("0.3", 0.3, "FAIL"),
    ],
)
def test_parse_verdict_shapes(reply: str, value: object, label: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.error is None
    assert verdict.value == value and verdict.label == label


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("", "empty"),
        ("I am not sure what you mean.", "no score or verdict"),
        ("Score: 9", "outside 1-5"),
        ('{"score": 7/3}', "7/3 is not a score"),
        (None, "empty"),
    ],
)
def test_unusable_verdicts_are_errors_not_exceptions(reply: object, error: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.value is None and error in (verdict.error or "")


def test_langchain_fake_judge_scores_with_the_builtin_rubric() -> None:
    judge = LLMJudge(
        FakeListChatModel(responses=['{"score": 4, "reason": "on topic"}']), "relevance"
    )
    score = judge(CASE)
    assert score is not None
    assert (score.name, score.value, score.label, score.source) == (
        "relevance",
        0.75,
        "PASS",
        "llm",
    )
    assert score.comment == "on topic"
    assert (score.evaluator_version or "").startswith("builtin:")  # no file: no registry


def test_generic_fake_model_and_callable_judges() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Score: 1/5")]))
    assert LLMJudge(model, "correctness")(CASE).value == 0.2  # type: ignore[union-attr]
    prompts: list[str] = []

    def judge(prompt: str) -> str:
        prompts.append(prompt)
        return "PASS"

    assert LLMJudge(judge, "groundedness")(CASE).value == 1.0  # type: ignore[union-attr]
    assert "Spans: SQLite." in prompts[0] and "In one SQLite file." in prompts[0]


def test_failed_and_unparseable_judgements_are_failed_scores() -> None:
    def down(prompt: str) -> str:
        raise TimeoutError("judge timed out")

    failed = LLMJudge(down, "relevance")(CASE)
    assert failed is not None and failed.value is None
    assert failed.comment == "judge failed: TimeoutError: judge timed out"
    rambling = LLMJudge(FakeListChatModel(responses=["Hmm, hard to say."]), "relevance")(CASE)
    assert rambling is not None and rambling.failed and "no score" in (rambling.comment or "")
    no_docs = LLMJudge(down, "groundedness")(EvalCase(inputs="q", output="a"))
    assert no_docs is not None and no_docs.failed and "no retrieved" in (no_docs.comment or "")
    assert LLMJudge(down, "correctness")(EvalCase(inputs="q", output="a")) is None


def test_bad_judge_arguments() -> None:
    with pytest.raises(EvaluationError, match="no built-in rubric for 'style'"):
        LLMJudge(lambda p: "PASS", "style")
    with pytest.raises(EvaluationError, match="judge must be"):
        LLMJudge(42, "relevance")


def test_rubrics_are_registered_versioned_and_tunable(db: Path) -> None:
    case = EvalCase(inputs="q", output="a", db=db)
    judge = LLMJudge(lambda p: "PASS", "toxicity")
    assert judge(case).evaluator_version == "spyglass.judge.toxicity@1"  # type: ignore[union-attr]
    registry = spyglass.PromptRegistry(db)
    registry.register(
        "spyglass.judge.toxicity", "Is this rude? {output}\nReply PASS or FAIL.", "shorter"
    )
    prompts: list[str] = []
    tuned = LLMJudge(lambda p: prompts.append(p) or "FAIL", "toxicity")
    assert tuned(case).evaluator_version == "spyglass.judge.toxicity@2"  # type: ignore[union-attr]
    assert prompts == ["Is this rude? a\nReply PASS or FAIL."]
    custom = "Grade the style of {output} for {input}. Reply with a score 1-5."
    style = LLMJudge(lambda p: "5", "style", rubric=custom)
    assert style(case).evaluator_version == "spyglass.judge.style@1"  # type: ignore[union-attr]
    again = LLMJudge(lambda p: "5", "style", rubric=custom + " Be strict.")
    assert again(case).evaluator_version == "spyglass.judge.style@2"  # type: ignore[union-attr]


def test_judge_trace_is_a_new_root_tagged_judge(traced: Path) -> None:
    judge = LLMJudge(lambda p: "PASS", "relevance")
    with spyglass.trace("app-request") as outer:
        score = judge(EvalCase(inputs="q", output="a", trace_id="f" * 32, db=traced))
    assert outer is not None and score is not None and not score.failed
    spyglass.flush()
    store = spyglass.Store(traced)
    (judged,) = [t for t in store.traces(internal=True) if t.name == "spyglass.judge.relevance"]
    assert judged.trace_id != outer.trace_id
    span = store.trace(judged.trace_id).spans[0]
    assert span.parent_id is None
    assert "spyglass.judge" in span.attributes["spyglass.tags"]  # type: ignore[operator]
    metadata = json.loads(str(span.attributes["spyglass.metadata"]))
    assert metadata["spyglass.judge.trace_id"] == "f" * 32
    assert (span.prompt_name, span.prompt_version) == ("spyglass.judge.relevance", "1")


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def test_openai_and_anthropic_clients_as_judges(llm_server: FakeLLMServer) -> None:
    llm_server.reset()
    llm_server.queue(Reply(text='{"score": 5, "reason": "same facts"}'), Reply(text="Score: 2/5"))
    client = openai.OpenAI(base_url=llm_server.openai_base_url, api_key="test", max_retries=0)
    score = LLMJudge(client, "correctness", model="gpt-judge")(CASE)
    assert (
        score is not None
        and score.value == 1.0
        and score.evaluator == ("llm_judge:correctness:gpt-judge")
    )
    claude = anthropic.Anthropic(
        base_url=llm_server.anthropic_base_url, api_key="test", max_retries=0
    )
    assert LLMJudge(claude, "relevance", model="claude-judge")(CASE).value == 0.4  # type: ignore[union-attr]
    bodies = [request.body for request in llm_server.requests]
    assert [body["model"] for body in bodies] == ["gpt-judge", "claude-judge"]
    assert "Reference answer:\nOne SQLite file." in bodies[0]["messages"][0]["content"]
    with pytest.raises(EvaluationError, match="needs model="):
        LLMJudge(client, "relevance")
