"""Small LangChain doubles the LangChain tests share, and helpers to read traces back.

langchain-core ships fakes for most needs (``FakeMessagesListChatModel``, ``FakeListLLM``,
``DeterministicFakeEmbedding``); the ones here cover what it lacks: a chat model whose usage
carries cache and reasoning details and arrives in the last chunk of a stream, one that reports
usage the old way (``llm_output``), and one that fails.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

import spyglass
from spyglass.tracer._records import SpanRecord, Trace

USAGE = UsageMetadata(
    input_tokens=30,
    output_tokens=12,
    total_tokens=42,
    input_token_details={"cache_read": 8},
    output_token_details={"reasoning": 5},
)


class ReplyModel(BaseChatModel):
    """Replies ``reply``; usage (with cache and reasoning details) on invoke and in the last
    chunk of a stream, like OpenAI with ``stream_usage``."""

    reply: str = "Paris is the capital of France."
    model_name: str = "reply-model-1"
    temperature: float = 0.2
    max_tokens: int = 64

    @property
    def _llm_type(self) -> str:
        return "reply-fake"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": 0.9,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = AIMessage(
            content=self.reply,
            usage_metadata=USAGE,
            response_metadata={"model_name": self.model_name + "-2026", "finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _chunks(self) -> Iterator[ChatGenerationChunk]:
        for word in self.reply.split(" "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=USAGE,
                response_metadata={
                    "model_name": self.model_name + "-2026",
                    "finish_reason": "length",
                },
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
        for chunk in self._chunks():
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
        for chunk in self._chunks():
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk


class LegacyUsageModel(BaseChatModel):
    """Reports usage only in ``llm_output["token_usage"]`` (OpenAI's raw shape)."""

    @property
    def _llm_type(self) -> str:
        return "legacy-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        usage = {
            "prompt_tokens": 21,
            "completion_tokens": 7,
            "total_tokens": 28,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        }
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(content="ok"))],
            llm_output={"token_usage": usage, "model_name": "legacy-model-7"},
        )


class ModelDown(RuntimeError):
    """What FailingModel raises."""


class FailingModel(BaseChatModel):
    """Always raises ``ModelDown``."""

    @property
    def _llm_type(self) -> str:
        return "failing-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise ModelDown("model is down")


# --- reading traces back --------------------------------------------------------------------


def all_traces(db: Path) -> list[Trace]:
    """Every trace in the file, oldest first."""
    assert spyglass.flush()
    store = spyglass.Store(db)
    summaries = sorted(store.traces(limit=10_000), key=lambda s: s.start_ns)
    return [store.trace(s.trace_id) for s in summaries]


def only_trace(db: Path) -> Trace:
    (trace,) = all_traces(db)
    return trace


def span_named(trace: Trace, name: str) -> SpanRecord:
    matches = [span for span in trace.spans if span.name == name]
    assert len(matches) == 1, f"{len(matches)} spans named {name!r} in {names(trace)}"
    return matches[0]


def names(trace: Trace) -> list[str]:
    return [span.name for span in trace.spans]


def attr_json(span: SpanRecord, key: str) -> Any:
    """A content attribute (stored as JSON text), parsed."""
    value = span.attributes[key]
    assert isinstance(value, str), f"{key} is not JSON text: {value!r}"
    return json.loads(value)


def tree(trace: Trace) -> list[tuple[int, str, str]]:
    """``(depth, kind, name)`` in depth-first order, to compare a whole trace's shape."""
    out: list[tuple[int, str, str]] = []

    def walk(span: SpanRecord, depth: int) -> None:
        out.append((depth, span.kind, span.name))
        for child in trace.children(span):
            walk(child, depth + 1)

    for root in trace.roots:
        walk(root, 0)
    return out
