"""The anthropic integration: every ``messages`` call of the ``anthropic`` client is an LLM span.

``install(ctx)`` patches, on the classes (so clients created before autolog are traced too),
``Messages.create`` and ``parse`` (sync and async; ``create(stream=True)`` included) and the
``messages.stream`` helper, which sends its request without going through ``create``
(see ``_helper``); the same three on ``client.beta.messages`` (a separate resource with the
same shapes, where new features such as ``betas=`` arrive first). Streams always report usage.
The returned uninstall restores the exact original functions and ends the spans of streams
still open.

Not patched: ``messages.count_tokens`` (no generation) and message batches (asynchronous
jobs, not calls).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from spyglass.integrations._sdk_common import (
    Instrumentation,
    Operation,
    Wrapper,
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
STREAM_HELPER = replace(MESSAGES, always_streams=True)


def install(ctx: IntegrationContext) -> Uninstall:
    """Patch the anthropic client classes; the returned callable undoes it."""
    from anthropic.resources.messages import messages

    inst = Instrumentation("anthropic", ctx)
    resources: list[tuple[type, Callable[[Instrumentation, Operation], Wrapper]]] = [
        (messages.Messages, sync_call),
        (messages.AsyncMessages, async_call),
    ]
    try:
        from anthropic.resources.beta.messages import messages as beta
    except ImportError:  # an SDK without the beta resource
        pass
    else:
        resources += [(beta.Messages, sync_call), (beta.AsyncMessages, async_call)]
    for cls, call in resources:
        for method in ("create", "parse"):
            if hasattr(cls, method):
                inst.wrap(cls, method, call(inst, MESSAGES))
        if hasattr(cls, "stream"):
            inst.wrap(cls, "stream", stream_helper(inst, STREAM_HELPER))
    return inst.uninstall
