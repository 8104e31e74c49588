"""Built-in code evaluators, the JSON schema subset, and datasets: pure functions on
hand-built ``EvalCase`` records (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spyglass.errors import EvaluationError
from spyglass.evaluation._bind import Bound, bind, from_spec
from spyglass.evaluation._case import EvalCase, RetrievedDocument, TraceFacts, text_of
from spyglass.evaluation._datasets import load_dataset
from spyglass.evaluation._json_schema import _check
from spyglass.evaluators import (
    contains,
    exact_match,
    groundedness,
    hit_rate,
    json_schema,
    latency_budget,
    mrr,
    regex,
    token_budget,
    valid_json,
)
from spyglass.tracer._score_types import Score

DOCS = (
    RetrievedDocument("d1", "Spans are stored in one SQLite file.", 0.9),
    RetrievedDocument("d2", "The viewer runs in the terminal.", 0.5),
    RetrievedDocument("d3", "Keys are redacted before storage.", 0.1),
)


def case(output: object = "", expected: object = None, **kw: object) -> EvalCase:
    return EvalCase(inputs={"question": "q"}, output=output, expected=expected, **kw)  # type: ignore[arg-type]


def traced_case(
    output: object = "", ids: tuple[str, ...] | None = None, **facts: object
) -> EvalCase:
    values: dict[str, object] = {
        "trace_id": "t",
        "status": "OK",
        "duration_ms": 120.0,
        "input_tokens": 300,
        "output_tokens": 40,
        "documents": DOCS,
    }
    values.update(facts)
    return case(output, expected_doc_ids=ids, facts=TraceFacts(**values))  # type: ignore[arg-type]


def test_exact_match_and_contains() -> None:
    assert exact_match()(case(" Paris\n", "Paris")) == Score("exact_match", True)
    miss = exact_match()(case("paris", "Paris"))
    assert miss is not None and miss.value is False and "expected 'Paris'" in (miss.comment or "")
    assert exact_match(ignore_case=True)(case("paris", ["Lyon", "PARIS"])).value is True  # type: ignore[union-attr]
    assert exact_match()(case("Paris")) is None  # no expected answer: not applicable
    assert contains()(case("It is Paris, France.", "paris")).value is True  # type: ignore[union-attr]
    assert contains(("SQLite", "file"))(case("one sqlite FILE")).value is True  # type: ignore[union-attr]
    missing = contains(("SQLite", "WAL"))(case("one sqlite file"))
    assert missing is not None and missing.comment == "missing 'WAL'"


def test_output_text_reads_messages_responses_and_answer_fields() -> None:
    class Message:
        content = "from a message"

    class Response:
        response = "from llama-index"

    assert text_of(Message()) == "from a message"
    assert text_of(Response()) == "from llama-index"
    assert text_of({"answer": "from a dict", "sources": []}) == "from a dict"
    assert text_of({"x": 1, "y": 2}) == '{"x": 1, "y": 2}'


def test_regex_valid_json_and_schema() -> None:
    assert regex(r"\d{4}")(case("in 2026")).value is True
    with pytest.raises(EvaluationError, match="bad regex"):
        regex("(")
    assert valid_json()(case('```json\n{"a": 1}\n```')).value is True
    broken = valid_json()(case("{a: 1}"))
    assert broken.value is False and (broken.comment or "").startswith("not JSON")
    schema = {
        "type": "object",
        "required": ["answer", "sources"],
        "properties": {
            "answer": {"type": "string", "minLength": 1},
            "sources": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        },
        "additionalProperties": False,
    }
    ok = json_schema(schema)(case({"answer": "yes", "sources": ["d1"]}))
    assert ok.value is True
    bad = json_schema(schema)(case('{"answer": "yes", "sources": [1]}'))
    assert bad.value is False and "$.sources[0]" in (bad.comment or "")


@pytest.mark.parametrize(
    ("value", "schema", "problem"),
    [
        ({"a": 1}, {"required": ["b"]}, "missing required property 'b'"),
        ({"a": 1, "z": 2}, {"properties": {"a": {}}, "additionalProperties": False}, "'z'"),
        (3, {"type": "integer", "maximum": 2}, "more than 2"),
        (2.0, {"type": "integer"}, None),
        (True, {"type": "number"}, "expected number, got boolean"),
        ("b", {"enum": ["a"]}, "one of"),
        ("abc", {"pattern": "^a\\d"}, "does not match"),
        (None, {"anyOf": [{"type": "string"}, {"type": "null"}]}, None),
        ([1, 2, 3], {"minItems": 4}, "fewer than 4"),
    ],
)
def test_schema_subset(value: object, schema: dict[str, object], problem: str | None) -> None:
    found = _check(value, schema, "$")
    assert found is None if problem is None else problem in (found or "")


def test_latency_and_token_budgets_read_the_trace() -> None:
    assert latency_budget(200)(traced_case()).value is True
    slow = latency_budget(100)(traced_case())
    assert slow.value is False and slow.comment == "120.0 ms > 100 ms budget"
    assert token_budget(400)(traced_case()).value is True
    over = token_budget(max_output_tokens=10)(traced_case())
    assert over.value is False and over.comment == "output 40 > 10"
    untraced = latency_budget(100)(case("x"))
    assert untraced.value is None and "not in the file" in (untraced.comment or "")
    with pytest.raises(EvaluationError):
        token_budget()


def test_hit_rate_and_mrr_against_expected_doc_ids() -> None:
    assert hit_rate()(traced_case(ids=("d2",))).value is True  # type: ignore[union-attr]
    assert hit_rate(k=1)(traced_case(ids=("d2",))).value is False  # type: ignore[union-attr]
    assert mrr()(traced_case(ids=("d2", "d3"))).value == 0.5  # type: ignore[union-attr]
    assert mrr()(traced_case(ids=("nope",))).value == 0.0  # type: ignore[union-attr]
    assert mrr()(traced_case(ids=None)) is None  # nothing expected: not applicable
    empty = hit_rate()(traced_case(ids=("d1",), documents=()))
    assert empty is not None and empty.value is False


def test_groundedness_heuristic() -> None:
    grounded = groundedness()(traced_case("Spans are stored in a SQLite file."))
    assert grounded.value == 1.0
    half = groundedness()(traced_case("Spans are stored in SQLite. Bananas grow on tall trees."))
    assert half.value == 0.5 and "Bananas" in (half.comment or "")
    no_docs = groundedness()(traced_case("Anything.", documents=()))
    assert no_docs.value is None


def test_load_dataset_from_lists_jsonl_csv_and_dataframes(tmp_path: Path) -> None:
    listed = load_dataset([{"question": "q1", "expected": "a1", "expected_doc_ids": ["d1"]}])
    first = listed.examples[0]
    assert first.inputs == {"question": "q1"} and first.expected == "a1"
    assert first.expected_doc_ids == ("d1",)
    jsonl = tmp_path / "set.jsonl"
    jsonl.write_text('{"inputs": "plain text", "expected": 3}\n\n{"inputs": {"q": 1}}\n')
    loaded = load_dataset(jsonl)
    assert loaded.name == "set" and [e.inputs for e in loaded.examples] == ["plain text", {"q": 1}]
    csv_file = tmp_path / "set.csv"
    csv_file.write_text('question,expected,expected_doc_ids\n"Where, then?",here,d1|d2\nWhy?,,\n')
    rows = load_dataset(csv_file).examples
    assert rows[0].inputs == {"question": "Where, then?"} and rows[0].expected_doc_ids == (
        "d1",
        "d2",
    )
    assert rows[1].expected is None and rows[1].expected_doc_ids is None
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        [{"question": "q", "expected": None}, {"question": "r", "expected": "x"}]
    )
    from_frame = load_dataset(frame)
    assert [e.expected for e in from_frame.examples] == [None, "x"]
    assert from_frame.examples[0].key == load_dataset([{"question": "q"}]).examples[0].key


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "empty"),
        ([{"expected": "x"}], "no inputs"),
        (["text"], "must be a dict"),
        ([{"inputs": "q", "expected_doc_ids": 5}], "list of ids"),
        (42, "list of dicts"),
        ("missing.jsonl", "no dataset file"),
    ],
)
def test_bad_datasets_say_what_is_wrong(data: object, problem: str) -> None:
    with pytest.raises(EvaluationError, match=problem):
        load_dataset(data)


def test_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"inputs": "ok"}) + "\n{oops\n")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:2: not valid JSON"):
        load_dataset(path)


def test_dataset_hash_changes_with_content() -> None:
    a = load_dataset([{"inputs": "q", "expected": "a"}])
    b = load_dataset([{"inputs": "q", "expected": "b"}])
    assert a.hash != b.hash and a.examples[0].key == b.examples[0].key


def test_evaluator_specs_and_binding() -> None:
    assert from_spec("latency_budget=250").max_ms == 250.0  # type: ignore[attr-defined]
    assert from_spec("mrr=3").k == 3  # type: ignore[attr-defined]
    with pytest.raises(EvaluationError, match="needs an argument"):
        from_spec("regex")
    with pytest.raises(EvaluationError, match="unknown evaluator 'exactmatch'"):
        from_spec("exactmatch")
    with pytest.raises(EvaluationError, match="bad argument"):
        from_spec("mrr=x")
    names = [b.name for b in bind(["contains", exact_match, contains(name="c2")])]
    assert names == ["contains", "exact_match", "c2"]  # a factory passed uncalled is called
    with pytest.raises(EvaluationError, match="two evaluators are named 'exact_match'"):
        bind([exact_match(), "exact_match"])
    with pytest.raises(EvaluationError, match="callable"):
        bind([42])


def test_bound_evaluators_normalise_results_and_never_raise() -> None:
    def short(case: EvalCase) -> bool:
        return len(case.output_text) < 5

    def broken(case: EvalCase) -> object:
        raise ValueError("no")

    def odd(case: EvalCase) -> object:
        return object()

    (bound_short, bound_broken, bound_odd) = bind([short, broken, odd])
    assert bound_short.run(case("hi")) == [Score("short", True, evaluator="short")]
    (failure,) = bound_broken.run(case("hi"))
    assert failure.value is None and failure.comment == "evaluator failed: ValueError: no"
    assert bound_odd.run(case("hi"))[0].failed
    assert isinstance(bound_short, Bound) and bound_short.version is None
