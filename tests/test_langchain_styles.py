"""Every way of calling a LangChain runnable gives whole, separate, correctly nested traces."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from langchain_core.runnables import Runnable
from langchain_fakes import all_traces, attr_json, only_trace, span_named, tree
from opentelemetry import trace as otel_trace

import spyglass
from spyglass.demo import QUESTIONS, build_chain
from spyglass.tracer import attributes as A
from spyglass.tracer._records import Trace

#: What one run of the demo chain looks like (siblings of the parallel step in any order).
EXPECTED = sorted(
    [
        (0, "CHAIN", "rag-chain"),
        (1, "CHAIN", "RunnableParallel<context,question>"),
        (2, "CHAIN", "RunnableSequence"),
        (3, "RETRIEVER", "ScoredRetriever"),
        (3, "CHAIN", "format_docs"),
        (2, "CHAIN", "RunnablePassthrough"),
        (1, "CHAIN", "ChatPromptTemplate"),
        (1, "LLM", "DemoChatModel"),
        (1, "CHAIN", "StrOutputParser"),
    ]
)


@pytest.fixture
def chain(db: Path) -> Runnable[str, str]:
    spyglass.autolog(db=db, integrations=["langchain"])
    return build_chain()


def assert_whole(trace: Trace, question: str) -> None:
    """One complete run of the chain for ``question``, every span OK, usage on the LLM."""
    assert sorted(tree(trace)) == EXPECTED
    assert all(span.status == "OK" for span in trace.spans)
    assert attr_json(trace.root, A.SPYGLASS_INPUT) == question  # type: ignore[arg-type]
    retriever = span_named(trace, "ScoredRetriever")
    assert retriever.attributes[A.GEN_AI_RETRIEVAL_QUERY_TEXT] == question
    assert len(retriever.documents) == 4
    llm = span_named(trace, "DemoChatModel")
    assert llm.input_tokens and llm.output_tokens
    assert trace.summary.input_tokens == llm.input_tokens


def by_question(traces: list[Trace]) -> dict[str, Trace]:
    return {attr_json(t.root, A.SPYGLASS_INPUT): t for t in traces}  # type: ignore[arg-type]


def test_invoke(chain: Runnable[str, str], db: Path) -> None:
    chain.invoke(QUESTIONS[0])
    assert_whole(only_trace(db), QUESTIONS[0])


def test_batch_gives_one_trace_per_input(chain: Runnable[str, str], db: Path) -> None:
    answers = chain.batch(list(QUESTIONS), config={"max_concurrency": 3})
    assert len(answers) == len(QUESTIONS)
    traces = all_traces(db)
    assert len(traces) == len(QUESTIONS)
    for question, trace in by_question(traces).items():
        assert_whole(trace, question)


def test_stream_records_the_input_once_known(chain: Runnable[str, str], db: Path) -> None:
    chunks = list(chain.stream(QUESTIONS[1]))
    assert len(chunks) > 1  # the model streamed
    trace = only_trace(db)
    assert_whole(trace, QUESTIONS[1])
    parser = span_named(trace, "StrOutputParser")
    assert attr_json(parser, A.SPYGLASS_INPUT)["role"] == "assistant"  # not the placeholder
    llm = span_named(trace, "DemoChatModel")
    assert llm.attributes[A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] >= 0  # type: ignore[operator]


async def test_ainvoke(chain: Runnable[str, str], db: Path) -> None:
    await chain.ainvoke(QUESTIONS[2])
    assert_whole(only_trace(db), QUESTIONS[2])


async def test_abatch(chain: Runnable[str, str], db: Path) -> None:
    await chain.abatch(list(QUESTIONS))
    traces = all_traces(db)
    assert len(traces) == len(QUESTIONS)
    for question, trace in by_question(traces).items():
        assert_whole(trace, question)


async def test_astream(chain: Runnable[str, str], db: Path) -> None:
    chunks = [chunk async for chunk in chain.astream(QUESTIONS[0])]
    assert "".join(chunks).startswith("All spans")
    trace = only_trace(db)
    assert_whole(trace, QUESTIONS[0])
    assert A.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK in span_named(trace, "DemoChatModel").attributes


async def test_astream_events(chain: Runnable[str, str], db: Path) -> None:
    kinds = {event["event"] async for event in chain.astream_events(QUESTIONS[0], version="v2")}
    assert {"on_chain_start", "on_retriever_end", "on_chat_model_stream"} <= kinds
    assert_whole(only_trace(db), QUESTIONS[0])


async def test_concurrent_ainvokes_are_separate_traces(chain: Runnable[str, str], db: Path) -> None:
    questions = [f"{QUESTIONS[i % 3]} ({i})" for i in range(12)]
    await asyncio.gather(*(chain.ainvoke(q) for q in questions))
    traces = all_traces(db)
    assert len(traces) == 12
    assert sorted(by_question(traces)) == sorted(questions)
    for question, trace in by_question(traces).items():
        assert_whole(trace, question)


def test_worker_threads(chain: Runnable[str, str], db: Path) -> None:
    questions = [f"{QUESTIONS[i % 3]} #{i}" for i in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(chain.invoke, questions))
    traces = all_traces(db)
    assert sorted(by_question(traces)) == sorted(questions)
    for question, trace in by_question(traces).items():
        assert_whole(trace, question)


async def test_callbacks_never_change_the_current_otel_context(chain: Runnable[str, str]) -> None:
    before = otel_trace.get_current_span()
    await chain.ainvoke(QUESTIONS[0])
    chain.invoke(QUESTIONS[0])
    list(chain.stream(QUESTIONS[0]))
    assert otel_trace.get_current_span() is before


async def test_concurrent_runs_under_one_trace_block(chain: Runnable[str, str], db: Path) -> None:
    with spyglass.trace("fan-out") as outer:
        assert outer is not None
        await asyncio.gather(*(chain.ainvoke(q) for q in QUESTIONS))
    trace = only_trace(db)
    assert trace.root is not None and trace.root.name == "fan-out"
    chains = trace.children(trace.root)
    assert len(chains) == 3 and {c.name for c in chains} == {"rag-chain"}
    assert len(trace.spans) == 1 + 3 * len(EXPECTED)


def test_a_stream_closed_early_leaves_no_open_run(chain: Runnable[str, str], db: Path) -> None:
    from spyglass.integrations.langchain._runs import SHARED_RUNS

    stream = chain.stream(QUESTIONS[1])
    next(stream)
    stream.close()
    trace = only_trace(db)
    assert len(trace.spans) == len(EXPECTED)
    assert all(span.status == "OK" for span in trace.spans)
    assert len(SHARED_RUNS) == 0


def test_generator_exit_is_not_an_error(db: Path) -> None:
    import uuid

    from spyglass.integrations.langchain import SpyglassCallbackHandler

    spyglass.autolog(db=db, integrations=[])
    handler, run = SpyglassCallbackHandler(), uuid.uuid4()
    handler.on_chain_start(None, {"input": ""}, run_id=run, name="streamed")
    handler.on_chain_error(GeneratorExit(), run_id=run, inputs="the real input")
    span = only_trace(db).root
    assert span is not None and span.status == "OK" and span.name == "streamed"
    assert attr_json(span, A.SPYGLASS_INPUT) == "the real input"
