"""The offline LangChain RAG app behind ``spyglass demo`` and ``examples/langchain_rag.py``.

Everything a real app would fetch from a provider is replaced by a small deterministic stand-in,
so the demo, the examples, the tests and the benchmark run with no network and no API key:

* ``WordHashEmbeddings``: bag-of-words vectors (words hashed into a few dimensions), so a
  question lands near the documents that share its words, unlike LangChain's random fakes;
* ``ScoredRetriever``: a vector-store retriever that keeps each document's similarity score in
  its metadata (LangChain's ``VectorStoreRetriever`` drops scores);
* ``DemoChatModel``: a chat model that answers with the top context line, reports token usage
  (also as the last chunk of a stream, as providers do) and its model name;
* ``ScriptedToolModel``: replays scripted AI messages, tool calls included, for agents.

Importing this module imports ``langchain_core`` (and the vector store needs numpy): callers
check they are installed first. It is public (``spyglass.demo``) so that the examples, which
use only public names, can build the same offline app.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.prompts import BasePromptTemplate, ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

CORPUS: Mapping[str, str] = {
    "doc-otel": "spyglass records every LLM call as an OpenTelemetry span.",
    "doc-sqlite": "All spans of a process are stored in one SQLite file with a stable schema.",
    "doc-tui": "A terminal viewer shows traces, retrieved documents and prompt diffs.",
    "doc-redact": "API keys and bearer tokens are scrubbed before anything is written.",
    "doc-autolog": "One call to spyglass.autolog traces every LangChain chain in the process.",
    "doc-otlp": "The same spans can also go to any OpenTelemetry collector over OTLP.",
}
__all__ = [
    "MODEL_NAME",
    "QUESTIONS",
    "SYSTEM_PROMPT",
    "DemoChatModel",
    "ScoredRetriever",
    "ScriptedToolModel",
    "WordHashEmbeddings",
    "build_chain",
    "build_retriever",
    "format_docs",
]

QUESTIONS = (
    "Where are the spans stored?",
    "What does the terminal viewer show?",
    "How are API keys handled?",
)
SYSTEM_PROMPT = "Answer from the context.\nContext:\n{context}"
MODEL_NAME = "demo-echo-1"

_WORD = re.compile(r"[a-z0-9]+")
#: Words too common to say what a text is about; left out of the embeddings.
_STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "be",
        "before",
        "can",
        "do",
        "does",
        "every",
        "for",
        "go",
        "how",
        "in",
        "into",
        "is",
        "it",
        "of",
        "one",
        "the",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
    }
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class WordHashEmbeddings(Embeddings):
    """Deterministic bag-of-words embeddings (crc32 of each word picks a dimension)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        for word in _words(text):
            if word in _STOP_WORDS:
                continue
            vector[zlib.crc32(word.encode()) % self.size] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class ScoredRetriever(BaseRetriever):
    """Top-k documents by ``similarity_search_with_score``, the score kept in metadata."""

    vectorstore: InMemoryVectorStore
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        scored = self.vectorstore.similarity_search_with_score(query, k=self.k)
        return [
            Document(
                id=doc.id,
                page_content=doc.page_content,
                metadata={**doc.metadata, "score": round(float(score), 4)},
            )
            for doc, score in scored
        ]


def _context_answer(messages: Sequence[BaseMessage]) -> str:
    """The first context line of the prompt: the best-ranked document."""
    for message in messages:
        text = message.content if isinstance(message.content, str) else ""
        if "Context:\n" in text:
            lines = text.split("Context:\n", 1)[1].splitlines()
            if lines and lines[0].strip():
                return lines[0].strip()
    return "I could not find that in the documents."


def _usage(messages: Sequence[BaseMessage], answer: str) -> UsageMetadata:
    prompt_words = sum(len(_words(str(m.content))) for m in messages)
    answer_words = len(_words(answer))
    return UsageMetadata(
        input_tokens=prompt_words,
        output_tokens=answer_words,
        total_tokens=prompt_words + answer_words,
    )


class DemoChatModel(BaseChatModel):
    """Answers with the top context line; reports token usage like a real provider."""

    model_name: str = MODEL_NAME
    temperature: float = 0.0
    max_tokens: int = 256

    @property
    def _llm_type(self) -> str:
        return "spyglass-demo"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        # LangChain would derive the provider from the class name ("demochatmodel").
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "spyglass-demo"
        return params

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = _context_answer(messages)
        message = AIMessage(
            content=answer,
            usage_metadata=_usage(messages, answer),
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[ChatGenerationChunk]:
        answer = _context_answer(messages)
        for token in re.split(r"(\s)", answer):
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))
        yield ChatGenerationChunk(  # usage arrives in the last chunk, as providers send it
            message=AIMessageChunk(
                content="",
                usage_metadata=_usage(messages, answer),
                response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
                chunk_position="last",
            )
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


class ScriptedToolModel(FakeMessagesListChatModel):
    """Replays ``responses`` in order (AI messages, tool calls included) and accepts tools,
    so ``langchain.agents.create_agent`` can drive it."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolModel:
        return self


def format_docs(documents: Sequence[Document]) -> str:
    """One document per line, best first (the model answers from the first line)."""
    return "\n".join(doc.page_content for doc in documents)


def build_retriever(k: int = 4) -> ScoredRetriever:
    store = InMemoryVectorStore(WordHashEmbeddings())
    store.add_documents(
        [
            Document(id=doc_id, page_content=text, metadata={"source": "demo-corpus"})
            for doc_id, text in CORPUS.items()
        ]
    )
    return ScoredRetriever(vectorstore=store, k=k)


def build_chain(
    k: int = 4,
    model: BaseChatModel | None = None,
    prompt: BasePromptTemplate[Any] | None = None,
) -> Runnable[str, str]:
    """retriever (k docs, scored) → prompt → chat model → string parser. ``prompt`` takes
    ``context`` and ``question`` (default: a system message with the context, then the
    question); ``spyglass demo`` passes registered versions' ``to_langchain()`` templates."""
    if prompt is None:
        prompt = ChatPromptTemplate.from_messages(
            [("system", SYSTEM_PROMPT), ("human", "{question}")]
        )
    context = build_retriever(k) | RunnableLambda(format_docs, name="format_docs")
    chain = (
        {"context": context, "question": RunnablePassthrough()}
        | prompt
        | (model or DemoChatModel())
        | StrOutputParser()
    )
    return chain.with_config(run_name="rag-chain")
