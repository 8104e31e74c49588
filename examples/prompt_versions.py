"""Two versions of a RAG prompt, a traced pipeline run with each, and the diff of what they did.

Offline and deterministic: a keyword retriever over a few documents and a stand-in "model" that
answers from the rendered prompt and reports token counts (it fails when the prompt runs over
its context window, which the long first version sometimes does). Each run is a trace; the
prompt's ``format()`` inside the trace links the trace, and the LLM span, to the version used.
With LangChain installed (the ``langchain`` extra), each version also runs as the prompt of a
LangChain chain (``to_langchain()``), linked by the LangChain integration.

    python examples/prompt_versions.py [--db PATH]

Then try ``spyglass prompts diff rag-answer production 2 --db PATH`` or
``spyglass prompts traces rag-answer@2 --db PATH``. Running it again registers nothing new and
adds six more traces.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import time

import spyglass
from spyglass.prompts import PromptRegistry, PromptVersion
from spyglass.tracer import attributes as A

CORPUS = {
    "doc-otel": "spyglass records every LLM call as an OpenTelemetry span. Spans nest by trace.",
    "doc-sqlite": "All spans go into one SQLite file. The schema is documented in the README.",
    "doc-prompts": "Prompts are versioned in the same file. Each trace names the version used.",
}
QUESTIONS = (
    "Where do the spans go?",
    "How are prompts versioned in the file?",
    "What does each LLM call become?",
)
V1 = (
    "You are a helpful assistant for the spyglass project. Read the context below carefully, "
    "think about it, and answer the question completely, quoting the context where useful.\n"
    "Context:\n{context}\n\nQuestion: {question}\nAnswer:"
)
V2 = [
    ("system", "Answer in one sentence, only from the context.\nContext:\n{context}"),
    ("user", "{question}"),
]
NAME = "rag-answer"
CONTEXT_WINDOW = 63  # the stand-in model's limit, in words


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def retrieve(question: str, k: int = 2) -> list[str]:
    with spyglass.trace("keyword-retriever", kind="RETRIEVER") as span:
        wanted = set(words(question))
        ranked = sorted(CORPUS.values(), key=lambda doc: -len(wanted & set(words(doc))))[:k]
        if span is not None:
            span.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, question)
            span.set_output(ranked)
        return ranked


def stand_in_model(prompt: str | list[dict[str, str]], brief: bool) -> str:
    """A deterministic "LLM": the first sentence of the context (two unless brief)."""
    text = prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)
    with spyglass.trace("stand-in-model", kind="LLM") as span:
        used = len(words(text))
        time.sleep(used / 20_000)  # longer prompts take longer
        if used > CONTEXT_WINDOW:
            raise RuntimeError(f"prompt of {used} words exceeds the context window")
        context = text.split("Context:\n", 1)[1]
        sentences = re.split(r"(?<=\.) ", context.split("\n")[0])
        answer = " ".join(sentences[: 1 if brief else 2])
        if span is not None:
            span.set_attributes(
                {
                    A.GEN_AI_REQUEST_MODEL: "stand-in-1",
                    A.GEN_AI_USAGE_INPUT_TOKENS: used,
                    A.GEN_AI_USAGE_OUTPUT_TOKENS: len(words(answer)),
                }
            )
        return answer


def answer(version: PromptVersion, question: str) -> str | None:
    """One traced run of the pipeline with one prompt version; None when the model failed."""
    try:
        with spyglass.trace("rag-answer", tags=(version.ref,)) as span:
            context = "\n".join(retrieve(question))
            prompt = version.format(context=context, question=question)  # links this trace
            result = stand_in_model(prompt, brief=version.is_chat)
            if span is not None:
                span.set_output(result)
            return result
    except RuntimeError:
        return None


def langchain_available() -> bool:
    return all(importlib.util.find_spec(name) for name in ("langchain_core", "numpy"))


def run_with_langchain(versions: tuple[PromptVersion, ...]) -> None:
    """The same versions as LangChain prompts: ``to_langchain()`` templates carry the version
    in their metadata, and the LangChain integration links each run's spans to it."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from spyglass.demo import DemoChatModel, build_retriever, format_docs

    retrieve = build_retriever(k=2) | RunnableLambda(format_docs, name="format_docs")
    for version in versions:
        chain = (
            {"context": retrieve, "question": RunnablePassthrough()}
            | version.to_langchain()
            | DemoChatModel()
            | StrOutputParser()
        ).with_config(run_name="rag-chain-langchain")
        for question in QUESTIONS:
            print(f"{version.ref:<14} {question:<40} -> {chain.invoke(question)} (LangChain)")


def two_versions(registry: PromptRegistry) -> tuple[PromptVersion, PromptVersion]:
    """Register the two versions, once: a re-run finds them. (Registering v1's text again
    after v2 would make a third version: only a repeat of the *latest* content is a no-op.)"""
    if NAME in registry.names() and len(registry.versions(NAME)) >= 2:
        return registry.get(NAME, version=1), registry.get(NAME, version=2)
    v1 = registry.register(NAME, V1, "first cut: thorough", model="stand-in-1")
    v2 = registry.register(
        NAME, V2, "chat form, one sentence", model="stand-in-1", parameters={"temperature": 0}
    )
    registry.set_alias(NAME, "production", v1.version)
    return v1, v2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("SPYGLASS_DB") or "spyglass.db")
    db = parser.parse_args().db
    with_langchain = langchain_available()
    integrations = ["langchain"] if with_langchain else []
    spyglass.autolog(db=db, project="prompt-versions", integrations=integrations)
    registry = PromptRegistry(db)
    v1, v2 = two_versions(registry)
    for version in (v1, v2):
        for question in QUESTIONS:
            result = answer(version, question)
            print(f"{version.ref:<14} {question:<40} -> {result or 'ERROR'}")
    if with_langchain:
        run_with_langchain((v1, v2))
    spyglass.flush()

    from rich.console import Console

    from spyglass.viewer import diff_view

    console = Console(highlight=False)
    console.print()
    console.print(diff_view(registry.diff(NAME, v1.version, v2.version)))
    console.print(f"\nnext: spyglass prompts diff {NAME} production 2 --db {db}")
    spyglass.autolog(disable=True)


if __name__ == "__main__":
    main()
