"""``spyglass demo``: a small offline RAG app with two prompt versions, traced, then shown.

The demo registers two versions of a RAG prompt in the registry (once: a re-run finds them by
content, so it never adds versions 3 and 4), answers a few questions with each, and prints one
trace in full, the diff of the two versions with what their runs did, and what to try next.

With LangChain installed (``spyglass-trace[langchain]``) the app is a real LangChain chain
(``spyglass.demo``: scored retriever, the version's ``to_langchain()`` template, a
stand-in chat model that reports token usage, string parser) traced by ``autolog``; the
template's metadata links the runs to the version. Without it, the same pipeline is plain
Python under ``spyglass.trace``, and ``format()`` of the version inside the trace links it.
Either way one run also makes a tool call that fails, to show an error.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import click

from spyglass.cli._common import console, db_option, errors_to_exit

if TYPE_CHECKING:
    from rich.console import Console

    from spyglass.prompts import PromptRegistry, PromptVersion

CORPUS = {
    "doc-otel": "spyglass records every LLM call as an OpenTelemetry span.",
    "doc-sqlite": "All spans of a process are stored in one SQLite file with a stable schema.",
    "doc-tui": "A terminal viewer shows traces, retrieved documents and prompt diffs.",
    "doc-redact": "API keys and bearer tokens are scrubbed before anything is written.",
}
QUESTIONS = (
    "Where are the spans stored?",
    "What does the terminal viewer show?",
    "How are API keys handled?",
)
PROMPT_NAME = "demo-rag"
#: The two versions: the second is stricter and longer, so its runs use more input tokens.
VERSIONS = (
    (
        [("system", "Answer from the context.\nContext:\n{context}"), ("user", "{question}")],
        "first cut",
    ),
    (
        [
            (
                "system",
                "Answer in one sentence, only from the context. If it does not say, "
                "answer that you do not know.\nContext:\n{context}",
            ),
            ("user", "Question: {question}"),
        ],
        "one sentence, only from the context",
    ),
)
SEARCH_WORD = "terminal"
#: ``run(question, call_tool)``: one answer of the app, in the caller's trace.
Runner: TypeAlias = Callable[[str, bool], str]
_WORD = re.compile(r"[a-z0-9]+")


def langchain_available() -> bool:
    """LangChain core and numpy (its in-memory vector store needs it) are importable."""
    try:
        return all(
            importlib.util.find_spec(name) is not None for name in ("langchain_core", "numpy")
        )
    except (ImportError, ValueError):
        return False


def register_versions(registry: PromptRegistry) -> tuple[PromptVersion, PromptVersion]:
    """Versions 1 and 2 of the demo prompt, registered only if no version has their content.

    Registering returns the existing version only when the content equals the *latest* one, so
    registering the first version again after the second would add a third: look it up."""
    from spyglass.prompts._template import content_hash, normalize

    existing = registry.versions(PROMPT_NAME) if PROMPT_NAME in registry.names() else []
    found = []
    for template, message in VERSIONS:
        digest = content_hash(normalize(template), None, None)
        same = [v for v in existing if v.hash == digest]
        found.append(same[0] if same else registry.register(PROMPT_NAME, template, message))
    return found[0], found[1]


# -- the plain-Python pipeline (no LangChain) ------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def retrieve(question: str, k: int = 2) -> list[tuple[float, str, str]]:
    """A keyword retriever: ``(score, id, text)`` of the k documents sharing most words."""
    import spyglass
    from spyglass.tracer import attributes as A

    with spyglass.trace("keyword-retriever", kind="RETRIEVER") as span:
        wanted = _words(question)
        scored = sorted(
            (
                (len(wanted & _words(text)) / len(wanted), doc_id, text)
                for doc_id, text in CORPUS.items()
            ),
            reverse=True,
        )[:k]
        if span is not None:
            documents = [
                {"id": d, "score": round(s, 4), "content": t, "metadata": {"source": "demo"}}
                for s, d, t in scored
            ]
            span.set_attribute(A.GEN_AI_OPERATION_NAME, "retrieval")
            span.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, question)
            span.set_attribute(A.GEN_AI_RETRIEVAL_DOCUMENTS, documents)
        return scored


def stand_in_model(messages: Sequence[dict[str, str]]) -> str:
    """A deterministic "chat model": the first line of the context; reports token counts."""
    import spyglass
    from spyglass.tracer import attributes as A

    with spyglass.trace("demo-model", kind="LLM") as span:
        text = "\n".join(m["content"] for m in messages)
        answer = text.split("Context:\n", 1)[-1].split("\n", 1)[0]
        if span is not None:
            output = {"role": "assistant", "parts": [{"type": "text", "content": answer}]}
            span.set_attributes(
                {
                    A.GEN_AI_OPERATION_NAME: "chat",
                    A.GEN_AI_PROVIDER_NAME: "spyglass-demo",
                    A.GEN_AI_REQUEST_MODEL: "demo-echo-1",
                    A.GEN_AI_USAGE_INPUT_TOKENS: len(_WORD.findall(text.lower())),
                    A.GEN_AI_USAGE_OUTPUT_TOKENS: len(_WORD.findall(answer.lower())),
                    A.GEN_AI_INPUT_MESSAGES: [
                        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
                        for m in messages
                    ],
                    A.GEN_AI_OUTPUT_MESSAGES: [{**output, "finish_reason": "stop"}],
                }
            )
        return answer


def lookup_weather(city: str) -> str:
    """The demo's tool: its service never answers."""
    raise TimeoutError(f"weather service did not answer for {city} (demo failure)")


def _plain_tool_call(city: str) -> None:
    import spyglass

    with contextlib.suppress(TimeoutError), spyglass.trace("lookup_weather", kind="TOOL") as span:
        if span is not None:
            span.set_input({"city": city})
        lookup_weather(city)


def plain_runner(version: PromptVersion) -> Runner:
    """The pipeline without LangChain: retrieve, ``version.format()`` (inside the run's span,
    so it links the run and the model call to the version), the stand-in model, the tool."""

    def run(question: str, call_tool: bool) -> str:
        context = "\n".join(text for _, _, text in retrieve(question))
        messages = version.format(context=context, question=question)
        answer = stand_in_model(messages if isinstance(messages, list) else [])
        if call_tool:
            _plain_tool_call("Paris")
        return answer

    return run


def run_pipeline(version: PromptVersion, question: str, *, call_tool: bool = False) -> str:
    """One traced run of the plain pipeline (the fallback without LangChain)."""
    return run_once(plain_runner(version), version, question, call_tool)[0]


# -- the LangChain app -----------------------------------------------------------------------------


def langchain_runner(version: PromptVersion) -> Runner:
    """The demo chain with the version's ``to_langchain()`` template, and a tool that fails."""
    from langchain_core.tools import StructuredTool

    from spyglass.demo import build_chain

    chain = build_chain(prompt=version.to_langchain())
    weather = StructuredTool.from_function(
        lookup_weather, name="lookup_weather", description="Current weather in a city."
    )

    def run(question: str, call_tool: bool) -> str:
        answer = chain.invoke(question)
        if call_tool:
            with contextlib.suppress(TimeoutError):
                weather.invoke({"city": "Paris"})
        return answer

    return run


# -- the command -----------------------------------------------------------------------------------


def run_once(
    run: Runner, version: PromptVersion, question: str, call_tool: bool = False
) -> tuple[str, str | None]:
    """One question as one trace (root span ``rag-demo``): the answer and the trace id."""
    import spyglass

    tags = ("demo", version.ref)
    with spyglass.trace("rag-demo", session_id="demo-session", tags=tags) as span:
        if span is not None:
            span.set_input({"question": question})
        answer = run(question, call_tool)
        if span is not None:
            span.set_output(answer)
    return answer, span.trace_id if span is not None else None


def run_all(db: str, versions: Sequence[PromptVersion], with_langchain: bool) -> str | None:
    """Every question with every version, each its own trace, into ``db``; the very last run
    also makes the failing tool call. Returns that run's trace id."""
    import spyglass

    spyglass.autolog(db=db, integrations=["langchain"] if with_langchain else ())
    make_runner = langchain_runner if with_langchain else plain_runner
    shown = None
    for version in versions:
        run = make_runner(version)
        for question in QUESTIONS:
            last = version is versions[-1] and question == QUESTIONS[-1]
            shown = run_once(run, version, question, call_tool=last)[1]
    spyglass.flush()
    return shown


def db_flag(db: str) -> str:
    """`` --db PATH`` for the commands to try next, unless ``db`` is the default file."""
    from spyglass.tracer._config import default_db

    if Path(db).resolve() == default_db().resolve():
        return ""
    return f" --db {shlex.quote(db)}"


def try_next(trace_id: str, v1: PromptVersion, v2: PromptVersion, db: str) -> str:
    """The commands to run next, each with what it shows."""
    flag = db_flag(db)
    commands = [
        ("spyglass traces", "newest traces first"),
        (f"spyglass show {trace_id[:12]} --full", "the trace above"),
        (f"spyglass search {SEARCH_WORD}", "full-text search"),
        (
            f"spyglass prompts diff {PROMPT_NAME} {v1.version} {v2.version}",
            "the two versions and their runs",
        ),
        ("spyglass stats", "per model and prompt version"),
        ("spyglass ui", "interactive browser (q quits)"),
    ]
    width = max(len(command + flag) for command, _ in commands) + 2
    lines = [f"  {(command + flag).ljust(width)}{what}" for command, what in commands]
    return "Try next:\n" + "\n".join(lines)


def run_demo(db: str, console: Console) -> None:
    """Register the two versions, run the app with each, print a trace, the diff and hints."""
    import spyglass
    from spyglass.prompts import PromptRegistry
    from spyglass.viewer._prompts import diff_view
    from spyglass.viewer._static import trace_view

    with_langchain = langchain_available()
    with PromptRegistry(db) as registry:
        v1, v2 = register_versions(registry)
        try:
            trace_id = run_all(db, (v1, v2), with_langchain)
        finally:
            spyglass.autolog(disable=True)
        diff = registry.diff(PROMPT_NAME, v1.version, v2.version)
    if trace_id is None:  # spyglass.trace could not start a span: autolog logged why
        from spyglass.errors import DatabaseError

        raise DatabaseError(f"the demo could not record its traces in {db}")
    with spyglass.Store(db) as store:
        trace = store.trace(trace_id)
    app = "LangChain RAG chain" if with_langchain else "RAG pipeline (plain Python)"
    _rule(console, "one run of the app, in full")
    console.print(trace_view(trace, full=True, width=console.width), crop=False)
    _rule(console, "the two prompt versions, and what their runs did")
    console.print(diff_view(diff))
    console.print(
        f"\nRan the offline {app} with {v1.ref} and {v2.ref}, {len(QUESTIONS)} questions "
        f"each, into {db}.\n" + try_next(trace.trace_id, v1, v2, db),
        highlight=False,
        soft_wrap=True,  # long paths: let the terminal wrap, never break a command
    )


def _rule(console: Console, title: str) -> None:
    from rich.rule import Rule

    console.print()
    console.print(Rule(title, align="left", style="cyan"))


@click.command()
@db_option
@errors_to_exit
def demo(db: str | None) -> None:
    """Run an offline, traced RAG demo with two prompt versions, and show it."""
    run_demo(db or os.environ.get("SPYGLASS_DB") or "spyglass.db", console())
