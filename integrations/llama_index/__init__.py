"""LlamaIndex integration: every query, retrieval, synthesis, model and embedding call as a span.

``install(ctx)`` adds a span handler and an event handler to LlamaIndex's root instrumentation
dispatcher (``llama_index.core.instrumentation``). Handlers are looked up when a call is made,
so objects created before ``autolog()`` are traced too; the returned uninstall removes exactly
those two handlers. autolog imports this package only once the program has imported
``llama_index.core``.

The parts: ``_classify`` (what a span is, by class and method, cached), ``_tracker`` (enter /
exit / drop on the caller's thread: parents, collapsing, streams), ``_events`` (events enrich
the span they name), ``_finish`` (output-side attributes, usage settled once per model call),
``_stream`` (a streamed answer keeps its query open), ``_extract`` and ``_messages`` (pure
extractors), ``_handler`` (the dispatcher-facing pydantic objects), ``_index`` (which index
answered a retrieval, with its content fingerprint). What costs time in
proportion to the content (JSON of messages, documents and outputs; token estimates) is
deferred to the exporter's thread (``_records``).
"""

from __future__ import annotations

from spyglass.integrations.llama_index._handler import (
    SpyglassEventHandler,
    SpyglassSpanHandler,
    install,
)

__all__ = ["SpyglassEventHandler", "SpyglassSpanHandler", "install"]
