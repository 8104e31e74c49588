"""Secret scrubbing for every string spyglass stores.

Replacement scheme: the secret becomes ``[REDACTED]`` (no kind suffix) and the context that
says what it was is kept: ``Bearer [REDACTED]``, ``"api_key": "[REDACTED]"``,
``postgres://user:[REDACTED]@host``, ``-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END…``.
Bare tokens (``sk-…``, ``ghp_…``, ``AKIA…``, JWTs) are replaced whole.  Scrubbing is idempotent.

Speed: Python's ``re`` tries every alternative at every position, so a naive alternation of
the built-in rules costs ~700 µs per 2 KB.  Instead every built-in branch starts with a
literal *anchor* character that is uncommon in prose (``- _ : = A J b B``); the text before
the anchor (``sk``, ``ghp``, the key name) is checked, and captured for redaction, by
lookbehinds.  Most text holds no secret, so a prefilter runs first (``_may_have_secret``):
per anchor, ``anchor in text`` (a memchr), then one regex of just that anchor's branches,
which ``re`` scans for its literal first character in C.  Only text that some rule matches
gets the redacting pass, one alternation of all the rules (a first-character *set*, which
``re`` checks position by position: ~5 µs per KB).  Key=value branches begin with a cheap
check of the key's last three letters, since JSON puts a ``:`` after every key.  User
patterns are a second alternation of their own, run on every string.  Each branch ends with
an empty group ``_rN`` that closes last, so ``match.lastgroup`` names the rule and its
``S…`` groups.

False positives are avoided by anchoring on vendor prefixes and key names, not entropy: hex
ids, UUIDs and SHAs never match; a key=value pair is redacted only if the key *ends* with a
secret-ish word, so ``max_tokens``, ``token_count`` and ``password_hint`` stay, and a bare
``token`` key (logprobs use it for vocabulary) needs a 16+ character credential-like value.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import cast

__all__ = ["REDACTED", "Redactor", "make_redactor"]

REDACTED = "[REDACTED]"

_logger = logging.getLogger("spyglass")

_SECRET_KEYS = (
    "pwd", "auth", "apikey", "secret", "passwd", "api_key", "api-key", "password",
    "secretkey", "accesskey", "secret_key", "secret-key", "passphrase", "access_key",
    "access-key", "privatekey", "private_key", "private-key", "authorization",
)  # fmt: skip
_NEEDS_LEFT_BOUNDARY = frozenset({"auth"})  # "oauth: enabled" is not a credential
# Between key and ':'/'=' there may be a closing quote (maybe JSON-escaped) and a space.
_KEY_SEPARATORS = ("", r"[\"' ]", r"(?:\\[\"']|[\"'] )")
_SCHEME = r"(?i:bearer|basic|token|digest)\s+"  # kept visible: "Bearer [REDACTED]"
_BEARER_VALUE = r"(?:(?=[\w.~+/-]*\d)[\w.~+/-]{8,}|[\w.~+/-]{20,})=*"


def _key_lookbehind(keys: Iterable[str]) -> str:
    """Lookbehinds (fixed width, so grouped by key length) for 'key ends right before here'."""
    parts = []
    for _length, same_length in groupby(sorted(keys, key=len), key=len):
        fragments = [
            f"(?<![a-z]){re.escape(k)}" if k in _NEEDS_LEFT_BOUNDARY else re.escape(k)
            for k in same_length
        ]
        alternation = "|".join(fragments)
        parts += [f"(?<=(?i:{alternation}){sep}[:=])" for sep in _KEY_SEPARATORS]
    return f"(?:{'|'.join(parts)})"


def _suffix_guard(keys: Iterable[str]) -> str:
    """Lookbehinds for 'the three letters before the separator end one of ``keys``'.

    Implied by :func:`_key_lookbehind` (same separators, same case-insensitivity), so it never
    changes a match; it only makes the common miss cheap. JSON and prose put a ``:`` after
    nearly every key (``"role":``, ``"content":``); one letter-class check per ``:`` rejects
    most of them, the exact three-letter endings most of the rest, each far cheaper than the
    ~30 key lookbehinds that follow.
    """
    keys = tuple(keys)
    if min(map(len, keys)) < 3:
        raise ValueError("secret keys must be at least 3 characters long")
    letters = [re.escape("".join(sorted({key[i] for key in keys}))) for i in (-3, -2, -1)]
    classes = f"(?i:[{letters[0]}][{letters[1]}][{letters[2]}])"  # cheapest: tried first
    endings = f"(?i:{'|'.join(sorted({re.escape(key[-3:]) for key in keys}))})"
    return "".join(
        f"(?:{'|'.join(f'(?<={suffix}{sep}[:=])' for sep in _KEY_SEPARATORS)})"
        for suffix in (classes, endings)
    )


def _key_value(keys: Iterable[str], quoted: str, unquoted: str) -> str:
    """Branch body for ``key: value`` pairs; ``{q}`` in ``quoted`` stands for the quote."""
    keys = tuple(keys)
    double, single = (quoted.replace("{q}", q) for q in ('"', "'"))
    return (
        _suffix_guard(keys) + _key_lookbehind(keys) + r">?[ \t]*"
        rf"(?:\\?\"(?:{_SCHEME})?(?P<S>{double})"
        rf"|\\?'(?:{_SCHEME})?(?P<S2>{single})"
        rf"|(?:{_SCHEME}|(?!{_SCHEME}))(?P<S3>{unquoted}))"
    )


_UNQUOTED = r"[^\s,\"'&;\\]"
_SECRET_VALUE = _key_value(_SECRET_KEYS, r"[^{q}\\\r\n]+", _UNQUOTED + "{6,}")
# A credential has no spaces and is long; logprob "token" values are short words.
_TOKEN_VALUE = _key_value(("token",), r"[^{q}\\\s]{16,}(?=\\?{q})", _UNQUOTED + "{16,}")

# (rule, anchor characters, branch body after the anchor).  Groups to redact are spelled
# (?P<S>..), (?P<S2>..); a match redacts from the first to the last that took part.
_DEFAULT_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "private_key",
        "-",
        r"----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----(?P<S>[\s\S]*?)"
        r"(?=-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----|\Z)",  # a cut-off block redacts to the end
    ),
    ("openai_anthropic", "-", r"(?<=(?<![\w-])(?P<S>sk-))(?P<S2>[\w-]{20,})"),
    ("slack", "-", r"(?<=(?<![\w-])(?P<S>xox[baprs]-))(?P<S2>[A-Za-z0-9-]{10,})"),
    ("stripe", "_", r"(?<=(?<![\w-])(?P<S>[rs]k_))(?P<S2>(?:live|test)_[A-Za-z0-9]{10,})"),
    ("github", "_", r"(?<=(?<![\w-])(?P<S>gh[pousr]_))(?P<S2>[A-Za-z0-9]{30,})"),
    ("github_pat", "_", r"(?<=(?<![\w-])(?P<S>github_))(?P<S2>pat_\w{30,})"),
    ("huggingface", "_", r"(?<=(?<![\w-])(?P<S>hf_))(?P<S2>[A-Za-z0-9]{30,})"),
    ("groq", "_", r"(?<=(?<![\w-])(?P<S>gsk_))(?P<S2>[A-Za-z0-9]{20,})"),
    ("google", "A", r"(?<=(?<![\w-])(?P<S>A))(?P<S2>Iza[\w-]{35})"),
    (
        "aws_access_key_id",
        "A",
        r"(?<=(?<![A-Za-z0-9])(?P<S>A))(?P<S2>(?:KIA|SIA)[A-Z0-9]{16})(?![A-Za-z0-9])",
    ),
    ("jwt", "J", r"(?<=(?<![\w-])(?P<S>eyJ))(?P<S2>[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*)"),
    ("bearer", "bB", rf"(?<=(?<![A-Za-z])[bB])(?i:earer)\s+(?P<S>{_BEARER_VALUE})"),
    ("url_password", ":", r"//[^\s:/@]*:(?P<S>[^\s:/@?#]+)@"),
    ("key_value", ":=", _SECRET_VALUE),
    ("token_key_value", ":=", _TOKEN_VALUE),
)
_MIN_SECRET_LEN = 6  # shortest built-in match, e.g. pwd:"x
# Short strings (span names, models, providers, kinds, finish reasons) recur on nearly every
# span. Each Redactor remembers up to _CLEAN_MEMO_SIZE of them that the built-in rules leave
# unchanged, so they skip the rules next time; a string with a secret is never remembered.
_CLEAN_MEMO_SIZE = 4096
_CLEAN_MEMO_MAX_LEN = 128


@dataclass(frozen=True)
class _Builtin:
    """The built-in rules compiled two ways: one alternation, and one regex per anchor."""

    regex: re.Pattern[str]
    secret_groups: dict[str, tuple[str, ...]]
    #: ``(anchor, regex of the branches starting with it)``: see :func:`_may_have_secret`.
    by_anchor: tuple[tuple[str, re.Pattern[str]], ...]


def _build_default_regex() -> _Builtin:
    # Each branch *starts* with its anchor, so the branches of one anchor make a regex with a
    # literal first character (for the prefilter); one branch per anchor, with per-branch
    # group names so the redacting pass knows which groups hold the secret.
    branches: list[str] = []
    by_anchor: dict[str, list[str]] = {}
    secret_groups: dict[str, tuple[str, ...]] = {}
    for index, (_rule, anchors, body) in enumerate(_DEFAULT_RULES):
        for position, anchor in enumerate(anchors):
            tag = f"_{index}_{position}_"
            renamed = body.replace("(?P<S", f"(?P<{tag}S")
            branch = f"{re.escape(anchor)}{renamed}(?P<_r{tag}>)"
            branches.append(branch)
            by_anchor.setdefault(anchor, []).append(branch)
            secret_groups[f"_r{tag}"] = tuple(re.findall(rf"\(\?P<({tag}S\d*)>", renamed))
    return _Builtin(
        re.compile("|".join(branches)),
        secret_groups,
        tuple((anchor, re.compile("|".join(group))) for anchor, group in by_anchor.items()),
    )


# Compiled on first use (on the exporter's thread), not at import: it takes ~30 ms, which
# would land on autolog()'s start-up budget.
_default_regex = functools.cache(_build_default_regex)


def _may_have_secret(text: str, builtin: _Builtin) -> bool:
    """Whether any built-in rule matches somewhere in ``text``: exact, not a heuristic.

    An alternation matches somewhere iff one of its branches does, so when no anchor's
    branches match, the redacting pass would find nothing. Checked this way a clean KB of
    JSON and prose costs ~4 µs, the one alternation ~7: ``anchor in text`` rules out absent
    anchors without starting ``re``, and a regex with one literal first character skips to
    it in C.
    """
    for anchor, regex in builtin.by_anchor:
        if anchor in text and regex.search(text) is not None:
            return True
    return False


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
    builtin = _default_regex()
    if not _may_have_secret(text, builtin):
        return text
    pieces: list[str] = []
    last = 0
    secret_groups = builtin.secret_groups
    for match in builtin.regex.finditer(text):
        spans = [match.span(name) for name in secret_groups[match.lastgroup or ""]]
        spans = [span for span in spans if span[0] >= 0]
        start, end = (spans[0][0], spans[-1][1]) if spans else match.span()
        if end <= last:
            continue
        # A lookbehind-captured prefix ("sk") can reach back into the previous redaction.
        pieces += (text[last : max(start, last)], REDACTED)
        last = end
    if not pieces:
        return text
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
        self._clean: set[str] = set()  # see _CLEAN_MEMO_SIZE

    def __repr__(self) -> str:
        patterns = [pattern.pattern for pattern in self.extra_patterns]
        return (
            f"Redactor(extra_patterns={patterns!r}, extra={self._extra!r}, "
            f"include_defaults={self.include_defaults!r})"
        )

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``[REDACTED]``; never raises."""
        if self.include_defaults and len(text) >= _MIN_SECRET_LEN:
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
        """The built-in rules, skipped for a short string already known to pass them."""
        if len(text) > _CLEAN_MEMO_MAX_LEN or type(text) is not str:  # a subclass stays itself
            return _scrub_builtin(text)
        clean = self._clean
        if text in clean:
            return text
        scrubbed = _scrub_builtin(text)
        if scrubbed is text:
            if len(clean) >= _CLEAN_MEMO_SIZE:
                clean.clear()
            clean.add(text)
        return scrubbed

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
