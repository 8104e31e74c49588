"""autolog's LangChain install: a configure hook, and one wrapped method.

langchain-core asks every hook registered with ``register_configure_hook`` for a handler each
time it configures a callback manager, i.e. for every run of every chain, model, tool and
retriever. The hook's ``ContextVar`` has the handler as its *default*, so every thread and task
sees it, including plain ``threading.Thread``s, which start with an empty context (a ``set``
would miss them). ``inheritable=True`` passes it down to child runs.

langchain-core has no public way to unregister, so uninstall removes exactly our entry from the
private ``_configure_hooks`` list (by identity of our var, in place, since the callback manager
module holds the same list object) and closes the handler, which also ends spans still open.
Managers already built keep a reference to the handler; closed, it records nothing.

The one patch, ``AsyncCallbackManager.on_llm_start`` (``_llm_start``), keeps langchain-core from
skipping the user's other handlers because ours is inline; uninstall restores it. The index
probe (``_index``) wraps ``BaseRetriever.invoke`` / ``ainvoke`` once the program imports
retrievers, and the write methods of the stores it reads when it first reads one; uninstall
restores them first.
"""

from __future__ import annotations

from contextvars import ContextVar

from langchain_core.tracers import context as lc_context

from spyglass.integrations.langchain._handler import SpyglassCallbackHandler
from spyglass.integrations.langchain._index import IndexProbe
from spyglass.integrations.langchain._llm_start import wrap_async_llm_start
from spyglass.tracer._integration import IntegrationContext, Uninstall


def install(ctx: IntegrationContext) -> Uninstall:
    """Trace every LangChain run of the process into ``ctx.lite``; returns the undo."""
    handler = SpyglassCallbackHandler(tracer=ctx.lite, capture_content=ctx.capture_content)
    probe = IndexProbe()
    probe.attach()
    var: ContextVar[SpyglassCallbackHandler | None] = ContextVar(
        "spyglass_langchain_handler", default=handler
    )
    lc_context.register_configure_hook(var, inheritable=True)
    unwrap = wrap_async_llm_start()

    def uninstall() -> None:
        probe.close()
        unwrap()
        hooks = lc_context._configure_hooks
        hooks[:] = [hook for hook in hooks if hook[0] is not var]
        handler.close()

    return uninstall
