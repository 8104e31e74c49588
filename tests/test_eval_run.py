"""``spyglass.evaluate`` end to end: traced examples, stored runs and scores, failures,
concurrency and contexts, targets of every kind, and comparing runs."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableLambda

import spyglass
from spyglass.errors import EvaluationError
from spyglass.evaluation._store import get_run, load_rows
from spyglass.evaluators import EvalCase, contains, exact_match, groundedness, hit_rate, mrr
from spyglass.tracer import _runtime
from spyglass.tracer import attributes as A
from spyglass.tracer._db import open_for_read

DOCS = {
    "d-sql": "Spans are stored in one SQLite file.",
    "d-tui": "The terminal viewer shows traces.",
    "d-key": "API keys are redacted before storage.",
}
DATA = [
    {
        "question": "Where are spans stored?",
        "expected": DOCS["d-sql"],
        "expected_doc_ids": ["d-sql"],
    },
    {"question": "What does the viewer show?", "expected": "traces", "expected_doc_ids": ["d-tui"]},
    {"question": "Are API keys kept?", "expected": DOCS["d-key"], "expected_doc_ids": ["d-key"]},
]


def retrieve(question: str) -> list[str]:
    with spyglass.trace("retrieve", kind="RETRIEVER") as span:
        words = set(question.lower().strip("?").split())
        ranked = sorted(DOCS, key=lambda d: -len(words & set(DOCS[d].lower().split())))
        docs = [{"id": d, "content": DOCS[d], "score": 1.0 / (i + 1)} for i, d in enumerate(ranked)]
        assert span is not None
        span.set_attribute(A.GEN_AI_RETRIEVAL_DOCUMENTS, json.dumps(docs))
        return ranked


def rag(question: str) -> str:
    if "keys" in question:
        raise RuntimeError("the model is down")
    return DOCS[retrieve(question)[0]]


def test_evaluate_traces_scores_and_stores_a_run(traced: Path) -> None:
    result = spyglass.evaluate(
        rag, DATA, [exact_match(), contains(), hit_rate(), mrr(), groundedness()], name="v1"
    )
    assert [row.position for row in result.rows] == [0, 1, 2]
    first, second, failed = result.rows
    assert first.scores["exact_match"].value is True and first.scores["mrr"].value == 1.0
    assert second.scores["exact_match"].value is False and second.scores["contains"].value
    assert failed.error == "RuntimeError: the model is down" and failed.scores == {}
    assert len({row.trace_id for row in result.rows}) == 3
    metrics = result.metrics
    assert metrics["examples"] == 3 and metrics["errors"] == 1
    assert metrics["scores"]["exact_match"] == {  # type: ignore[index]
        "count": 2,
        "mean": 0.5,
        "pass_rate": 0.5,
        "failed": 0,
    }
    assert metrics["latency_ms"]["p50"] > 0  # type: ignore[index]
    with open_for_read(traced) as conn:
        run = get_run(conn, "v1")
        stored = load_rows(conn, run.run_id)
    assert run.status == "completed" and run.metrics == metrics and run.example_count == 3
    assert run.dataset_hash == result.run.dataset_hash and run.target.endswith(":rag")  # type: ignore[union-attr]
    assert [r.scores.keys() for r in stored] == [r.scores.keys() for r in result.rows]
    assert stored[1].output == result.rows[1].output and stored[2].error == failed.error
    json.dumps(result.to_dict())  # the documented JSON form is JSON


def test_each_example_trace_names_its_run(traced: Path) -> None:
    result = spyglass.evaluate(rag, DATA[:2], [], name="linked")
    store = spyglass.Store(traced)
    for row in result.rows:
        assert row.trace_id is not None
        trace = store.trace(row.trace_id)
        assert trace.root is not None and trace.root.name == "eval:linked"
        for span in trace.spans:  # inherited: the retriever span names the run too
            metadata = json.loads(str(span.attributes[A.SPYGLASS_METADATA]))
            assert metadata["spyglass.eval.run_id"] == result.run_id
            assert metadata["spyglass.eval.example"] == row.position
            assert "spyglass.eval" in span.attributes[A.SPYGLASS_TAGS]  # type: ignore[operator]


def test_examples_are_root_traces_even_inside_a_span(traced: Path) -> None:
    with spyglass.trace("notebook-cell", session_id="s-1") as outer:
        result = spyglass.evaluate(lambda question: "ok", DATA, [], concurrency=2)
    assert outer is not None
    store = spyglass.Store(traced)
    for row in result.rows:
        assert row.trace_id != outer.trace_id
        root = store.trace(str(row.trace_id)).root
        assert root is not None and root.parent_id is None
        assert root.attributes[A.GEN_AI_CONVERSATION_ID] == "s-1"  # the caller's session holds


def test_examples_run_concurrently(traced: Path) -> None:
    barrier = threading.Barrier(2, timeout=10)

    def target(question: str) -> str:
        barrier.wait()  # breaks (and fails the example) unless two run at once
        return question

    result = spyglass.evaluate(target, DATA[:2], [], concurrency=2)
    assert [row.error for row in result.rows] == [None, None]


def test_without_a_pipeline_evaluate_traces_into_db_and_turns_autolog_off(db: Path) -> None:
    assert _runtime.active() is None
    result = spyglass.evaluate(rag, DATA[:1], ["exact_match"], db=db)
    assert _runtime.active() is None
    assert spyglass.Store(db).trace(str(result.rows[0].trace_id)).spans


def test_db_other_than_the_pipelines_is_an_error(traced: Path, tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="traces go to"):
        spyglass.evaluate(rag, DATA, [], db=tmp_path / "other.db")
    assert not (tmp_path / "other.db").exists()


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True])
def test_bad_arguments_fail_before_anything_runs(traced: Path, concurrency: object) -> None:
    with pytest.raises(EvaluationError, match="concurrency"):
        spyglass.evaluate(rag, DATA, [], concurrency=concurrency)  # type: ignore[arg-type]
    with pytest.raises(EvaluationError, match="target must be"):
        spyglass.evaluate(42, DATA, [])
    with sqlite3.connect(traced) as conn:
        assert conn.execute("SELECT count(*) FROM eval_runs").fetchone() == (0,)


def test_targets_of_every_kind(traced: Path) -> None:
    def whole(example: dict[str, str]) -> str:  # the signature does not fit: gets the dict
        return example["question"].upper()

    async def coroutine(question: str) -> str:
        await asyncio.sleep(0)
        return question[::-1]

    class QueryEngine:
        def query(self, text: str) -> str:
            return f"engine: {text}"

    runnable = RunnableLambda(lambda inputs: inputs["question"] + "!")
    data = [{"question": "abc"}]
    outputs = [
        spyglass.evaluate(target, data, []).rows[0].output
        for target in (whole, coroutine, QueryEngine(), runnable, lambda question: question * 2)
    ]
    assert outputs == ["ABC", "cba", "engine: abc", "abc!", "abcabc"]
    assert spyglass.evaluate(QueryEngine(), [{"inputs": {"q": 1, "r": 2}}], []).rows[0].error


def test_csv_and_dataframe_data(traced: Path, tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_text(
        'question,expected\n"Where are spans stored?","Spans are stored in one SQLite file."\n'
    )
    from_csv = spyglass.evaluate(rag, path, [exact_match()])
    assert from_csv.run.dataset_name == "qa" and from_csv.rows[0].scores["exact_match"].value
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(DATA[:2])
    result = spyglass.evaluate(rag, frame, [exact_match()])
    table = result.to_dataframe()
    assert list(table["exact_match"]) == [True, False]
    assert list(table["trace_id"]) == [row.trace_id for row in result.rows]


class Stop(BaseException):
    pass


def test_an_interrupted_run_is_marked_failed(traced: Path) -> None:
    def target(question: str) -> str:
        raise Stop

    with pytest.raises(Stop):
        spyglass.evaluate(target, DATA, [], name="stopped", concurrency=1)
    with open_for_read(traced) as conn:
        assert get_run(conn, "stopped").status == "failed"


def test_compare_finds_regressions_by_example_not_position(traced: Path) -> None:
    def better(question: str) -> str:
        return DOCS[retrieve(question)[0]]

    def worse(question: str) -> str:
        if "viewer" in question:
            raise ValueError("broke")
        return "I do not know."

    checks = [exact_match(), contains()]
    a = spyglass.evaluate(better, DATA, checks, name="a")
    b = spyglass.evaluate(worse, list(reversed(DATA)), checks, name="b")
    comparison = a.compare(b)
    assert comparison.matched == 3 and comparison.only_a == comparison.only_b == 0
    changes = {(c.inputs["question"], c.score, c.change) for c in comparison.changes}  # type: ignore[index]
    assert changes == {
        ("Where are spans stored?", "exact_match", "pass→fail"),
        ("Where are spans stored?", "contains", "pass→fail"),
        ("Are API keys kept?", "exact_match", "pass→fail"),
        ("Are API keys kept?", "contains", "pass→fail"),
        ("What does the viewer show?", None, "ok→error"),
    }
    assert comparison.changes[0].change == "pass→fail"  # regressions first
    deltas = {m.metric: m.delta for m in comparison.metrics}
    assert deltas["exact_match.mean"] == pytest.approx(-2 / 3, abs=1e-4)  # metrics keep 4 digits
    assert deltas["error_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_custom_evaluators_see_the_trace(traced: Path) -> None:
    seen: list[int] = []

    def span_count(case: EvalCase) -> float:
        trace = case.trace()
        seen.append(len(trace.spans))
        return float(len(trace.spans))

    result = spyglass.evaluate(rag, DATA[:1], [span_count])
    assert seen == [2] and result.rows[0].scores["span_count"].value == 2.0


def test_prompt_versions_seen_are_recorded(traced: Path) -> None:
    registry = spyglass.PromptRegistry(traced)
    version = registry.register("qa", "Q: {question}")

    def target(question: str) -> str:
        with spyglass.trace("model", kind="LLM"):
            return str(version.format(question=question))

    result = spyglass.evaluate(target, DATA[:2], [])
    assert result.prompt_versions == ("qa@1",)


def test_pool_isolates_contexts_and_passes_errors_up() -> None:
    from contextvars import ContextVar

    from spyglass.evaluation._pool import pooled

    var: ContextVar[str] = ContextVar("var", default="unset")
    var.set("caller")

    def work(item: int) -> str:
        seen = var.get()
        var.set(f"task {item}")  # must not leak into the next task of this thread
        return seen

    assert list(pooled(range(20), work, 3)) == ["caller"] * 20

    def boom(item: int) -> int:
        if item == 3:
            raise Stop
        return item

    with pytest.raises(Stop):
        list(pooled(range(10), boom, 2))


def test_progress_bar_on_request(traced: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = spyglass.evaluate(rag, DATA[:2], [exact_match()], progress=True)
    assert result.metrics["examples"] == 2
    assert capsys.readouterr().out == ""  # the bar writes to stderr only


def test_result_json_holds_any_output(traced: Path) -> None:
    class Response:  # e.g. a LlamaIndex Response: not JSON by itself
        def __init__(self, text: str) -> None:
            self.response = text

    result = spyglass.evaluate(lambda question: Response("here"), DATA[:1], [contains("here")])
    assert result.rows[0].scores["contains"].value is True  # evaluators read its text
    row = json.loads(json.dumps(result.to_dict()))["rows"][0]
    assert "Response object" in row["output"]  # as spans record an object: its repr
