"""``spyglass demo``: a small offline RAG app, traced into the database, then shown.

With LangChain installed (``spyglass-trace[langchain]``) the app is a real LangChain chain
(``spyglass._demo_langchain``: scored retriever, chat prompt, a stand-in chat model that reports
token usage, string parser) traced by ``autolog``, plus a tool that fails, to show an error.
Without it, the same pipeline is plain Python with ``spyglass.trace``: a keyword retriever with
scores, a prompt, a deterministic stand-in "model", and the failing tool call.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

CORPUS = {
    "doc-otel": "spyglass records every LLM call as an OpenTelemetry span.",
    "doc-sqlite": "All spans of a process go into one SQLite file with a documented schema.",
    "doc-tui": "A terminal viewer shows traces, retrieved documents and prompt diffs.",
    "doc-redact": "API keys and bearer tokens are scrubbed before anything is stored.",
}
QUESTIONS = ("Where do the spans go?", "What does the terminal viewer show?")
PROMPT = "Answer from the context.\nContext:\n{context}\nQuestion: {question}"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def run_pipeline(question: str) -> str:
    import spyglass
    from spyglass.tracer import attributes as A

    with spyglass.trace(
        "rag-demo", kind="CHAIN", session_id="demo-session", tags=("demo",)
    ) as chain:
        if chain is not None:
            chain.set_input({"question": question})
        with spyglass.trace("keyword-retriever", kind="RETRIEVER") as retriever:
            scored = sorted(
                (
                    (len(_words(question) & _words(text)) / len(_words(question)), doc_id, text)
                    for doc_id, text in CORPUS.items()
                ),
                reverse=True,
            )[:2]
            if retriever is not None:
                retriever.set_attribute(A.GEN_AI_OPERATION_NAME, "retrieval")
                retriever.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, question)
                retriever.set_attribute(
                    A.GEN_AI_RETRIEVAL_DOCUMENTS,
                    json.dumps(
                        [
                            {
                                "id": d,
                                "score": round(s, 4),
                                "content": t,
                                "metadata": {"source": "demo"},
                            }
                            for s, d, t in scored
                        ]
                    ),
                )
        context = "\n".join(text for _, _, text in scored)
        prompt = PROMPT.format(context=context, question=question)
        with spyglass.trace("demo-model", kind="LLM") as llm:
            answer = scored[0][2]
            if llm is not None:
                llm.set_attributes(
                    {
                        A.GEN_AI_OPERATION_NAME: "chat",
                        A.GEN_AI_PROVIDER_NAME: "spyglass-demo",
                        A.GEN_AI_REQUEST_MODEL: "demo-echo-1",
                        A.GEN_AI_USAGE_INPUT_TOKENS: len(prompt.split()),
                        A.GEN_AI_USAGE_OUTPUT_TOKENS: len(answer.split()),
                        A.GEN_AI_INPUT_MESSAGES: json.dumps(
                            [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
                        ),
                        A.GEN_AI_OUTPUT_MESSAGES: json.dumps(
                            [
                                {
                                    "role": "assistant",
                                    "parts": [{"type": "text", "content": answer}],
                                    "finish_reason": "stop",
                                }
                            ]
                        ),
                    }
                )
        try:
            with spyglass.trace("lookup-weather", kind="TOOL"):
                raise TimeoutError("weather service did not answer (demo failure)")
        except TimeoutError:
            pass
        if chain is not None:
            chain.set_output(answer)
        return answer


def langchain_available() -> bool:
    """LangChain core and numpy (its in-memory vector store needs it) are importable."""
    try:
        return all(
            importlib.util.find_spec(name) is not None for name in ("langchain_core", "numpy")
        )
    except (ImportError, ValueError):
        return False


def _fail_weather_lookup(city: str) -> str:
    raise TimeoutError(f"weather service did not answer for {city} (demo failure)")


def run_langchain_demo(db: str) -> int:
    """Autolog the LangChain integration and ask the demo chain each question; returns how
    many questions were asked."""
    from langchain_core.tools import StructuredTool

    import spyglass
    from spyglass._demo_langchain import QUESTIONS as LC_QUESTIONS
    from spyglass._demo_langchain import build_chain

    spyglass.autolog(db=db, integrations=["langchain"])
    chain = build_chain()
    weather = StructuredTool.from_function(
        _fail_weather_lookup, name="lookup_weather", description="Current weather in a city."
    )
    for question in LC_QUESTIONS:
        with spyglass.trace("rag-demo", session_id="demo-session", tags=("demo",)) as span:
            answer = chain.invoke(question)
            if span is not None:
                span.set_input({"question": question})
                span.set_output(answer)
            with contextlib.suppress(TimeoutError):  # the demo's failing tool call
                weather.invoke({"city": "Paris"})
    return len(LC_QUESTIONS)


def run_demo(db: str, console: Console) -> None:
    import spyglass
    from spyglass.viewer._static import trace_tree

    if langchain_available():
        asked = run_langchain_demo(db)
    else:
        spyglass.autolog(db=db, integrations=())
        for question in QUESTIONS:
            run_pipeline(question)
        asked = len(QUESTIONS)
    spyglass.flush()
    store = spyglass.Store(db)
    latest = store.traces(limit=1)[0]
    console.print(trace_tree(store.trace(latest.trace_id), full=True, width=console.width))
    path = Path(db)
    console.print(
        f"\nTraced {asked} questions into {path}. Try next:\n"
        f"  spyglass traces --db {path}\n"
        f"  spyglass show {latest.trace_id[:8]} --db {path} --full\n"
        f"  spyglass search terminal --db {path}\n"
        f"  sqlite3 {path} 'select name, kind, model, input_tokens from spans limit 5'",
        highlight=False,
    )
