"""The openai integration: every call of the ``openai`` client becomes an LLM or EMBEDDING span.

``install(ctx)`` patches, on the classes (so clients created before autolog are traced too):

* ``chat.completions.create`` and ``parse``, sync and async; ``chat.completions.stream`` goes
  through ``create``;
* ``responses.create`` and ``parse``, sync and async; ``responses.stream`` goes through
  ``create``;
* ``embeddings.create``, sync and async.

It works with any OpenAI-compatible server (Ollama, vLLM, ...) reached through ``base_url``;
``server.address`` / ``server.port`` say which. The returned uninstall restores the exact
original functions and ends the spans of streams still open.

Stream usage: set ``SPYGLASS_OPENAI_STREAM_USAGE=1`` before ``spyglass.autolog()`` to have
chat streams report their token counts. spyglass then sends
``stream_options={"include_usage": True}`` when the caller set no ``stream_options``, and hides
the extra usage-only chunk from the caller. It is off by default because it changes the request
(some OpenAI-compatible servers reject ``stream_options``).
"""

from __future__ import annotations

import os

from spyglass.integrations._sdk_common import (
    Instrumentation,
    Operation,
    async_call,
    sync_call,
)
from spyglass.integrations.openai import _chat, _embeddings, _responses
from spyglass.tracer import attributes as A
from spyglass.tracer._integration import IntegrationContext, Uninstall

__all__ = ["install"]

_TRUE = frozenset({"1", "true", "yes", "on"})


def stream_usage_requested() -> bool:
    """Whether ``SPYGLASS_OPENAI_STREAM_USAGE`` asks for stream usage."""
    return os.environ.get(A.ENV_OPENAI_STREAM_USAGE, "").strip().lower() in _TRUE


def operations(stream_usage: bool) -> dict[str, Operation]:
    """The traced operations, by the resource they belong to."""
    chat = Operation(
        integration="openai",
        provider="openai",
        operation="chat",
        kind="LLM",
        request=_chat.REQUEST,
        response=_chat.RESPONSE,
        recorder=_chat.ChatRecorder,
        prepare=_chat.ask_stream_usage if stream_usage else None,
    )
    responses = Operation(
        integration="openai",
        provider="openai",
        operation="chat",
        kind="LLM",
        request=(
            _responses.responses_parameters,
            _chat.request_parameters,
            _responses.system_instructions,
            _responses.input_messages,
            _responses.tool_definitions,
        ),
        response=(_chat.response_identity, _responses.output_messages, _responses.usage),
        recorder=_responses.ResponsesRecorder,
    )
    embeddings = Operation(
        integration="openai",
        provider="openai",
        operation="embeddings",
        kind="EMBEDDING",
        request=(_embeddings.input_count, _chat.request_parameters),
        response=(_embeddings.embeddings_result, _embeddings.embeddings_usage),
    )
    return {"chat": chat, "responses": responses, "embeddings": embeddings}


def install(ctx: IntegrationContext) -> Uninstall:
    """Patch the openai client classes; the returned callable undoes it."""
    from openai.resources import embeddings
    from openai.resources.chat.completions import completions
    from openai.resources.responses import responses

    inst = Instrumentation("openai", ctx)
    ops = operations(stream_usage_requested())
    for module, sync_cls, async_cls, op, methods in (
        (completions, "Completions", "AsyncCompletions", ops["chat"], ("create", "parse")),
        (responses, "Responses", "AsyncResponses", ops["responses"], ("create", "parse")),
        (embeddings, "Embeddings", "AsyncEmbeddings", ops["embeddings"], ("create",)),
    ):
        for method in methods:
            inst.wrap(getattr(module, sync_cls), method, sync_call(inst, op))
            inst.wrap(getattr(module, async_cls), method, async_call(inst, op))
    return inst.uninstall
