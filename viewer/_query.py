"""The trace list's filter box: free words plus ``model:``, ``status:``, ``has:``, ``prompt:``,
``session:``, ``name:`` (a prefix) and ``tag:``.

``status:error model:gpt-4o refund policy`` keeps traces whose root failed, that called a
``gpt-4o*`` model and whose text contains both words. ``has:error`` keeps the traces in which
any span failed, a tool call the root recovered from included (``Store.traces(errors=True)``).
Values may be quoted (``session:"a b"``). A word with an unknown ``key:`` stays a free word, so
pasted text such as a URL still searches.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from spyglass.errors import ConfigurationError
from spyglass.tracer._filters import TraceFilters

KEYS = ("model", "status", "has", "prompt", "session", "name", "tag")
STATUSES = ("ok", "error", "unset")
#: What ``has:`` takes; ``errors`` reads as well as ``error``.
HAS = ("error", "errors")


@dataclass(frozen=True)
class TraceQuery:
    """A parsed filter; ``filters()`` is what ``Store.traces`` takes."""

    words: tuple[str, ...] = ()
    model: str | None = None
    status: str | None = None
    prompt: str | None = None
    session: str | None = None
    name: str | None = None
    tag: str | None = None
    #: ``has:error``: only traces with a failed span anywhere.
    errors: bool = False

    def filters(self) -> TraceFilters:
        filters: TraceFilters = {}
        if self.words:
            filters["search"] = " ".join(self.words)
        if self.model:
            filters["model"] = self.model
        if self.status:
            filters["status"] = self.status
        if self.errors:
            filters["errors"] = True
        if self.prompt:
            filters["prompt"] = self.prompt
        if self.session:
            filters["session_id"] = self.session
        if self.name:
            filters["name"] = self.name
        if self.tag:
            filters["tag"] = self.tag
        return filters

    @property
    def empty(self) -> bool:
        return self == TraceQuery()


def parse_query(raw: str) -> TraceQuery:
    """Split the filter box's text; a bad ``status:`` or ``has:`` is an error naming the
    choices."""
    try:
        tokens = shlex.split(raw)
    except ValueError:  # an unbalanced quote while typing: take the words as they are
        tokens = raw.split()
    words: list[str] = []
    found: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition(":")
        if sep and key.lower() in KEYS and value:
            found[key.lower()] = value
        else:
            words.append(token)
    status = found.get("status")
    if status is not None and status.lower() not in STATUSES:
        raise ConfigurationError(f"status: takes {', '.join(STATUSES)}; got {status!r}")
    has = found.get("has")
    if has is not None and has.lower() not in HAS:
        raise ConfigurationError(f"has: takes error (a span failed); got {has!r}")
    return TraceQuery(
        words=tuple(words),
        model=found.get("model"),
        status=status.lower() if status else None,
        prompt=found.get("prompt"),
        session=found.get("session"),
        name=found.get("name"),
        tag=found.get("tag"),
        errors=has is not None,
    )
