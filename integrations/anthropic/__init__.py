"""The anthropic integration: every ``messages`` call of the ``anthropic`` client is an LLM span.

``install(ctx)`` patches, on the classes (so clients created before autolog are traced too),
``Messages.create`` and ``parse`` (sync and async; ``create(stream=True)`` included) and the
``messages.stream`` helper, which sends its request without going through ``create``
(see ``_helper``). Streams always report usage. The returned uninstall restores the exact
original functions and ends the spans of streams still open.

Not patched: ``client.beta.messages`` (a separate resource) and ``messages.count_tokens``.
"""

from __future__ import annotations

from spyglass.integrations._sdk_common import (
    Instrumentation,
    Operation,
    async_call,
    sync_call,
)
from spyglass.integrations.anthropic import _messages
from spyglass.integrations.anthropic._helper import stream_helper
from spyglass.tracer._integration import IntegrationContext, Uninstall

__all__ = ["install"]

MESSAGES = Operation(
    integration="anthropic",
    provider="anthropic",
    operation="chat",
    kind="LLM",
    request=_messages.REQUEST,
    response=_messages.RESPONSE,
    recorder=_messages.MessageRecorder,
)
STREAM_HELPER = Operation(
    integration="anthropic",
    provider="anthropic",
    operation="chat",
    kind="LLM",
    request=_messages.REQUEST,
    response=_messages.RESPONSE,
    recorder=_messages.MessageRecorder,
    always_streams=True,
)


def install(ctx: IntegrationContext) -> Uninstall:
    """Patch the anthropic client classes; the returned callable undoes it."""
    from anthropic.resources.messages import messages

    inst = Instrumentation("anthropic", ctx)
    for cls, call in ((messages.Messages, sync_call), (messages.AsyncMessages, async_call)):
        inst.wrap(cls, "create", call(inst, MESSAGES))
        inst.wrap(cls, "parse", call(inst, MESSAGES))
        inst.wrap(cls, "stream", stream_helper(inst, STREAM_HELPER))
    return inst.uninstall
