"""Names, aliases and references (``qa``, ``qa@3``, ``qa@production``), checked once here.

A prompt name is 1-128 characters of letters, digits, ``_ - . /``, starting with a letter or
digit: never ``@`` (it separates a name from a version or alias) and never whitespace (names are
typed on command lines). An alias starts with a letter or ``_`` so it can never be mistaken for a
version number; ``latest`` is built in (the newest version) and cannot be set.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence

from spyglass.errors import PromptError

NAME_MAX = 128
ALIAS_MAX = 64
#: The largest version number: SQLite's largest integer.
VERSION_MAX = 2**63 - 1
LATEST = "latest"

_NAME = re.compile(r"\w[\w.\-/]*")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: int() would take "٣" but not "²", isdigit() both
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 40, 40
_ALIAS = re.compile(r"[^\W\d][\w.\-]*")

Selector = int | str  # a version number or an alias


def check_name(name: object) -> str:
    """The name, or a ``PromptError`` saying exactly what is wrong with it."""
    if not isinstance(name, str):
        raise PromptError(f"prompt name must be a string, got {type(name).__name__}")
    if not name.strip():
        raise PromptError("prompt name is empty")
    if "@" in name:
        raise PromptError(
            f"prompt name {shown(name)} contains '@', which separates a name from a version or an "
            "alias (qa@2, qa@production)"
        )
    if any(char.isspace() for char in name):
        raise PromptError(f"prompt name {shown(name)} contains whitespace")
    if len(name) > NAME_MAX:
        raise PromptError(f"prompt name is {len(name)} characters long; the limit is {NAME_MAX}")
    if not _NAME.fullmatch(name):
        raise PromptError(
            f"prompt name {shown(name)} may hold only letters, digits, '_', '-', '.' and '/', "
            "and must start with a letter or digit"
        )
    return name


def check_alias(alias: object, *, allow_latest: bool = False) -> str:
    """The alias, or a ``PromptError``; ``latest`` only where it is read, never set."""
    if not isinstance(alias, str) or not alias:
        raise PromptError(f"alias must be a non-empty string, got {shown(alias)}")
    if alias == LATEST and not allow_latest:
        raise PromptError("'latest' is built in (always the newest version) and cannot be set")
    if len(alias) > ALIAS_MAX or not _ALIAS.fullmatch(alias):
        raise PromptError(
            f"alias {shown(alias)} must be at most {ALIAS_MAX} letters, digits, '_', '-' or '.', "
            "starting with a letter or '_' (so it never looks like a version number)"
        )
    return alias


def check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise PromptError(f"version must be a positive integer, got {shown(version)}")
    if version > VERSION_MAX:
        raise PromptError(f"version must be at most {VERSION_MAX}, got {shown(version)}")
    return version


def shown(value: object, limit: int = 60) -> str:
    """A short repr of any value for an error message: a value read from a file can be huge
    (nested, or a YAML alias graph whose full repr would be exponential), and an integer of
    more than 4,300 digits has no ``repr`` at all."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_selector(text: object) -> Selector:
    """A version number (``3``, ``"3"``) or an alias (``"production"``)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return check_version(text)
    if isinstance(text, str) and _DIGITS.fullmatch(text.strip()):
        digits = text.strip().lstrip("0") or "0"
        if len(digits) > len(str(VERSION_MAX)):  # int() refuses past 4,300 digits
            raise PromptError(f"version must be at most {VERSION_MAX}, got {shown(text)}")
        return check_version(int(digits))
    return check_alias(text, allow_latest=True)


def split_ref(ref: str) -> tuple[str, Selector | None]:
    """``qa`` → ``("qa", None)``; ``qa@3`` → ``("qa", 3)``; ``qa@production`` → alias."""
    if not isinstance(ref, str):
        raise PromptError(f"prompt reference must be a string, got {type(ref).__name__}")
    name, at, selector = ref.partition("@")
    check_name(name)
    if not at:
        return name, None
    if not selector:
        raise PromptError(
            f"nothing after '@' in {shown(ref)}: give a version ({name}@2) or an alias "
            f"({name}@production)"
        )
    return name, parse_selector(selector)


def version_ranges(versions: Iterable[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"1-3, 5"``."""
    ordered = sorted(set(versions))
    runs: list[list[int]] = []
    for number in ordered:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def describe_existing(versions: Sequence[int], aliases: Mapping[str, int]) -> str:
    """``versions: 1-3; aliases: production→2`` for error messages."""
    shown = ", ".join(f"{alias}→{version}" for alias, version in sorted(aliases.items()))
    return f"versions: {version_ranges(versions)}; aliases: {shown or 'none'}"
