"""Evaluate two versions of a RAG prompt over a small dataset, offline, and compare the runs.

The app is the LangChain RAG chain of ``spyglass demo`` (a scored retriever over six documents,
a chat model that answers with the first line of its context) with its prompt taken from the
registry: ``rag-qa@1`` puts the context right under ``Context:``; ``rag-qa@2`` adds an
instruction line there, which this literal-minded model then repeats instead of answering, a
regression the evaluation has to catch. Each question runs in its own trace (LangChain spans,
retrieved documents, the prompt version), then code evaluators (exact match, contains, hit rate
and MRR against the expected document ids, groundedness, latency) and two LLM judges score it.

The judges are LangChain's ``FakeListChatModel`` replying fixed verdicts, so everything runs
with no network and no key; pass any LangChain chat model (or an OpenAI / Anthropic client and
``model=``) to ``LLMJudge`` for real judgements.

    python examples/evaluate_rag.py [--db PATH]

Then: ``spyglass eval list``, ``spyglass eval show rag-qa@2 --failed``,
``spyglass eval compare rag-qa@1 rag-qa@2``, ``spyglass prompts diff rag-qa 1 2``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from rich.console import Console

import spyglass
from spyglass.demo import DemoChatModel, build_retriever, format_docs
from spyglass.evaluators import (
    LLMJudge,
    contains,
    exact_match,
    groundedness,
    hit_rate,
    latency_budget,
    mrr,
)
from spyglass.prompts import PromptVersion
from spyglass.viewer import comparison_view

DATASET = Path(__file__).with_name("rag_eval_dataset.jsonl")
PROMPT = "rag-qa"
V1 = [("system", "Answer from the context.\nContext:\n{context}"), ("human", "{question}")]
V2 = [
    ("system", "Answer from the context.\nContext:\nQuote it; say so if it is missing.\n{context}"),
    ("human", "{question}"),
]


def build_app(version: PromptVersion) -> Callable[[str], str]:
    """The RAG chain with this prompt version, as a function of the question."""
    chain = (
        {
            "context": build_retriever(k=3) | RunnableLambda(format_docs, name="format_docs"),
            "question": RunnablePassthrough(),
        }
        | version.to_langchain()
        | DemoChatModel()
        | StrOutputParser()
    )

    def answer(question: str) -> str:  # the dataset's inputs are {"question": ...}
        return chain.invoke(question)

    return answer


def evaluators() -> list[object]:
    relevance = FakeListChatModel(
        responses=['{"score": 4, "label": "PASS", "reason": "Addresses the question."}']
    )
    correctness = FakeListChatModel(responses=["Score: 5/5. Same facts as the reference."])
    return [
        exact_match(ignore_case=True),
        contains(),
        hit_rate(),
        mrr(),
        groundedness(),
        latency_budget(500),
        LLMJudge(relevance, criterion="relevance"),
        LLMJudge(correctness, criterion="correctness"),
    ]


def main(db: str) -> int:
    spyglass.autolog(db=db)
    registry = spyglass.PromptRegistry(db)
    v1 = registry.register(PROMPT, V1, "context first")
    v2 = registry.register(PROMPT, V2, "add a quoting instruction")
    checks = evaluators()
    runs = [
        spyglass.evaluate(build_app(version), DATASET, checks, name=version.ref, db=db)
        for version in (v1, v2)
    ]
    comparison = runs[0].compare(runs[1])
    console = Console()
    console.print(comparison_view(comparison, width=console.width))
    console.print(f"\nNext: spyglass eval show {PROMPT}@2 --failed --db {db}")
    spyglass.autolog(disable=True)
    return len(comparison.regressions)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="spyglass.db", help="SQLite file (default ./spyglass.db)")
    main(parser.parse_args().db)
