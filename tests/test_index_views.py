"""The index that answered, where a person looks: ``spyglass show`` (plain and ``--full``), the
ui's detail pane, ``spyglass stats`` (runs per prompt version × index) and ``prompts diff``
(linked runs split by index when more than one answered). The file is made by real LangChain
retrievals traced by autolog, with two prompt versions and an index that changes midway."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

import spyglass
from spyglass.cli import main
from spyglass.integrations._index import fingerprint_of
from spyglass.viewer import make_app
from spyglass.viewer._detail import DetailPane
from spyglass.viewer._span_tree import SpanTree

TEXTS = [("The lamp is lit at dusk.", {"page": 1}), ("Tides follow the moon.", {"page": 2})]
MORE = ("The keeper climbs 120 steps.", {"page": 3})
BEFORE, AFTER = fingerprint_of(TEXTS), fingerprint_of([*TEXTS, MORE])


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """qa@1 twice and qa@2 once on the index as built, then qa@2 once after a document was
    added; one run with no registered prompt."""
    db = tmp_path / "runs.db"
    spyglass.autolog(db=db, integrations=["langchain"])
    registry = spyglass.PromptRegistry(db)
    v1 = registry.register("qa", "Answer from {context}: {question}")
    v2 = registry.register("qa", "Answer only from {context}: {question}")
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    store.add_documents([Document(page_content=t, metadata=m) for t, m in TEXTS])
    retriever = store.as_retriever(search_kwargs={"k": 1})

    def ask(version: object) -> None:
        with spyglass.trace("ask"):
            docs = retriever.invoke("lamp")
            if version is not None:
                version.format(context=docs[0].page_content, question="lamp?")  # type: ignore[attr-defined]

    for version in (v1, v1, v2):
        ask(version)
    store.add_documents([Document(page_content=MORE[0], metadata=MORE[1])])
    ask(v2)
    ask(None)
    assert spyglass.flush()
    spyglass.autolog(disable=True)
    return db


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def newest_trace(db: Path) -> str:
    return json.loads(cli("traces", "--db", str(db), "--json"))[0]["trace_id"]


def test_show_prints_the_index(runs: Path) -> None:
    trace = newest_trace(runs)
    plain = cli("show", "--db", str(runs), trace)
    line = (
        f"index InMemoryVectorStore · DeterministicFakeEmbedding 16d · 3 docs · fingerprint {AFTER}"
    )
    assert line in plain
    full = cli("show", "--db", str(runs), trace, "--full")
    assert full.count(line) == 2  # under the header, and in the retriever's panels
    shown = json.loads(cli("show", "--db", str(runs), trace, "--json"))
    (retriever,) = [span for span in shown["spans"] if span["kind"] == "RETRIEVER"]
    assert retriever["attributes"]["spyglass.retrieval.index.fingerprint"] == AFTER


def test_stats_split_runs_by_prompt_version_and_index(runs: Path) -> None:
    data = json.loads(cli("stats", "--db", str(runs), "--json"))
    rows = [
        (i["prompt"], i["fingerprint"], i["document_count"], i["runs"]) for i in data["indexes"]
    ]
    assert rows == [
        ("qa@1", BEFORE, 2, 2),
        ("qa@2", BEFORE, 2, 1),
        ("qa@2", AFTER, 3, 1),
        (None, AFTER, 3, 1),
    ]
    assert {i["index_class"] for i in data["indexes"]} == {"InMemoryVectorStore"}
    text = cli("stats", "--db", str(runs))
    assert "PROMPT" in text and "FINGERPRINT" in text
    table = [line.split() for line in text.splitlines() if BEFORE in line or AFTER in line]
    assert [(r[0], r[2], r[3], r[4]) for r in table] == [
        ("qa@1", BEFORE, "2", "2"),
        ("qa@2", BEFORE, "2", "1"),
        ("qa@2", AFTER, "3", "1"),
        ("-", AFTER, "3", "1"),
    ]


def test_prompts_diff_splits_linked_runs_by_index(runs: Path) -> None:
    data = json.loads(cli("prompts", "diff", "--db", str(runs), "qa", "1", "2", "--json"))
    split = [
        (i["fingerprint"], i["document_count"], i["a"]["runs"], i["b"]["runs"])
        for i in data["runs_by_index"]
    ]
    assert sorted(split) == sorted([(BEFORE, 2, 2, 1), (AFTER, 3, 0, 1)])
    assert (data["runs"]["a"]["runs"], data["runs"]["b"]["runs"]) == (2, 2)
    text = cli("prompts", "diff", "--db", str(runs), "qa", "1", "2")
    assert "BY INDEX" in text
    rows = {line.split()[1]: line.split()[2:] for line in text.splitlines() if "InMemory" in line}
    assert rows[BEFORE][0] == "2" and rows[BEFORE][3] == "1"
    assert rows[AFTER][0] == "0" and rows[AFTER][3] == "1"


def test_prompts_diff_has_no_split_when_one_index_answered(runs: Path) -> None:
    spyglass.PromptRegistry(runs).set_alias("qa", "first", 1)
    data = json.loads(cli("prompts", "diff", "--db", str(runs), "qa", "1", "first", "--json"))
    assert data["runs_by_index"] == []
    assert "BY INDEX" not in cli("prompts", "diff", "--db", str(runs), "qa", "1", "first")


def static_text(pane: DetailPane, selector: str) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(pane.query_one(selector, Static).content)
    return console.export_text()


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if done():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_ui_detail_pane_names_the_index(runs: Path) -> None:
    app = make_app(runs, poll_interval=None)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("enter")  # the newest trace: the run with no prompt
        tree = app.screen.query_one(SpanTree)
        await until(pilot, lambda: tree.root.children != [], "the trace loads")
        pane = app.screen.query_one(DetailPane)
        await pilot.press("j")  # the retriever
        await until(pilot, lambda: "RETRIEVER" in static_text(pane, "#span-line"), "retriever")
        await pilot.press("2")
        docs = static_text(pane, "#documents-body")
        assert "index InMemoryVectorStore" in docs and AFTER in docs
        assert "The lamp is lit" in docs or "Tides follow" in docs  # the documents, still
        await pilot.press("q")


def test_stats_index_split_within_a_window_and_a_project(runs: Path) -> None:
    every = json.loads(cli("stats", "--db", str(runs), "--json"))["indexes"]
    recent = json.loads(cli("stats", "--db", str(runs), "--since", "1h", "--json"))["indexes"]
    assert recent == every and len(every) == 4
    mine = json.loads(cli("stats", "--db", str(runs), "--project", "default", "--json"))
    assert mine["indexes"] == every
    other = json.loads(cli("stats", "--db", str(runs), "--project", "elsewhere", "--json"))
    assert other["indexes"] == []
