"""The link from a trace to the registered prompt it used.

A span names the prompt it used with the GenAI attributes ``gen_ai.prompt.name`` and
``gen_ai.prompt.version`` (the version as a string, as the conventions type it); the exporter
copies them to the promoted ``spans.prompt_name`` / ``prompt_version`` columns, indexed, so
"which traces used qa@3" is one indexed query. Spans learn the prompt in two ways:

1. ``PromptVersion.format()`` while a span of spyglass's pipeline is current (inside
   ``with spyglass.trace(...)`` or a traced function): that span gets the two attributes at
   once, and the prompt becomes *pending* for the block. Every LLM span (``spyglass.span.kind``
   ``LLM``, or a chat / completion ``gen_ai.operation.name``, set at start) started later in
   the same trace while that span is still open, by code running after ``format()`` (the same
   ``contextvars`` context: asyncio tasks created afterwards inherit it, plain threads do not,
   as with OTel's own context) gets them too when it starts, unless it already names a prompt:
   an integration that read a framework template's metadata knows better. The next
   ``format()`` replaces the pending prompt; the end of the span retires it. See
   ``_pending.py`` for the mechanism.

   Not one-shot: retries, n-samples and tool loops call the model several times with one
   rendered prompt. Not every span of the block: a retriever span did not use the prompt.
   Not outside spyglass spans: there is no trace to link to, and a pending prompt with no
   block to end it would leak onto unrelated later calls. Nothing is ever set on a span of
   another tracer provider (the application's own telemetry is not ours to change).

2. Framework templates from ``to_langchain()`` / ``to_llama_index()`` carry the name and
   version in their ``metadata`` (``spyglass.prompt.name``, ``spyglass.prompt.version``); an
   integration turns that metadata into span attributes with ``prompt_attributes(metadata)``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Final

from spyglass.tracer import attributes as A

logger = logging.getLogger("spyglass")

METADATA_NAME: Final = "spyglass.prompt.name"
"""Key of a framework template's ``metadata`` holding the registered prompt's name."""

METADATA_VERSION: Final = "spyglass.prompt.version"
"""Key of a framework template's ``metadata`` holding the version number (an int)."""


def span_attributes(name: str, version: int) -> dict[str, str]:
    """The attributes that link a span to ``name@version``."""
    return {A.GEN_AI_PROMPT_NAME: name, A.GEN_AI_PROMPT_VERSION: str(version)}


def template_metadata(name: str, version: int) -> dict[str, object]:
    """What a framework template carries so that integrations can link its runs."""
    return {METADATA_NAME: name, METADATA_VERSION: version}


def _version_text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 1:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) >= 1:
        return str(int(value))
    return None


def prompt_attributes(metadata: Mapping[str, object] | None) -> dict[str, str]:
    """Span attributes for a framework template's (or run's) metadata: ``{}`` unless it names
    a registered prompt; else ``{"gen_ai.prompt.name": ..., "gen_ai.prompt.version": "3"}``.

    Pure and total (never raises), for integrations: LangChain passes a prompt template's
    ``metadata`` to ``on_chain_start``; LlamaIndex events carry the template object. Reads
    spyglass's own metadata keys, and the GenAI attribute names as well.
    """
    if not isinstance(metadata, Mapping):
        return {}
    try:
        for name_key, version_key in (
            (METADATA_NAME, METADATA_VERSION),
            (A.GEN_AI_PROMPT_NAME, A.GEN_AI_PROMPT_VERSION),
        ):
            name = metadata.get(name_key)
            version = _version_text(metadata.get(version_key))
            if isinstance(name, str) and name and version is not None:
                return {A.GEN_AI_PROMPT_NAME: name, A.GEN_AI_PROMPT_VERSION: version}
    except Exception:  # a hostile Mapping: no link, never an error in the host app
        logger.debug("spyglass could not read prompt metadata", exc_info=True)
    return {}


def link_rendered(name: str, version: int) -> None:
    """Link the current spyglass span (and later LLM spans of its block) to ``name@version``.

    Called by ``PromptVersion.format()``; never raises: rendering must not fail because
    tracing did.
    """
    # No SDK loaded means no spyglass span can be current; do not pay for importing it.
    if "opentelemetry.sdk.trace" not in sys.modules:
        return
    try:
        from spyglass.prompts._pending import link_current_span

        link_current_span(span_attributes(name, version))
    except Exception:
        logger.debug("spyglass could not link a span to prompt %s@%s", name, version, exc_info=True)
