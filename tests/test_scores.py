"""``spyglass.score`` and the score read functions, on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import spyglass
from spyglass.errors import (
    AmbiguousTraceId,
    DatabaseNotFound,
    EvaluationError,
    TraceNotFound,
)
from spyglass.tracer._schema import applied_migrations
from spyglass.tracer._score_stats import mean_scores_for_traces, score_summary
from spyglass.tracer._scores import scores


def _two_traces() -> tuple[str, str, str]:
    """Two finished traces (the first with a child span); returns both ids and the child's."""
    with spyglass.trace("first") as root, spyglass.trace("child") as child:
        pass
    with spyglass.trace("second") as other:
        pass
    assert root is not None and child is not None and other is not None
    return root.trace_id, other.trace_id, child.span_id


def test_score_round_trips_numbers_bools_and_labels(traced: Path) -> None:
    first, second, _ = _two_traces()
    spyglass.score(first, "helpful", True, comment="clear")  # flushes before it looks
    spyglass.score(first[:10], "rating", 4)
    spyglass.score(first, "tone", "friendly", source="code")
    spyglass.score(second, "helpful", False)
    stored = scores(traced, trace_id=first)
    assert [(r.score.name, r.score.value, r.score.kind) for r in stored] == [
        ("helpful", True, "bool"),
        ("rating", 4.0, "number"),
        ("tone", "friendly", "label"),
    ]
    assert stored[0].score.comment == "clear" and stored[0].score.source == "human"
    assert stored[2].score.source == "code" and stored[2].trace_id == first
    assert [r.trace_id for r in scores(traced, name="helpful")] == [first, second]
    assert stored[0].to_dict()["created_at"].endswith("Z")


def test_score_on_a_span_resolves_its_prefix(traced: Path) -> None:
    first, _, child = _two_traces()
    record = spyglass.score(first, "retrieval_ok", True, span_id=child[:6])
    assert record.score.span_id == child
    with pytest.raises(TraceNotFound, match="no span"):
        spyglass.score(first, "x", 1, span_id="ffffffffffffffff")


def test_score_validates_trace_name_value_and_source(traced: Path) -> None:
    first, _, _ = _two_traces()
    with pytest.raises(TraceNotFound, match="no trace with id"):
        spyglass.score("0" * 32, "x", 1)
    with pytest.raises(TraceNotFound, match="not a trace id"):
        spyglass.score("not-hex", "x", 1)
    with pytest.raises(EvaluationError, match="name"):
        spyglass.score(first, " ", 1)
    with pytest.raises(EvaluationError, match="finite"):
        spyglass.score(first, "x", float("nan"))
    with pytest.raises(EvaluationError, match="number, a bool or a label"):
        spyglass.score(first, "x", [1, 2])
    with pytest.raises(EvaluationError, match="source"):
        spyglass.score(first, "x", 1, source="robot")  # type: ignore[arg-type]
    assert scores(traced) == []


def test_score_needs_an_existing_file(tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotFound):
        spyglass.score("abc", "x", 1, db=tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()


def test_ambiguous_prefix_is_an_error(traced: Path) -> None:
    conn = sqlite3.connect(traced)
    for suffix in ("1", "2"):
        conn.execute(
            "INSERT INTO traces (trace_id, project, start_ns, end_ns) VALUES (?, 'p', 0, 1)",
            ("ab" * 15 + "c" + suffix,),
        )
    conn.commit()
    with pytest.raises(AmbiguousTraceId):
        spyglass.score("abab", "x", 1, db=traced)


def test_mean_scores_for_traces_skips_labels_and_failures(traced: Path) -> None:
    first, second, _ = _two_traces()
    spyglass.score(first, "helpful", True)
    spyglass.score(second, "helpful", False)
    spyglass.score(first, "rating", 0.5)
    spyglass.score(first, "tone", "friendly")
    assert mean_scores_for_traces(traced, [first, second]) == {"helpful": 0.5, "rating": 0.5}
    assert mean_scores_for_traces(traced, [second]) == {"helpful": 0.0}
    assert mean_scores_for_traces(traced, []) == {}
    with sqlite3.connect(traced) as conn:  # an open connection works as well as a path
        assert mean_scores_for_traces(conn, [first]) == {"helpful": 1.0, "rating": 0.5}


def test_score_summary_counts_pass_rates_like_score_passed(traced: Path) -> None:
    first, second, _ = _two_traces()
    for trace_id, value in ((first, True), (second, False)):
        spyglass.score(trace_id, "helpful", value)
    spyglass.score(first, "verdict", "PASS")
    spyglass.score(second, "verdict", "fail")
    spyglass.score(first, "rating", 4)  # off the 0..1 scale: a mean, no verdict
    summary = {s.name: s for s in score_summary(traced)}
    assert summary["helpful"].pass_rate == 0.5 and summary["helpful"].mean == 0.5
    assert summary["verdict"].pass_rate == 0.5 and summary["verdict"].mean is None
    assert summary["rating"].pass_rate is None and summary["rating"].mean == 4
    assert summary["helpful"].sources == ("human",)
    assert score_summary(traced, project="no-such-project") == []


def test_migrations_add_the_scores_and_run_tables(db: Path) -> None:
    from spyglass.tracer._db import open_for_write

    conn = open_for_write(db)
    names = applied_migrations(conn)
    assert names.index("006_scores") + 1 == names.index("007_eval_runs")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"scores", "eval_runs", "eval_results"} <= tables
    with pytest.raises(sqlite3.IntegrityError):  # the source is checked by the file too
        conn.execute(
            "INSERT INTO scores (trace_id, name, kind, source, created_ns) "
            "VALUES ('t', 'n', 'number', 'robot', 0)"
        )


def test_scores_table_renders_a_traces_scores(traced: Path) -> None:
    from rich.console import Console

    from spyglass.viewer._eval import scores_table

    first, _, child = _two_traces()
    spyglass.score(first, "helpful", True, comment="clear \x1b[2J")
    spyglass.score(first, "span_ok", 0.25, span_id=child)
    console = Console(width=120, record=True, color_system=None)
    console.print(scores_table(scores(traced, trace_id=first)))
    text = console.export_text()
    assert "helpful" in text and "✓" in text and "clear \\x1b[2J" in text
    assert "0.25" in text and child[:8] in text


def test_scores_appear_in_show_and_stats(traced: Path) -> None:
    import json

    from click.testing import CliRunner

    from spyglass.cli import main

    with spyglass.trace("answered") as span:
        assert span is not None
        trace_id = span.trace_id
    spyglass.score(trace_id, "correctness", 0.75, comment="close", source="llm")
    spyglass.score(trace_id, "helpful", True)
    spyglass.autolog(disable=True)
    runner = CliRunner()
    shown = runner.invoke(main, ["show", trace_id[:10], "--db", str(traced)])
    assert shown.exit_code == 0, shown.output
    assert "correctness" in shown.stdout and "0.75" in shown.stdout and "helpful" in shown.stdout
    as_json = json.loads(
        runner.invoke(main, ["show", trace_id, "--db", str(traced), "--json"]).stdout
    )
    assert [s["name"] for s in as_json["scores"]] == ["correctness", "helpful"]
    stats = runner.invoke(main, ["stats", "--db", str(traced)])
    assert stats.exit_code == 0 and "correctness" in stats.stdout and "PASS RATE" in stats.stdout
    data = json.loads(runner.invoke(main, ["stats", "--db", str(traced), "--json"]).stdout)
    assert {s["name"] for s in data["scores"]} == {"correctness", "helpful"}


def test_store_scores(traced: Path) -> None:
    first, second, _ = _two_traces()
    spyglass.score(first, "correctness", 0.5)
    spyglass.score(second, "correctness", 1.0)
    spyglass.score(second, "tone", "friendly")
    store = spyglass.Store(traced)
    assert [r.score.value for r in store.scores(trace_id=second[:8])] == [1.0, "friendly"]
    assert [r.trace_id for r in store.scores(name="correctness")] == [first, second]
