"""The one exception tree of spyglass; the CLI turns any of these into one line on stderr."""

from __future__ import annotations


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
