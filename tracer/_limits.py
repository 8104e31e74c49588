"""What a value must be to be stored: valid UTF-8 text, a bounded size, an integer JSON can write.

One bad value must cost at most that value, never its span nor the spans after it:

* **Lone surrogates** (``os.listdir`` and ``os.fsdecode`` give ``"caf\\udce9.txt"`` for a
  Latin-1 file name; broken decoders leave them too) cannot be encoded as UTF-8, so SQLite and
  OTLP refuse the whole statement or batch. Each becomes U+FFFD (``caf�.txt``), and a pair of
  halves becomes the character they make. U+FFFD rather than a ``\\udce9``-style escape: it
  stays the same character whether the string is plain text or JSON text (an escape written
  into a JSON string would decode back into the surrogate), and it is what the viewer already
  shows for a surrogate inside JSON that ``to_json`` escaped.
* **Size**: a string is cut with the same visible marker as ``set_input`` (``…[truncated N
  chars]``). ``SpanHandle.set_attribute`` keeps what ``set_input`` keeps of a string
  (``MAX_STRING``); light spans and the exporter's last guard allow ``MAX_ATTRIBUTE_CHARS``,
  room for the largest content attribute an integration builds.
* **Integers** past what Python's json writes (4,300 digits) become ``"<int with N bits>"``, as
  in ``to_json``; past SQLite's 64 bits they stay in the attributes JSON but fill no integer
  column.

Checks that run for every span are O(1) where they can be: ``str.isascii`` reads a flag CPython
keeps on each string, and only non-ASCII text is encoded to look for surrogates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from spyglass.tracer._serialize import _DEFAULT_MAX_STRING, _cap, _int

#: What ``set_input`` keeps of one string, and so what ``SpanHandle.set_attribute`` keeps.
MAX_STRING = _DEFAULT_MAX_STRING

#: The most characters one attribute value (a string, or a sequence of strings in all) keeps on
#: a light span or in the exporter. Integrations cap content JSON at 1,000,000 characters, and
#: ``to_json`` may re-encode a cut text as a JSON string (each quote or backslash doubled): this
#: leaves that room twice over, and still cuts a 50 MB value to 4 MB.
MAX_ATTRIBUTE_CHARS = 1 << 22

#: SQLite's INTEGER range.
SQLITE_MIN_INT = -(2**63)
SQLITE_MAX_INT = 2**63 - 1


def valid_text(text: str) -> str:
    """``text``, or a copy where each lone surrogate is U+FFFD (and paired halves are joined)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def capped(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and ``…[truncated N chars]``."""
    return _cap(text, limit)


def bounded_strings(values: Sequence[str], limit: int) -> tuple[str, ...]:
    """A sequence of strings holding at most ``limit`` characters in all: each string cut to what
    is left, and the strings past the bound replaced by one ``…[N more items]``."""
    out: list[str] = []
    left = limit
    for index, value in enumerate(values):
        if left <= 0:
            out.append(f"…[{len(values) - index} more items]")
            break
        out.append(_cap(value, left))
        left -= len(value)
    return tuple(out)


def valid_value(value: object) -> object:
    """An attribute value with its text made valid (``valid_text``), of the same type."""
    if type(value) is str:
        return valid_text(value)
    if isinstance(value, (tuple, list)) and any(type(item) is str for item in value):
        return type(value)(valid_text(item) if type(item) is str else item for item in value)
    return value


def storable(value: object, limit: int = MAX_ATTRIBUTE_CHARS) -> object:
    """A copy of JSON-like ``value`` that SQLite and json both take: text valid and cut to
    ``limit``, integers json can write. The slow path, for a span whose values failed the fast
    one; dict keys are made text as json would, then checked the same way."""
    if isinstance(value, str):
        return valid_text(_cap(value, limit))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # as orjson writes NaN: null
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, dict):
        return {
            valid_text(key if isinstance(key, str) else str(key)): storable(item, limit)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        items = [storable(item, limit) for item in value]
        if items and all(type(item) is str for item in items):
            return list(bounded_strings([str(item) for item in items], limit))
        return items
    return storable(str(value), limit)


def sqlite_int(value: object) -> int | None:
    """``value`` if it is an integer an INTEGER column holds (not a bool), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if SQLITE_MIN_INT <= value <= SQLITE_MAX_INT else None
    return None
