"""Secret scrubbing for every string spyglass stores.

Design:

* Replacement scheme: the secret itself becomes ``[REDACTED]`` (no kind suffix); the context
  that says what it was is kept: ``Bearer [REDACTED]``, ``"api_key": "[REDACTED]"``,
  ``postgres://user:[REDACTED]@host``, ``-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END…``.
  Bare tokens (``sk-…``, ``ghp_…``, JWTs) are replaced whole.  Scrubbing is idempotent.
* All rules, built-in and user-supplied, are compiled into ONE alternation, so a scrub is a
  single ``re.sub`` pass.  Every branch ends with an empty named group (``_rN``) that is the
  last group to close, so ``match.lastgroup`` names the rule; a rule redacts only its
  ``(?P<S…>)`` groups, or the whole match if it has none.
* Fast path: with the built-in rules only, a string is scanned only if it contains one of a
  few literals that every built-in rule needs (``sk-``, ``eyj``, ``token``, ``://``, ...),
  which ``in`` checks find far faster than the regex engine can reject a position.
* False positives are avoided by anchoring on vendor prefixes and key names, not entropy:
  hex ids, UUIDs and SHAs never match, and ``"max_tokens": 100`` / ``"token_count"`` /
  logprob ``"token": " the"`` are left alone (``token`` keys need a 16+ char credential).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import cast

__all__ = ["REDACTED", "Redactor", "make_redactor"]

REDACTED = "[REDACTED]"

_logger = logging.getLogger("spyglass")

# Value grammar shared by the key=value rules.  A scheme word (Bearer/Basic) is kept.
_SCHEME = r"(?i:bearer|basic|token|digest)\s+"
_KEY_TAIL_AND_ASSIGN = r"""[\w.-]*(?:\\?["'])?\s*(?:=>|[:=])\s*"""
_SECRET_KEY = (
    r"(?i:api[_-]?key|secret(?!ar)|passw(?:or)?d|passphrase|pwd|access[_-]?key"
    r"|private[_-]?key|(?<![a-z])auth(?:orization)?(?![a-z]))"
)
# Plural/count/id keys are usage metrics or vocabulary, not credentials.
_TOKEN_KEY = r"(?i:token(?!s|iz|_?(?:count|ids?|type|usage|limit|len|budget|index|logprob)))"
_BEARER_VALUE = r"(?:(?=[\w.~+/-]*\d)[\w.~+/-]{8,}|[\w.~+/-]{20,})=*"

# (rule name, regex).  Groups to redact are spelled (?P<S>..), (?P<S2>..): the builder renames
# them per rule so one combined pattern has unique names.
_DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    (
        "private_key",
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----(?P<S>[\s\S]*?)"
        r"(?=-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----|\Z)",  # a cut-off block redacts to the end
    ),
    ("openai_anthropic", r"(?<![\w-])sk-[A-Za-z0-9_-]{20,}"),
    ("stripe", r"(?<![\w-])[rs]k_(?:live|test)_[A-Za-z0-9]{10,}"),
    ("google", r"(?<![\w-])AIza[0-9A-Za-z_-]{35}"),
    ("github", r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    ("slack", r"(?<![\w-])xox[baprs]-[A-Za-z0-9-]{10,}"),
    ("huggingface", r"(?<![\w-])hf_[A-Za-z0-9]{30,}"),
    ("groq", r"(?<![\w-])gsk_[A-Za-z0-9]{20,}"),
    ("aws_access_key_id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ("jwt", r"(?<![\w-])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*"),
    ("bearer", rf"(?i:(?<![a-z])bearer)\s+(?P<S>{_BEARER_VALUE})"),
    ("url_password", r"://[^\s:/@]*:(?P<S>[^\s:/@?#]+)@"),
    (
        "secret_key_value",
        _SECRET_KEY + _KEY_TAIL_AND_ASSIGN + rf"(?:\\?\"(?:{_SCHEME})?(?P<S>[^\"\\\r\n]+)"
        rf"|\\?'(?:{_SCHEME})?(?P<S2>[^'\\\r\n]+)"
        rf"|(?:{_SCHEME}|(?!{_SCHEME}))(?P<S3>[^\s,\"'&;\\]{{6,}}))",
    ),
    (
        "token_key_value",
        _TOKEN_KEY + _KEY_TAIL_AND_ASSIGN + rf"(?:\\?\"(?:{_SCHEME})?(?P<S>[^\"\\\s]{{16,}})\\?\""
        rf"|\\?'(?:{_SCHEME})?(?P<S2>[^'\\\s]{{16,}})\\?'"
        rf"|(?:{_SCHEME}|(?!{_SCHEME}))(?P<S3>[^\s,\"'&;\\]{{16,}}))",
    ),
)

# Every built-in rule needs one of these (lower-cased) substrings; keep in sync with the rules.
_TRIGGERS = (
    "private", "sk-", "sk_", "rk_", "aiza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "xox", "hf_", "akia", "asia", "eyj", "bearer", "://", "api_key", "api-key",
    "apikey", "secret", "passw", "passphrase", "pwd", "access_key", "access-key", "accesskey",
    "auth", "token",
)  # fmt: skip
_MIN_SECRET_LEN = 6  # shortest built-in match, e.g. pwd:"x

_LEADING_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))
# Numbered backreferences and conditionals break once a pattern's groups are renumbered.
_NUMBERED_GROUP_REF = re.compile(r"\\[1-9]|\(\?\(\d")


def _may_contain_default_secret(text: str) -> bool:
    if len(text) < _MIN_SECRET_LEN:
        return False
    lowered = text.lower()
    return any(trigger in lowered for trigger in _TRIGGERS)


def _compile_extra(pattern: object) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise ValueError(f"redaction patterns must be text, not bytes: {pattern.pattern!r}")
        return cast("re.Pattern[str]", pattern)
    if not isinstance(pattern, str):
        raise ValueError(
            f"redaction patterns must be str or re.Pattern; got {type(pattern).__name__}"
        )
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
    return f"(?{letters}:{source}{newline})" if letters else f"(?:{source})"


def _default_branches() -> tuple[list[str], dict[str, tuple[str, ...]]]:
    branches: list[str] = []
    secret_groups: dict[str, tuple[str, ...]] = {}
    for index, (_name, body) in enumerate(_DEFAULT_RULES):
        renamed = body.replace("(?P<S", f"(?P<_s{index}_")
        branches.append(f"(?:{renamed})(?P<_r{index}>)")
        secret_groups[f"_r{index}"] = tuple(re.findall(r"\(\?P<(_s\d+_\w*?)>", renamed))
    return branches, secret_groups


_DEFAULT_BRANCHES, _DEFAULT_SECRET_GROUPS = _default_branches()
_DEFAULT_REGEX = re.compile("|".join(_DEFAULT_BRANCHES))


def _redact_whole(match: re.Match[str]) -> str:
    return REDACTED if match.group() else ""


class Redactor:
    """Replaces secrets in text with ``[REDACTED]``; see the module docstring for the scheme.

    ``extra_patterns`` are redacted whole-match; ``extra`` runs after the patterns on the
    already-scrubbed text, and if it raises, the pattern-scrubbed text is used (warned once).
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
        self._warned = False
        self._separate: list[re.Pattern[str]] = []
        self._secret_groups = dict(_DEFAULT_SECRET_GROUPS) if include_defaults else {}
        self._regex = self._build()
        # Extra patterns can match anything, so the literal pre-check only holds without them.
        self._always_scan = bool(self.extra_patterns) and self._regex is not None

    def _build(self) -> re.Pattern[str] | None:
        branches = list(_DEFAULT_BRANCHES) if self.include_defaults else []
        if not self.extra_patterns:
            return _DEFAULT_REGEX if branches else None
        extras: list[str] = []
        for index, compiled in enumerate(self.extra_patterns):
            source = _embeddable(compiled)
            if source is None:
                self._separate.append(compiled)
            else:
                extras.append(f"{source}(?P<_x{index}>)")
        try:
            return re.compile("|".join(branches + extras)) if branches + extras else None
        except re.error:
            # e.g. two patterns defining the same group name: give extras a pass each.
            self._separate = list(self.extra_patterns)
            return _DEFAULT_REGEX if branches else None

    def _replace(self, match: re.Match[str]) -> str:
        whole = match.group()
        if not whole:  # a user pattern that matches "" must not sprinkle markers
            return whole
        base = match.start()
        for name in self._secret_groups.get(match.lastgroup or "", ()):
            start, end = match.span(name)
            if start >= 0:
                return f"{whole[: start - base]}{REDACTED}{whole[end - base :]}"
        return REDACTED

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret replaced; never raises."""
        if self._regex is not None and (self._always_scan or _may_contain_default_secret(text)):
            text = self._regex.sub(self._replace, text)
        for pattern in self._separate:
            text = pattern.sub(_redact_whole, text)
        if self._extra is None:
            return text
        try:
            result = self._extra(text)
            if not isinstance(result, str):
                raise TypeError(f"returned {type(result).__name__}, not str")
        except Exception as exc:
            if not self._warned:
                self._warned = True
                # Only the type: the message may quote the very secret being scrubbed.
                _logger.warning(
                    "spyglass: redact callable %r raised %s; using built-in redaction only",
                    self._extra,
                    type(exc).__name__,
                )
            return text
        return result

    def scrub_value(self, value: object) -> object:
        """Scrub a str, or the strs inside (nested) lists, tuples and dict values."""
        return self._scrub_value(value, set())

    def _scrub_value(self, value: object, active: set[int]) -> object:
        if isinstance(value, str):
            return self.scrub(value)
        if not isinstance(value, (list, tuple, dict)):
            return value
        if id(value) in active:  # a cycle: no finite scrubbed copy exists
            return REDACTED
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {key: self._scrub_value(item, active) for key, item in value.items()}
            items = [self._scrub_value(item, active) for item in value]
            if isinstance(value, list):
                return items
            if hasattr(type(value), "_make"):  # namedtuple keeps its type
                return cast("tuple[object, ...]", type(value)._make(items))  # type: ignore[attr-defined]
            return tuple(items)
        finally:
            active.discard(id(value))


_USAGE = "redact= must be True, False, a pattern, a list of patterns, a callable or a Redactor"


def make_redactor(redact: object) -> Redactor | None:
    """Turn the user-facing ``redact=`` option into a :class:`Redactor` (or None for off)."""
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
