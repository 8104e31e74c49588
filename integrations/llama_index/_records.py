"""The state of one open LlamaIndex span, shared by the span handler and the event handler.

A ``Record`` holds the OTel span, the context it was attached with, and the attributes
gathered for it so far: events and the span's exit add to ``attrs``, which is set on the span
in one call when it ends (one lock round-trip and one validation pass, instead of one per
attribute). Only the kind, integration, model, provider and operation are set at start, where
samplers and the prompt-link processor look for them.

Plumbing spans folded into a record (``_query`` into ``query``) are *aliases*: the dispatcher
id maps to the same record, so their children and events land on it.
"""

from __future__ import annotations

import contextvars
import weakref
from dataclasses import dataclass, field

from opentelemetry.context import Context

from spyglass.integrations.llama_index._classify import Profile
from spyglass.tracer._lite import LiteSpan


@dataclass(eq=False, slots=True)
class LLMState:
    """What one logical model call has seen (several LlamaIndex calls may fold into it)."""

    started: bool = False
    input_text: str = ""
    output_text: str | None = None
    reported_usage: bool = False
    first_chunk: bool = False
    nested: bool = False
    """Another LLM span runs below this one: that one counts the tokens."""


@dataclass(eq=False, slots=True)
class Record:
    """One open span; ``eq=False`` keeps identity hashing for the tracker's sets."""

    id: str
    span: LiteSpan
    ctx: Context
    parent: Record | None
    instance: object
    profile: Profile
    capture: bool
    role: str
    attrs: dict[str, object] = field(default_factory=dict)
    token: contextvars.Token[Context] | None = None
    before: Context | None = None
    """The context current before the span was attached (to recover from a leak)."""
    deferred: bool = False
    ended: bool = False
    """Exited, but ends later: a stream it returned is still being consumed."""
    aliases: list[str] = field(default_factory=list)
    stream: weakref.ref[object] | None = None
    """The live generator a model call returned (to recognise calls made while it runs)."""
    llm: LLMState | None = None
    embedded: int = 0
    """Texts embedded so far (an EMBEDDING span may see several End events)."""
    prompt: tuple[str, str] | None = None

    def ancestors(self) -> list[Record]:
        out: list[Record] = []
        parent = self.parent
        while parent is not None and len(out) < 256:  # a bound, in case of a cycle
            out.append(parent)
            parent = parent.parent
        return out
