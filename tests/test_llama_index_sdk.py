"""A LlamaIndex LLM that calls the openai SDK: the SDK span nests under the LlamaIndex LLM span
and the trace counts the call's tokens once (real openai client, local fake server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_index.core")
openai = pytest.importorskip("openai")

from fake_llm_server import FakeLLMServer  # noqa: E402
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata  # noqa: E402
from llama_index.core.llms import CustomLLM  # noqa: E402
from llama_index.core.llms.callbacks import llm_completion_callback  # noqa: E402
from pydantic import PrivateAttr  # noqa: E402
from test_llama_index import only_trace  # noqa: E402

import spyglass  # noqa: E402


class SDKBackedLLM(CustomLLM):
    """A LlamaIndex LLM whose ``complete`` calls the openai client, as provider packages do."""

    _client: Any = PrivateAttr()

    def __init__(self, client: Any) -> None:
        super().__init__()
        self._client = client

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="fake-model")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        reply = self._client.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": prompt}]
        )
        return CompletionResponse(text=reply.choices[0].message.content or "", raw=reply)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as running:
        yield running


def test_sdk_span_nests_under_the_llama_index_llm_and_counts_once(
    db: Path, server: FakeLLMServer
) -> None:
    server.reset()
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
    llm = SDKBackedLLM(client)
    spyglass.autolog(db=db, integrations=["llama_index", "openai"])
    llm.complete("Hello?")
    trace = only_trace(db)
    framework, sdk = trace.spans
    assert framework.name == "SDKBackedLLM.complete"
    assert framework.attributes["spyglass.integration"] == "llama_index"
    assert sdk.parent_id == framework.span_id
    assert sdk.attributes["spyglass.integration"] == "openai"
    assert sdk.input_tokens is not None and sdk.input_tokens > 0
    # Both layers read the same usage; the trace counts it once.
    assert framework.input_tokens == sdk.input_tokens
    assert framework.attributes["spyglass.usage.counted_elsewhere"] is True
    assert trace.summary.input_tokens == sdk.input_tokens
    assert trace.summary.output_tokens == sdk.output_tokens
