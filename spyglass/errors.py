"""The one exception tree of spyglass; the CLI turns any of these into one line on stderr.

``one_line`` is how an error is shown: control characters and line breaks escaped (a value
from a file or a command line cannot break the line or drive the terminal), and the length
capped, so no input, however large, makes a huge message.
"""

from __future__ import annotations

#: The longest error message shown; the rest is cut with a count of what was left out.
MAX_MESSAGE_CHARS = 1000


def one_line(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` on one line of at most about ``limit`` characters."""
    text = message[: limit + 1]  # never escape more than is shown
    text = "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
    if len(message) > limit or len(text) > limit:
        return f"{text[:limit]}… ({len(message):,} characters in all)"
    return text


class SpyglassError(Exception):
    """Base class of every error spyglass raises on purpose."""


class ConfigurationError(SpyglassError, ValueError):
    """A bad argument to the public API or a bad environment variable."""


class IntegrationNotAvailable(ConfigurationError):
    """An integration was named whose library is not installed."""


class DatabaseError(SpyglassError):
    """The SQLite file cannot be used."""


class DatabaseNotFound(DatabaseError):
    """The file does not exist (read commands never create one)."""


class NotASpyglassDatabase(DatabaseError):
    """The file is SQLite, or something else, but was not written by spyglass."""


class CorruptDatabase(DatabaseError):
    """SQLite reports the file as malformed."""


class DatabaseTooNew(DatabaseError):
    """The file was migrated by a newer spyglass than this one."""


class TraceNotFound(SpyglassError, LookupError):
    """No trace has that id or id prefix."""


class AmbiguousTraceId(SpyglassError, LookupError):
    """More than one trace starts with that prefix."""


class PromptError(SpyglassError, ValueError):
    """A bad prompt: its name, template, variables, or a registry file."""


class PromptNotFound(PromptError, LookupError):
    """No prompt, version or alias by that name; the message says what exists."""


class PromptTemplateError(PromptError):
    """A template that does not parse, with where: ``index`` (0-based, into the text of the
    template or of chat message number ``message``), ``line`` and ``column`` (1-based), and
    ``caret``: the offending line with a ``^`` under the position."""

    def __init__(
        self, text: str, *, index: int, line: int, column: int, caret: str, message: int | None
    ) -> None:
        super().__init__(text)
        self.index = index
        self.line = line
        self.column = column
        self.caret = caret
        self.message = message


class EvaluationError(SpyglassError, ValueError):
    """A bad dataset, target, evaluator or score, or an evaluation run that cannot proceed."""


class RunNotFound(EvaluationError, LookupError):
    """No evaluation run has that id, id prefix or name."""


class CollectorError(SpyglassError):
    """``spyglass collect`` cannot start: its address is taken, its file unusable, or the
    ``collect`` extra is not installed."""
