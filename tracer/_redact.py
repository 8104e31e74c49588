"""Secret scrubbing for every string spyglass stores.

Replacement scheme: the secret becomes ``[REDACTED]`` (no kind suffix) and the context that
says what it was is kept: ``Bearer [REDACTED]``, ``"api_key": "[REDACTED]"``,
``postgres://user:[REDACTED]@host``, ``-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END…``.
Bare tokens (``sk-…``, ``ghp_…``, ``AKIA…``, JWTs) are replaced whole.  Scrubbing is
idempotent.  What each rule matches, and how rules read JSON escapes, is in ``_redact_rules``.

Speed: Python's ``re`` tries every alternative at every position, so a naive alternation of
the built-in rules costs ~700 µs per 2 KB.  Instead every built-in branch starts with a
literal *anchor* that is uncommon in prose (``- _ : = A G J b B``, and ``\\\\\\":`` for JSON
escaped twice); the text before the anchor (``sk``, ``ghp``, the key name) is checked, and
captured for redaction, by lookbehinds.  The branches of one anchor make one regex with a
literal first character, which ``re`` scans for in C; an anchor absent from the text
(``anchor in text``, a memchr) costs no regex at all.  So a clean KB of prose costs ~1.5 µs,
of chat-message JSON ~12 (one guard per ``:``), and text with a secret is searched the same
way: every match of every rule is kept, overlapping ones merged into one ``[REDACTED]``.  A
match whose value is a placeholder is dropped by a check in Python on the value alone.
Key=value branches begin with a cheap check of the key's last three letters, since JSON puts
a ``:`` after every key.  User patterns are a second alternation of their own, run on every
string.  Each branch ends with an empty group ``_rN`` that closes last, so
``match.lastgroup`` names the branch, hence its rule and its ``S…`` groups.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, cast

from spyglass.tracer._redact_rules import CHECKS, DEFAULT_RULES, MIN_SECRET_LEN

__all__ = ["REDACTED", "Redactor", "Secret", "find_secrets", "make_redactor"]

REDACTED = "[REDACTED]"

_logger = logging.getLogger("spyglass")

# Short strings (span names, models, providers, kinds, finish reasons, attribute keys) recur
# on nearly every span. Each Redactor remembers up to _CLEAN_MEMO_SIZE of them that the
# built-in rules leave unchanged, so they skip the rules next time; a string with a secret is
# never remembered.
_CLEAN_MEMO_SIZE = 4096
_CLEAN_MEMO_MAX_LEN = 128
# Long strings recur too: a chain hands each value on, so one trace stores the same question,
# context and answer as the output of one step, the input of the next and the messages of the
# model call (about half of a RAG chain's content), and a system prompt or template repeats
# from call to call. Up to _LONG_MEMO_CHARS characters of clean ones are remembered, each
# compared whole (hashing a KB costs ~0.3 µs, the rules ~12 µs on chat JSON). Longer strings
# are scanned every time.
_LONG_MEMO_CHARS = 1 << 21
_LONG_MEMO_MAX_LEN = 1 << 16


class _CleanMemo(set[str]):
    """Strings known to pass the rules, forgotten all at once when the next would pass
    ``budget``; each weighs ``weigh(text)`` (1: a count of strings, ``len``: of characters).

    The bound is kept loosely if two exporters' threads share one Redactor (a clear and an
    add may interleave); what is remembered is always a string the rules left as is.
    """

    def __init__(self, budget: int, weigh: Callable[[str], int]) -> None:
        super().__init__()
        self.budget = budget
        self.weigh = weigh
        self.weight = 0

    def remember(self, text: str) -> None:
        cost = self.weigh(text)
        if self.weight + cost > self.budget:
            self.clear()
            self.weight = 0
        self.add(text)
        self.weight += cost


def _one(_text: str) -> int:
    return 1


class Secret(NamedTuple):
    """Where a built-in rule found a secret in a text, and what kind it looks like."""

    kind: str
    start: int
    end: int


class _Branch(NamedTuple):
    """What a match of one branch means: which groups hold the secret (by number, the last
    one its value), what kind of secret it is, and the check that drops a placeholder."""

    groups: tuple[int, ...]
    kind: str
    check: Callable[[str], bool] | None


@dataclass(frozen=True)
class _Builtin:
    """The built-in rules compiled as one regex per anchor character."""

    #: ``(anchor, regex of the branches starting with it, its branches by _r… group)``.
    by_anchor: tuple[tuple[str, re.Pattern[str], dict[str, _Branch]], ...]


def _build_default_regex() -> _Builtin:
    # Each branch *starts* with its anchor, so the branches of one anchor make a regex with a
    # literal first character; its group names get a per-branch tag, so the groups of every
    # branch are told apart.
    by_anchor: dict[str, list[tuple[str, str, str, str]]] = {}
    for index, (kind, anchors, body, check) in enumerate(DEFAULT_RULES):
        for position, anchor in enumerate(anchors):
            tag = f"_{index}_{position}_"
            renamed = body.replace("(?P<", f"(?P<{tag}").replace("(?P=", f"(?P={tag}")
            branch = f"{re.escape(anchor)}{renamed}(?P<_r{tag}>)"
            by_anchor.setdefault(anchor, []).append((tag, branch, kind, check))
    compiled = []
    for anchor, branches in by_anchor.items():
        regex = re.compile("|".join(branch for _, branch, _, _ in branches))
        meaning = {
            f"_r{tag}": _Branch(
                tuple(
                    number
                    for name, number in regex.groupindex.items()
                    if re.fullmatch(rf"{tag}S\d*", name)
                ),
                kind,
                CHECKS[check] if check else None,
            )
            for tag, _, kind, check in branches
        }
        compiled.append((anchor, regex, meaning))
    return _Builtin(tuple(compiled))


# Compiled on first use (on the exporter's thread), not at import: it takes tens of ms, which
# would land on autolog()'s start-up budget.
_default_regex = functools.cache(_build_default_regex)


def _find(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of every match of a built-in rule in ``text``, unsorted."""
    found: list[tuple[int, int, str]] = []
    for anchor, regex, branches in _default_regex().by_anchor:
        # Most anchors are absent from most text: no regex at all. A long anchor's first
        # character is looked for first (a memchr), the whole anchor only if it is there.
        if anchor[0] not in text or anchor not in text:
            continue
        match = regex.search(text)
        while match is not None:
            branch = branches[match.lastgroup or ""]
            regs = match.regs
            spans = [regs[number] for number in branch.groups if regs[number][0] >= 0]
            start, end = spans[0][0], spans[-1][1]
            if branch.check is not None and branch.check(text[spans[-1][0] : end]):
                # A placeholder: search again from the next character, where another branch
                # of this anchor may match.
                match = regex.search(text, match.start() + 1)
                continue
            found.append((start, end, branch.kind))
            match = regex.search(text, match.end())
    return found


def find_secrets(text: str) -> list[Secret]:
    """Every match of a built-in rule in ``text``, in order of start (they may overlap)."""
    return [Secret(kind, start, end) for start, end, kind in sorted(_find(text))]


_LEADING_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
# Numbered backreferences and conditionals break once a pattern's groups are renumbered.
_NUMBERED_GROUP_REF = re.compile(r"\\[1-9]|\(\?\(\d")


def _compile_extra(pattern: object) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise ValueError(f"redaction patterns must be text, not bytes: {pattern.pattern!r}")
        return cast("re.Pattern[str]", pattern)
    if not isinstance(pattern, str):
        kind = type(pattern).__name__
        raise ValueError(f"redaction patterns must be str or re.Pattern; got {kind}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid redaction pattern {pattern!r}: {exc}") from exc


def _embeddable(compiled: re.Pattern[str]) -> str | None:
    """Source of ``compiled`` that behaves the same inside a larger alternation, or None."""
    source = compiled.pattern
    while match := _LEADING_FLAGS.match(source):  # global flags are an error mid-pattern
        source = source[match.end() :]
    if _NUMBERED_GROUP_REF.search(source):
        return None
    letters = "".join(letter for flag, letter in _FLAG_LETTERS if compiled.flags & flag)
    if compiled.flags & re.ASCII:
        letters += "a"
    newline = "\n" if compiled.flags & re.VERBOSE else ""  # a trailing comment would eat ")"
    return f"(?{letters}:{source}{newline})"


def _combine(patterns: tuple[re.Pattern[str], ...]) -> list[re.Pattern[str]]:
    """As few regexes as possible (ideally one) matching whatever any of ``patterns`` does."""
    if len(patterns) <= 1:
        return list(patterns)  # a lone pattern keeps re's literal-prefix optimisation
    sources = [_embeddable(pattern) for pattern in patterns]
    if None not in sources:
        try:
            return [re.compile("|".join(cast("list[str]", sources)))]
        except re.error:
            pass  # e.g. two patterns define the same group name
    return list(patterns)


def _redact_whole(match: re.Match[str]) -> str:
    return REDACTED if match.group() else ""  # a pattern matching "" must not add markers


def _scrub_builtin(text: str) -> str:
    found = _find(text)
    if not found:
        return text
    found.sort()
    pieces: list[str] = []
    last = 0
    for start, end, _kind in found:
        if end <= last:  # inside the previous redaction
            continue
        if start < last:  # overlaps it: one marker for both
            last = end
            continue
        pieces += (text[last:start], REDACTED)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


class Redactor:
    """Replaces secrets in text with ``[REDACTED]``; see the module docstring for the scheme.

    ``extra_patterns`` are redacted whole-match.  ``extra`` runs last, on the already
    scrubbed text; if it raises (or returns a non-str) the pattern-scrubbed text is used and
    a warning is logged once per Redactor.
    """

    def __init__(
        self,
        extra_patterns: Iterable[str | re.Pattern[str]] = (),
        extra: Callable[[str], str] | None = None,
        *,
        include_defaults: bool = True,
    ) -> None:
        if extra is not None and not callable(extra):
            raise ValueError(f"extra must be a callable; got {type(extra).__name__}")
        self.extra_patterns = tuple(_compile_extra(pattern) for pattern in extra_patterns)
        self.include_defaults = include_defaults
        self._extra = extra
        self._extra_regexes = _combine(self.extra_patterns)
        self._warned = False
        self._clean = _CleanMemo(_CLEAN_MEMO_SIZE, _one)
        self._clean_long = _CleanMemo(_LONG_MEMO_CHARS, len)
        self._clean_names = _CleanMemo(_CLEAN_MEMO_SIZE, _one)  # see scrub_name

    def __repr__(self) -> str:
        patterns = [pattern.pattern for pattern in self.extra_patterns]
        return (
            f"Redactor(extra_patterns={patterns!r}, extra={self._extra!r}, "
            f"include_defaults={self.include_defaults!r})"
        )

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``[REDACTED]``; never raises."""
        if self.include_defaults and len(text) >= MIN_SECRET_LEN:
            text = self._scrub_builtin(text)
        for regex in self._extra_regexes:
            text = regex.sub(_redact_whole, text)
        if self._extra is None:
            return text
        try:
            result = self._extra(text)
            if not isinstance(result, str):
                raise TypeError(f"returned {type(result).__name__}, not str")
        except Exception as exc:
            if not self._warned:
                self._warned = True
                # Only the exception type: its message may quote the secret being scrubbed.
                _logger.warning(
                    "spyglass: redact callable %r raised %s; using pattern redaction only",
                    self._extra,
                    type(exc).__name__,
                )
            return text
        return result

    def _scrub_builtin(self, text: str) -> str:
        """The built-in rules, skipped for a string already known to pass them."""
        size = len(text)
        if size > _LONG_MEMO_MAX_LEN or type(text) is not str:  # a subclass stays itself
            return _scrub_builtin(text)
        clean = self._clean if size <= _CLEAN_MEMO_MAX_LEN else self._clean_long
        if text in clean:
            return text
        scrubbed = _scrub_builtin(text)
        if scrubbed is text:
            clean.remember(text)
        return scrubbed

    def scrub_name(self, name: str) -> str:
        """``scrub`` for a name that recurs on nearly every span (an attribute key, an event
        name): once known to pass the rules and patterns, one set lookup. Not remembered when
        an ``extra`` callable is set, which sees every string."""
        clean = self._clean_names
        if name in clean:
            return name
        scrubbed = self.scrub(name)
        if scrubbed is name and self._extra is None and len(name) <= _CLEAN_MEMO_MAX_LEN:
            clean.remember(name)
        return scrubbed

    def known_clean_names(self, names: Iterable[str]) -> bool:
        """Whether ``scrub_name`` already knows every one of ``names`` to be clean."""
        return self._clean_names.issuperset(names)

    def scrub_value(self, value: object) -> object:
        """Scrub a str, or the strs inside (nested) lists, tuples and dict values."""
        return self._scrub_value(value, set())

    def _scrub_value(self, value: object, active: set[int]) -> object:
        if isinstance(value, str):
            return self.scrub(value)
        if not isinstance(value, (list, tuple, dict)):
            return value
        if id(value) in active:  # a cycle has no finite scrubbed copy
            return REDACTED
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {key: self._scrub_value(item, active) for key, item in value.items()}
            items = [self._scrub_value(item, active) for item in value]
            if isinstance(value, list):
                return items
            make = getattr(type(value), "_make", None)  # a namedtuple keeps its type
            return make(items) if callable(make) else tuple(items)
        finally:
            active.discard(id(value))


_USAGE = "redact= must be True, False, a pattern, a list of patterns, a callable or a Redactor"


def make_redactor(redact: object) -> Redactor | None:
    """Turn the user-facing ``redact=`` option into a :class:`Redactor`, or None for off."""
    if redact is True:
        return Redactor()
    if redact is False or redact is None:
        return None
    if isinstance(redact, Redactor):
        return redact
    if isinstance(redact, (str, re.Pattern)):
        return Redactor([redact])
    if callable(redact):
        return Redactor(extra=cast("Callable[[str], str]", redact))
    if isinstance(redact, Iterable) and not isinstance(redact, (bytes, bytearray, Mapping)):
        patterns = list(redact)
        for pattern in patterns:
            if not isinstance(pattern, (str, re.Pattern)):
                kind = f"{type(redact).__name__} containing {type(pattern).__name__}"
                raise ValueError(f"{_USAGE}; got {kind}")
        return Redactor(patterns)
    raise ValueError(f"{_USAGE}; got {type(redact).__name__}")
