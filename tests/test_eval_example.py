"""``examples/evaluate_rag.py``: two prompt versions evaluated offline, compared, linked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from spyglass.evaluation._store import list_runs, load_rows
from spyglass.tracer._db import open_for_read
from spyglass.tracer._score_stats import mean_scores_for_traces

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "evaluate_rag.py"


def test_example_evaluates_two_prompt_versions_and_finds_the_regression(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("evaluate_rag_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    regressions = module.main(str(db))
    out = capsys.readouterr().out
    assert regressions > 0 and "pass→fail" in out and "exact_match.pass_rate" in out
    with open_for_read(db) as conn:
        second, first = list_runs(conn)
        rows = load_rows(conn, first.run_id)
    assert (first.name, second.name) == ("rag-qa@1", "rag-qa@2")
    # Every example's trace names the prompt version it rendered (through LangChain).
    assert first.prompt_versions == ("rag-qa@1",) and second.prompt_versions == ("rag-qa@2",)
    scores = first.metrics["scores"]
    assert scores["hit_rate"]["mean"] < 1  # type: ignore[index]  (one question misses)
    assert scores["exact_match"]["mean"] > second.metrics["scores"]["exact_match"]["mean"]  # type: ignore[index]
    assert scores["relevance"]["mean"] == 0.75  # type: ignore[index]  (the fake judge's 4/5)
    # What the prompt diff will show per version: mean scores over the linked traces.
    means = mean_scores_for_traces(db, [str(row.trace_id) for row in rows])
    assert means["exact_match"] == pytest.approx(scores["exact_match"]["mean"], abs=1e-4)  # type: ignore[index]
