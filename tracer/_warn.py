"""Warnings through the ``spyglass`` logger: one line each, tracebacks only at DEBUG.

A failing database costs the traced program one warning, and a warning that spans many lines
(a traceback, a path or an SQLite message with a newline in it) is many lines in the
program's own log. So every warning of the write path goes through ``warn``: the text on one
line (``spyglass.errors.one_line``: control characters escaped, at most 1,000 characters) and,
when asked, the traceback of the exception being handled at DEBUG, right after it.
"""

from __future__ import annotations

import logging
import sys

from spyglass.errors import one_line

logger = logging.getLogger("spyglass")


def warn(message: str, *args: object, traceback: bool = False, debug: bool = False) -> None:
    """Log ``message % args`` on one line (at DEBUG when ``debug``: a repeat); ``traceback``
    adds the exception being handled, at DEBUG only."""
    try:
        text = one_line(message % args if args else message)
    except Exception:  # a bad format or an argument whose str() raises: say that much
        text = one_line(message)
    (logger.debug if debug else logger.warning)(text)
    if traceback:
        logger.debug("spyglass: the traceback of the warning above", exc_info=True)


def reason() -> str:
    """The exception being handled, as ``Type: message`` (for a warning's one line)."""
    exc = sys.exc_info()[1]
    if exc is None:
        return "unknown error"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
