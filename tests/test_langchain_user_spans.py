"""spyglass.trace blocks inside LangChain runnables nest under the runnable's span."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langchain_core.runnables import RunnableLambda

import spyglass


def _tree(db: Path) -> dict[str, str | None]:
    """span name -> parent span name, for the only trace in the file."""
    assert spyglass.flush()
    store = spyglass.Store(db)
    (summary,) = store.traces()
    spans = store.trace(summary.trace_id).spans
    names = {span.span_id: span.name for span in spans}
    return {span.name: names.get(span.parent_id or "") for span in spans}


def test_user_span_inside_a_runnable_nests_under_it(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])

    def step(text: str) -> str:
        with spyglass.trace("inside"), spyglass.trace("deeper"):
            return text.upper()

    chain = RunnableLambda(lambda s: s + "!", name="first") | RunnableLambda(step, name="second")
    with spyglass.trace("request"):
        assert chain.invoke("hi") == "HI!"
    tree = _tree(db)
    assert tree["inside"] == "second"
    assert tree["deeper"] == "inside"
    assert tree["first"] == tree["second"]  # siblings under the sequence
    assert tree[str(tree["second"])] == "request"


def test_spans_after_the_chain_do_not_nest_under_its_last_run(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])
    chain = RunnableLambda(lambda s: s, name="only")
    with spyglass.trace("request"):
        chain.invoke("x")
        with spyglass.trace("after"):
            pass
    tree = _tree(db)
    assert tree["after"] == "request" and tree["only"] == "request"


async def test_async_runnable(db: Path) -> None:
    spyglass.autolog(db=db, integrations=["langchain"])

    async def step(text: str) -> str:
        with spyglass.trace("inside-async"):
            await asyncio.sleep(0)
            return text

    await RunnableLambda(step, name="async-step").ainvoke("x")
    tree = _tree(db)
    assert tree["inside-async"] == "async-step" and tree["async-step"] is None


def test_search_skips_inner_chain_plumbing(db: Path) -> None:
    from spyglass.demo import build_chain

    spyglass.autolog(db=db, integrations=["langchain"])
    build_chain().invoke("How are API keys handled?")
    assert spyglass.flush()
    hits = spyglass.Store(db).search("scrubbed")
    kinds = {(hit.kind, hit.span_name) for hit in hits}
    assert any(kind == "LLM" for kind, _ in kinds)
    assert any(kind == "RETRIEVER" for kind, _ in kinds)
    store = spyglass.Store(db)
    (summary,) = store.traces()
    root = store.trace(summary.trace_id).root
    assert root is not None
    inner_chains = {(k, n) for k, n in kinds if k == "CHAIN" and n != root.name}
    assert inner_chains == set()  # RunnableSequence, passthroughs, parsers: not indexed again
