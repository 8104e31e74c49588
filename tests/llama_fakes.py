"""Offline LlamaIndex doubles for the integration tests: real LlamaIndex classes throughout.

* ``HashEmbedding``: a deterministic bag-of-words embedding, so retrieval scores differ
  (LlamaIndex's ``MockEmbedding`` is a constant vector: every score is 1.0).
* ``ScriptedLLM``: a ``CustomLLM`` that answers from a script, can report usage in its raw
  response (OpenAI- or Anthropic-shaped), and can fail on demand.
* ``rag_index`` / ``DOCS``: a small index over a few documents.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.llms.types import (
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_completion_callback
from pydantic import PrivateAttr

DIM = 32

DOCS = (
    "The lighthouse keeper climbs 120 steps to the lamp every evening.",
    "Sourdough bread needs a starter of flour and water, fed daily.",
    "The lighthouse lamp is a Fresnel lens that can be seen 20 miles out.",
    "Tides are driven mostly by the gravity of the moon.",
)


class HashEmbedding(BaseEmbedding):
    """Each word adds a hash-chosen unit to a vector: texts sharing words score higher."""

    model_name: str = "hash-embedding"

    @classmethod
    def class_name(cls) -> str:
        return "HashEmbedding"

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * DIM
        for word in text.lower().split():
            digest = hashlib.sha256(word.strip(".,?!").encode()).digest()
            vector[digest[0] % DIM] += 1.0 if digest[1] % 2 else -1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


class ScriptedLLM(CustomLLM):
    """Answers ``answer`` (or ``script(prompt)``); ``usage`` goes into ``raw`` as given."""

    answer: str = "The lamp is a Fresnel lens."
    model: str = "scripted-1"
    usage: dict[str, Any] | None = None
    fail_with: BaseException | None = None
    _script: Callable[[str], str] | None = PrivateAttr(default=None)

    def __init__(self, script: Callable[[str], str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._script = script

    @classmethod
    def class_name(cls) -> str:
        return "ScriptedLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model, num_output=64)

    def _text(self, prompt: str) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        return self._script(prompt) if self._script is not None else self.answer

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        raw = {"usage": dict(self.usage)} if self.usage is not None else None
        return CompletionResponse(text=self._text(prompt), raw=raw)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = self._text(prompt)

        def gen() -> CompletionResponseGen:
            so_far = ""
            for word in text.split(" "):
                delta = word if not so_far else " " + word
                so_far += delta
                yield CompletionResponse(text=so_far, delta=delta)

        return gen()


def rag_index(texts: Sequence[str] = DOCS) -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(
        [Document(text=text, metadata={"n": i}) for i, text in enumerate(texts)],
        embed_model=HashEmbedding(),
    )
