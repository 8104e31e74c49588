"""A LangChain RAG chain traced by ``spyglass.autolog()``, with no other change to its code.

Offline and deterministic: the documents live in LangChain's ``InMemoryVectorStore`` with
bag-of-words embeddings, a retriever keeps each document's similarity score, and a stand-in
chat model answers with the best-ranked document and reports token usage. Swap in a real
embedding model and chat model (``OpenAIEmbeddings``, ``ChatOpenAI``, ...) and nothing else
changes: the traces look the same.

    python examples/langchain_rag.py [--db PATH]

Then try ``spyglass traces --db PATH`` and ``spyglass show TRACE --db PATH --full``.
"""

from __future__ import annotations

import argparse
import os

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

import spyglass

# Offline stand-ins for a provider's embeddings and chat model (see their docstrings).
from spyglass.demo import QUESTIONS, DemoChatModel, build_retriever, format_docs


def build_chain(k: int = 4) -> Runnable[str, str]:
    """question → {top-k scored documents, question} → chat prompt → model → text."""
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context.\nContext:\n{context}"), ("human", "{question}")]
    )
    retrieve = build_retriever(k) | RunnableLambda(format_docs, name="format_docs")
    chain = (
        {"context": retrieve, "question": RunnablePassthrough()}
        | prompt
        | DemoChatModel()
        | StrOutputParser()
    )
    return chain.with_config(run_name="rag-chain")


def main(db: str | os.PathLike[str] | None = None) -> list[str]:
    """Trace a few questions through the chain; returns the answers."""
    spyglass.autolog(db=db)  # every LangChain run from here on is traced
    chain = build_chain()
    answers = []
    for question in QUESTIONS:
        answer = chain.invoke(question)
        print(f"Q: {question}\nA: {answer}\n")
        answers.append(answer)
    spyglass.flush()
    where = db if db is not None else os.environ.get("SPYGLASS_DB", "spyglass.db")
    print(f"{len(QUESTIONS)} traces are in {where}: try `spyglass traces --db {where}`")
    return answers


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", default=None, help="SQLite file (default: $SPYGLASS_DB or ./spyglass.db)"
    )
    main(parser.parse_args().db)
