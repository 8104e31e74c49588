"""A LlamaIndex RAG query engine traced by ``spyglass.autolog()``, with no other change to it.

Offline and deterministic: LlamaIndex's own ``MockLLM`` answers, and a tiny hash-based
embedding (below) stands in for a real embedding model, so that retrieval scores differ from
document to document. Swap in ``OpenAI`` / ``OpenAIEmbedding`` (or any LlamaIndex LLM and
embedding) and nothing else changes: the traces look the same.

    python examples/llama_index_rag.py [--db PATH]

It prints the trace id; then try ``spyglass show ID --db PATH --full``.
``run(db)`` does the same work and returns the trace id, for a demo to call.
Needs the ``llama-index`` extra: ``pip install -e '.[llama-index]'``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os

try:
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.llms import MockLLM
except ModuleNotFoundError as missing:  # the "try it" set-up installs only LangChain
    raise SystemExit(
        f"this example needs LlamaIndex ({missing}): pip install -e '.[llama-index]'"
    ) from None

import spyglass

DOCUMENTS = {
    "otel": "spyglass records every LLM call, retrieval and tool call as an OpenTelemetry span.",
    "sqlite": "All spans of a process go into one SQLite file with a documented schema.",
    "viewer": "A terminal viewer shows traces, retrieved documents with scores, and prompts.",
    "redact": "API keys and bearer tokens are scrubbed before anything is stored.",
    "llama": "LlamaIndex queries are traced through its instrumentation dispatcher.",
}
QUESTION = "Where do the spans of a LlamaIndex query go?"


class HashEmbedding(BaseEmbedding):
    """Bag of words hashed into a small unit vector: texts sharing words score higher.

    Deterministic and offline; good enough to rank five sentences, nothing more.
    """

    dimensions: int = 256

    @classmethod
    def class_name(cls) -> str:
        return "HashEmbedding"

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in text.lower().split():
            digest = hashlib.blake2b(word.strip(".,?!").encode(), digest_size=3).digest()
            slot = int.from_bytes(digest[:2], "big") % self.dimensions
            vector[slot] += 1.0 if digest[2] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._embed(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed(text)


def build_engine() -> object:
    """Index the documents; a query engine over the top 3, answered by MockLLM."""
    documents = [Document(text=text, doc_id=key) for key, text in DOCUMENTS.items()]
    index = VectorStoreIndex.from_documents(documents, embed_model=HashEmbedding())
    return index.as_query_engine(llm=MockLLM(max_tokens=12), similarity_top_k=3)


def run(db: str) -> str:
    """Trace indexing and one query into ``db``; returns the query's trace id."""
    spyglass.autolog(db=db)  # every LlamaIndex call from here on is traced
    with spyglass.trace("index-documents", kind="CHAIN"):  # one trace for the ingestion
        engine = build_engine()
    with spyglass.trace("answer-question", kind="CHAIN", session_id="example") as span:
        answer = engine.query(QUESTION)  # type: ignore[attr-defined]
        if span is not None:
            span.set_input(QUESTION)
            span.set_output(str(answer))
    spyglass.flush()
    return span.trace_id if span is not None else ""


def main(db: str | None = None) -> str:
    path = db or os.environ.get("SPYGLASS_DB") or "spyglass.db"
    trace_id = run(path)
    print(f"Q: {QUESTION}\nTraced into {path}, trace {trace_id}.")
    print(f"View it with: spyglass show {trace_id[:12]} --db {path} --full")
    return trace_id


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite file (default: $SPYGLASS_DB or ./spyglass.db)")
    main(parser.parse_args().db)
