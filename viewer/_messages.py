"""Every message the textual viewer's widgets and workers exchange, in one place.

Workers run store queries on threads and report back with these (``post_message`` is
thread-safe); widgets never touch the database themselves, so the screen never waits on it.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message

from spyglass.tracer._records import SpanRecord, Trace, TraceSummary
from spyglass.viewer._prompt_info import PromptInfo


class TracesLoaded(Message):
    """A worker read the trace list for the current filter (or failed to: ``error``)."""

    def __init__(
        self, summaries: list[TraceSummary], generation: int, error: str | None = None
    ) -> None:
        super().__init__()
        self.summaries = summaries
        self.generation = generation
        self.error = error


class StoreChanged(Message):
    """Something was written to the file since the last look: the list should reload."""


class TraceLoaded(Message):
    """A worker read one whole trace (or failed to: ``error``)."""

    def __init__(
        self, trace: Trace | None, error: str | None = None, scores: Text | None = None
    ) -> None:
        super().__init__()
        self.trace = trace
        self.error = error
        self.scores = scores  # one line of the trace's scores, or None when it has none


class SpanChosen(Message):
    """The cursor moved to a span in the tree."""

    def __init__(self, span: SpanRecord) -> None:
        super().__init__()
        self.span = span


class PromptLoaded(Message):
    """A worker read a prompt version and its predecessor from the registry."""

    def __init__(self, span_id: str, info: PromptInfo) -> None:
        super().__init__()
        self.span_id = span_id
        self.info = info
