"""Async LLM starts: spyglass's handler in the caller's task, every other handler as without it.

langchain-core's ``AsyncCallbackManager.on_llm_start`` sends ``on_llm_start`` only to the
inline handlers as soon as there is one, so any inline handler takes the event away from all
the others: ``collect_runs``, ``astream_events``, LangSmith's tracer and a user's own handler
then see the end of an LLM run they never saw start (``on_chat_model_start`` and every other
event reach all handlers). spyglass's handler must stay inline: it sets the ContextVars that SDK
spans and ``spyglass.trace`` blocks nest through, and only code running in the caller's task can
set them for the caller (langchain-core runs a non-inline handler in an executor thread or a
gathered task, each on a copy of the context).

So autolog wraps that one method. A manager holding no spyglass handler goes straight to the
original. Otherwise the wrapper starts spyglass's run itself, inline as before, then calls the
original on a shallow copy of the manager without spyglass's handlers, so langchain-core
dispatches every other handler exactly as it would without spyglass; the run managers it returns
get the manager's own handler lists back, so the run's later events reach spyglass as usual.
Uninstall puts the original function back, or, if something wrapped it since, turns the wrapper
into a plain pass-through rather than undo that other wrapper.
"""

from __future__ import annotations

import copy
import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import manager as lc_manager
from langchain_core.callbacks.base import BaseCallbackHandler
from langchain_core.callbacks.manager import AsyncCallbackManager, AsyncCallbackManagerForLLMRun

from spyglass.integrations.langchain._handler import SpyglassCallbackHandler
from spyglass.integrations.langchain._spans import callback_failed
from spyglass.tracer._integration import Uninstall

RunManagers = list[AsyncCallbackManagerForLLMRun]
LLMStart = Callable[..., Awaitable[RunManagers]]


def _ours(handler: BaseCallbackHandler) -> bool:
    """A spyglass handler that langchain-core would run inline (any instance, not only autolog's:
    a ``SpyglassCallbackHandler`` the user passed in ``callbacks`` triggers the same skip)."""
    return isinstance(handler, SpyglassCallbackHandler) and handler.run_inline


def _new_run_id() -> UUID:
    """The id langchain-core would draw for the first prompt (uuid7 since 1.x, uuid4 before)."""
    make: Callable[[], UUID] = getattr(lc_manager, "uuid7", uuid.uuid4)
    return make()


def wrap_async_llm_start() -> Uninstall:
    """Wrap ``AsyncCallbackManager.on_llm_start`` as the module docstring says; returns the undo."""
    original: LLMStart = AsyncCallbackManager.__dict__["on_llm_start"]
    active = True

    @functools.wraps(original)
    async def on_llm_start(
        self: AsyncCallbackManager,
        serialized: dict[str, Any],
        prompts: list[str],
        run_id: UUID | None = None,
        **kwargs: Any,
    ) -> RunManagers:
        ours = [handler for handler in self.handlers if _ours(handler)] if active else []
        if not ours or not prompts:
            return await original(self, serialized, prompts, run_id, **kwargs)
        return await _start_apart(original, self, ours, serialized, prompts, run_id, kwargs)

    AsyncCallbackManager.on_llm_start = on_llm_start  # type: ignore[method-assign]

    def uninstall() -> None:
        nonlocal active
        active = False
        if AsyncCallbackManager.__dict__.get("on_llm_start") is on_llm_start:
            AsyncCallbackManager.on_llm_start = original  # type: ignore[method-assign,assignment]

    return uninstall


async def _start_apart(
    original: LLMStart,
    manager: AsyncCallbackManager,
    ours: Sequence[BaseCallbackHandler],
    serialized: dict[str, Any],
    prompts: list[str],
    run_id: UUID | None,
    kwargs: Mapping[str, Any],
) -> RunManagers:
    """Start spyglass's runs here and every other handler's through the original."""
    first = run_id if run_id is not None else _new_run_id()
    _start_ours(ours, manager, serialized, prompts[0], first, kwargs)  # first, as when inline
    try:
        others = _without_ours(manager)
    except Exception as exc:  # an odd manager: langchain-core's own dispatch, ours seen once
        callback_failed("on_llm_start", exc)
        others = manager
    try:
        run_managers = await original(others, serialized, prompts, first, **kwargs)
    except BaseException as exc:  # another handler stopped the call: our run ends with it
        _fail_ours(ours, first, exc)
        raise
    for index, run_manager in enumerate(run_managers):
        run_manager.handlers = manager.handlers
        run_manager.inheritable_handlers = manager.inheritable_handlers
        if index:  # only the original drew the ids of the later prompts
            _start_ours(ours, manager, serialized, prompts[index], run_manager.run_id, kwargs)
    return run_managers


def _without_ours(manager: AsyncCallbackManager) -> AsyncCallbackManager:
    """The manager as it would be without spyglass: same class, parent, tags and metadata."""
    others = copy.copy(manager)
    others.handlers = [handler for handler in manager.handlers if not _ours(handler)]
    others.inheritable_handlers = [h for h in manager.inheritable_handlers if not _ours(h)]
    return others


def _start_ours(
    ours: Sequence[BaseCallbackHandler],
    manager: AsyncCallbackManager,
    serialized: dict[str, Any],
    prompt: str,
    run_id: UUID,
    kwargs: Mapping[str, Any],
) -> None:
    """What ``ahandle_event`` does for an inline sync handler, with the same arguments."""
    for handler in ours:
        try:
            if not handler.ignore_llm:
                handler.on_llm_start(
                    serialized,
                    [prompt],
                    run_id=run_id,
                    parent_run_id=manager.parent_run_id,
                    tags=manager.tags,
                    metadata=manager.metadata,
                    **kwargs,
                )
        except Exception as exc:  # e.g. kwargs naming a keyword twice: the original says so
            callback_failed("on_llm_start", exc)


def _fail_ours(ours: Sequence[BaseCallbackHandler], run_id: UUID, error: BaseException) -> None:
    for handler in ours:
        try:
            handler.on_llm_error(error, run_id=run_id)
        except Exception as exc:
            callback_failed("on_llm_error", exc)
