"""LangChain integration: every chain, retriever, model, tool and agent run becomes a span.

``spyglass.autolog()`` calls ``install`` once ``langchain_core`` is imported: it registers one
``SpyglassCallbackHandler`` through langchain-core's configure hook, so runs in any thread or
task are traced with no change to the program, and ``autolog(disable=True)`` removes it again.
The handler is public for explicit use: ``chain.invoke(x, config={"callbacks":
[SpyglassCallbackHandler()]})``; with autolog on as well, each run is still recorded once.

Modules: ``_handler`` (the callbacks), ``_spans`` (one span per run: start, parent, end),
``_runs`` (the shared run → span table), ``_extract``, ``_response`` and ``_messages`` (pure
attribute extractors and converters), ``_install`` (the configure hook), ``_llm_start`` (the
wrapped async LLM start that keeps other handlers from losing events to our inline one),
``_index`` (which vector store answered a retrieval, with its content fingerprint).
"""

from __future__ import annotations

from spyglass.integrations.langchain._handler import SpyglassCallbackHandler
from spyglass.integrations.langchain._install import install

__all__ = ["SpyglassCallbackHandler", "install"]
