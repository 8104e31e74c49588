"""Untrusted text made safe to print: model output must never drive the terminal.

Prompts, outputs and documents may hold ANSI escape sequences, other control characters or
rich markup. Every view builds ``rich.text.Text`` objects (never markup strings) from text
passed through ``literal``, which shows each control character as a visible escape.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls except tab and newline, DEL, C1 controls, and bidi overrides that reorder text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def literal(text: object, *, single_line: bool = False) -> str:
    """``text`` with control characters shown as ``\\x1b``-style escapes."""
    value = "" if text is None else str(text)
    value = _CONTROL.sub(_escape, value)
    if single_line:
        value = value.replace("\n", "\\n").replace("\t", " ")
    return value


def safe_text(text: object, style: str = "", *, single_line: bool = False) -> Text:
    """A rich ``Text`` that prints ``text`` literally (markup is not interpreted)."""
    return Text(literal(text, single_line=single_line), style=style)


def clip(text: str, width: int) -> str:
    """One line of at most ``width`` characters, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 1)] + "…"
