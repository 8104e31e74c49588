"""The state of one open LlamaIndex span, shared by the span handler and the event handler.

A ``Record`` holds the OTel span, the context it was attached with, and the attributes
gathered for it so far: events and the span's exit add to ``attrs``, which is set on the span
in one call when it ends (one validation pass, instead of one per attribute). Only the kind,
integration, model, provider and operation are set at start, where samplers and the
prompt-link processor look for them.

What costs time in proportion to the content (JSON of messages and documents, token
estimates) goes to ``later`` instead: extractors with the objects they read, handed to the
span when it ends (``LiteSpan.defer``) and run when the exporter first reads its attributes,
off the traced call. They are kept on the record, not deferred on the span as they come, so
that a span ended by uninstall (``Tracker.close``) keeps exactly what it kept before: neither
``attrs`` nor ``later``. Deferred pairs land after ``attrs``, so on any one span a key is
either set in ``attrs`` or deferred, never both (usage: reported, or estimated later).

Plumbing spans folded into a record (``_query`` into ``query``) are *aliases*: the dispatcher
id maps to the same record, so their children and events land on it.
"""

from __future__ import annotations

import contextvars
import weakref
from dataclasses import dataclass, field

from opentelemetry.context import Context

from spyglass.integrations.llama_index._classify import Profile
from spyglass.tracer._lite import Extractor, LiteSpan


@dataclass(eq=False, slots=True)
class LLMState:
    """What one logical model call has seen (several LlamaIndex calls may fold into it)."""

    started: bool = False
    chat: bool = False
    """The first Start event was a chat call: ``input`` is its messages, else its prompt."""
    input: object = ""
    """What the call was given (read when the usage is estimated, off the traced call)."""
    output: object = None
    """What its answer is read from: the last End event's response with a message or text,
    or the string ``predict()`` returned; None until there is one."""
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
    later: list[tuple[Extractor, tuple[object, ...]]] | None = None
    """Extractors to defer to the span when it ends (see the module docstring)."""
    has_documents: bool = False
    """Retrieved documents are recorded already (an End event's nodes, deferred)."""
    has_output: bool = False
    """A workflow event recorded the output already (the result does not replace it)."""

    def defer(self, extractor: Extractor, *args: object) -> None:
        """Add the pairs ``extractor(*args)`` yields to the span's attributes, computed later."""
        later = self.later
        if later is None:
            self.later = [(extractor, args)]
        else:
            later.append((extractor, args))

    def ancestors(self) -> list[Record]:
        out: list[Record] = []
        parent = self.parent
        while parent is not None and len(out) < 256:  # a bound, in case of a cycle
            out.append(parent)
            parent = parent.parent
        return out
