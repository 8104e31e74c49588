"""The built-in secret rules: what each secret looks like, where its match starts, what is kept.

Each rule is ``(kind, anchors, body, check)``: a branch per anchor starts with that literal
(a character uncommon in prose, see ``_redact``'s docstring, or a rare longer string), then
``body``. Text before the anchor (``sk``, a key name) is checked, and captured for redaction,
by lookbehinds; each checks a literal first, which fails at nearly every anchor. Groups named
``S``, ``S2``, ... hold the secret: a match redacts from the first to the last of them that
took part, so context (``Bearer``, ``"password": "``, ``postgres://user:``) stays.

Text is scrubbed as it is stored, and content attributes are JSON strings, so a secret can sit
right after a JSON escape (``"...?\\nsk-proj-..."``: an ``n`` before ``sk-``), inside JSON
that was escaped again (``{\\"password\\": \\"...\\"}``, or ``\\\\\\"`` one level deeper), or
hold an escape itself (``\\u00e9``). Rather than decode (text cut by truncation is no longer
JSON, and a decoded copy would have to be mapped back), the rules read escapes where they
stand: a left boundary also accepts a preceding escape that reads as a control character
(``_boundary``); key separators and opening quotes accept one level of escaping, and a rule
anchored on ``\\\\\\":`` reads key-value pairs escaped twice; quoted values go on through
``\\uXXXX`` and ``\\\\`` but stop before a closing quote and its escaping backslashes. A
redaction never starts or ends inside an escape sequence and never takes a quote, so JSON
stays JSON at every level.

False positives: look-alikes are told apart by vendor prefixes and key names, not entropy. A
match whose value is visibly not the secret is dropped (``check``, run on the match's value
alone): docs' placeholders (``YOUR_API_KEY``, ``<token>``, ``${TOKEN}``, ``sk-...``,
``ghp_XXXX…``, ``sk-your-key-here``), code that fetches the secret (``api_key=api_key)``,
``os.environ[...]``, ``getpass()``) and setting words (``null``, ``required``). A path after
``PWD=`` is the working directory; "bearer" needs a value with a letter and a digit (or 20+
characters), so "the bearer 12345678 of" stays.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from itertools import groupby
from typing import NamedTuple


def _boundary(word: str) -> str:
    """Lookbehind: no ``word`` character right before here, or a JSON escape that reads as a
    control character (``\\n``, ``\\t``, ``\\u0001``, ...)."""
    # the escapes end in a letter or hex digit: one class check before trying them
    escape = r"(?<=[bfnrt0-9a-fA-F])(?:(?<=\\[bfnrt])|(?<=\\u[0-9a-fA-F]{4}))"
    return rf"(?:(?<![{word}])|{escape})"


_B = _boundary(r"\w-")


def _prefix(prefix: str, boundary: str = _B) -> str:
    """Lookbehinds: ``prefix`` (captured as ``S``) ends here, after ``boundary``. The literal
    is checked first, alone: it fails at nearly every anchor, so the boundary rarely runs."""
    return f"(?<={prefix})(?<={boundary}(?P<S>{prefix}))"


# -- values that are not the secret (checked on a match's value, in Python: as a lookahead in
# -- every branch they cost ~5 µs per candidate) ----------------------------------------------

_PLACEHOLDER_VALUE = (
    r"(?:<[^<>]*>?"  # <your-api-key>
    r"|\$\{?\{?[\w. -]*\}?\}?"  # $TOKEN, ${TOKEN}, ${{ secrets.TOKEN }}
    r"|\{\{?[\w. -]*\}?\}?"  # {api_key}, {{ secrets.KEY }}
    r"|%(?:\(\w+\))?s"  # %s, %(password)s
    r"|[\w-]{0,24}(?:\.\.\.|…)|\*{3,}|•{3,}"  # sk-..., ****
    r"|[A-Z][A-Z0-9]*(?:_[A-Z][A-Z0-9]*)+"  # YOUR_API_KEY, DB_PASSWORD: a variable's name
    r"|(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:\(.*|\[(?:[\"'].*|[\w.]*\]?)?)"  # getpass(),
    # os.environ['KEY'], Optional[str]
    r"|(?:[A-Za-z_]\w*\.)*(?:[A-Za-z0-9]+_)*"  # password=password, self.api_key, my_token
    r"(?i:password|passwd|pass|pwd|secret|token|key|apikey|auth|credentials?)"
    r"|(?:[A-Za-z_]\w*\.)*[a-z][A-Za-z0-9]*"  # hashedPassword, process.env.apiKey
    r"(?:Password|Passwd|Pass|Pwd|Secret|Token|Key|ApiKey|Auth|Credentials?)"
    r"|(?i:null|none|nil|true|false|yes|no|on|off|required|optional|undefined|empty|hidden)"
    r"|\[REDACTED\])[)\]}]*"  # and what closes the expression: api_key=api_key)
)
# Words that make a value a placeholder when the value is only words (your-key-here,
# REPLACE_ME, "your password here"); looked for with ``in`` first, a regex only on a hit.
_PLACEHOLDER_WORDS = ("your", "example", "placeholder", "dummy", "changeme", "replace", "insert")


class _Placeholders(NamedTuple):
    value: re.Pattern[str]
    word: re.Pattern[str]
    words_only: re.Pattern[str]
    token_chars: re.Pattern[str]
    one_case: re.Pattern[str]
    token_word: re.Pattern[str]
    digit: re.Pattern[str]


@functools.cache
def _placeholders() -> _Placeholders:
    """Compiled on first use, on the exporter's thread: not on import, which autolog() pays."""
    return _Placeholders(
        value=re.compile(_PLACEHOLDER_VALUE, re.DOTALL),
        word=re.compile(rf"(?<![A-Za-z0-9])(?i:{'|'.join(_PLACEHOLDER_WORDS)})(?![A-Za-z0-9])"),
        words_only=re.compile(r"[A-Za-z0-9]+(?:[_ -][A-Za-z0-9]+)*"),
        token_chars=re.compile(r"[\w-]+"),
        # A token body that is a placeholder: all one case (sk-your-key-here, ghp_XXXX), a run
        # of x, or a separated placeholder word. Generated keys mix cases and digits.
        one_case=re.compile(r"[a-z_-]+|[A-Z_-]+"),
        token_word=re.compile(
            r"[-_](?i:your|here|example|placeholder|dummy|fake|redacted|replace)(?![A-Za-z0-9])"
        ),
        digit=re.compile(r"\d"),
    )


def _placeholder_value(value: str) -> bool:
    patterns = _placeholders()
    # Generated secrets mix upper and lower case with digits, placeholders seldom do: such a
    # value skips the checks below (a placeholder that mixes them is redacted, the safe side).
    if (
        value[:1] not in "<${%*•["
        and not value.islower()
        and not value.isupper()
        and patterns.digit.search(value) is not None
    ):
        return False
    if patterns.value.fullmatch(value) is not None:
        return True
    lowered = value.lower()
    if "xxxxxx" in lowered:  # sk-xxxxxxxx
        return patterns.token_chars.fullmatch(value) is not None
    return (
        any(word in lowered for word in _PLACEHOLDER_WORDS)
        and patterns.words_only.fullmatch(value) is not None
        and patterns.word.search(value) is not None
    )


def _placeholder_token(body: str) -> bool:
    patterns = _placeholders()
    return (
        patterns.one_case.fullmatch(body) is not None
        or "xxxxxxxx" in body.lower()
        or patterns.token_word.search(body) is not None
    )


# -- key: value pairs ---------------------------------------------------------------------------

_SECRET_KEYS = (
    "pwd", "auth", "apikey", "secret", "passwd", "api_key", "api-key", "password",
    "secretkey", "accesskey", "secret_key", "secret-key", "passphrase", "access_key",
    "access-key", "privatekey", "private_key", "private-key", "authorization",
)  # fmt: skip
_NEEDS_LEFT_BOUNDARY = frozenset({"auth"})  # "oauth: enabled" is not a credential
# Between key and ':'/'=' there may be a closing quote (maybe JSON-escaped) and a space; one
# string per lookbehind width. JSON escaped twice (\\\" before the ':') has a rule of its own,
# anchored on that rare sequence: a fourth separator here would cost every ':' in JSON ~15%.
_KEY_SEPARATORS = ("", r"[\"' ]", r"(?:\\[\"']|[\"'] )")
_TWICE_ESCAPED_COLON = '\\\\\\":'  # \\\":
_SCHEME = r"(?i:bearer|basic|token|digest)(?:\s|\\t)+"  # kept visible: "Bearer [REDACTED]"
_OPEN = r"(?:\\\\)?\\?"  # before an opening quote: none, \ or \\\ (JSON in JSON)
# PWD=/home/... and OLDPWD are the working directory, not a password.
_PATH_AFTER_PWD = (
    r"(?!(?:(?<=(?i:pwd)[=:])|(?<=(?i:pwd)[=:] )|(?<=(?i:pwd)\": \")|(?<=(?i:pwd)\":\"))[/~])"
)
# Inside quotes: anything but the quote, a backslash or a line end; \uXXXX and \\ go on, but
# never the backslashes that escape a closing quote. Runs of plain characters, escapes one at
# a time: a per-character alternation makes re step through a branch for every character.
# Safe from backtracking blow-ups only because nothing after a value can fail.
_QUOTED_VALUE = r"(?:[^{q}\\\r\n]+|\\u[0-9a-fA-F]{4}|\\\\(?!\\*{q}))+"
_UNQUOTED_CHAR = r"(?:[^\s,\"'&;\\]|\\u[0-9a-fA-F]{4})"


def _unquoted_value(shortest: int) -> str:
    return rf"(?={_UNQUOTED_CHAR}{{{shortest}}})(?:[^\s,\"'&;\\]+|\\u[0-9a-fA-F]{{4}})+"


def _key_lookbehind(
    keys: Iterable[str], separator: str, between: tuple[str, ...] = _KEY_SEPARATORS
) -> str:
    """Lookbehinds (fixed width, so grouped by key length) for 'key ends right before here'."""
    parts = []
    left = _boundary("a-z")
    for _length, same_length in groupby(sorted(keys, key=len), key=len):
        fragments = [
            f"{left}{re.escape(k)}" if k in _NEEDS_LEFT_BOUNDARY else re.escape(k)
            for k in same_length
        ]
        alternation = "|".join(fragments)
        parts += [f"(?<=(?i:{alternation}){sep}{separator})" for sep in between]
    return f"(?:{'|'.join(parts)})"


def _suffix_guard(
    keys: Iterable[str], separator: str, between: tuple[str, ...] = _KEY_SEPARATORS
) -> str:
    """Lookbehinds for 'the three letters before the separator end one of ``keys``'.

    Implied by :func:`_key_lookbehind` (same separators, same case-insensitivity), so it never
    changes a match; it only makes the common miss cheap. JSON and prose put a ``:`` after
    nearly every key (``"role":``, ``"content":``); one letter-class check per ``:`` rejects
    most of them, the exact three-letter endings most of the rest, each far cheaper than the
    ~40 key lookbehinds that follow.
    """
    keys = tuple(keys)
    if min(map(len, keys)) < 3:
        raise ValueError("secret keys must be at least 3 characters long")
    letters = [re.escape("".join(sorted({key[i] for key in keys}))) for i in (-3, -2, -1)]
    classes = f"(?i:[{letters[0]}][{letters[1]}][{letters[2]}])"  # cheapest: tried first
    endings = f"(?i:{'|'.join(sorted({re.escape(key[-3:]) for key in keys}))})"
    return "".join(
        f"(?:{'|'.join(f'(?<={suffix}{sep}{separator})' for sep in between)})"
        for suffix in (classes, endings)
    )


def _value(quoted: str, unquoted: str, first_group: int) -> str:
    """A value after ``key:``/``key=``, quoted or not; ``{q}`` in ``quoted`` is the quote.
    Its groups are ``S<first_group>`` and the next two."""
    names = [f"S{first_group + offset}" for offset in range(3)]
    values = [
        rf"{_OPEN}{q}(?:{_SCHEME})?{_PATH_AFTER_PWD}(?P<{name}>{quoted.replace('{q}', q)})"
        for name, q in ((names[0], '"'), (names[1], "'"))
    ]
    values.append(rf"(?:{_SCHEME}|(?!{_SCHEME})){_PATH_AFTER_PWD}(?P<{names[2]}>{unquoted})")
    return rf">?(?:[ \t]|\\t)*(?:{'|'.join(values)})"


# A credential has no spaces and is long; logprob "token" values are short words.
_TOKEN_QUOTED = r"(?:[^{q}\\\s]|\\u[0-9a-fA-F]{4}){16,}(?=(?:\\\\)?\\?{q})"


def _key_value(separator: str, shortest: int, between: tuple[str, ...] = _KEY_SEPARATORS) -> str:
    """Branch body for ``key<separator> value``: a secret-ish key and any value of at least
    ``shortest`` characters unquoted (any length quoted), or a ``token`` key and a value of 16+.
    One branch for both, so the suffix guard runs once per ``:`` or ``=``."""
    secret = _key_lookbehind(_SECRET_KEYS, separator, between)
    secret += _value(_QUOTED_VALUE, _unquoted_value(shortest), 1)
    token = _key_lookbehind(("token",), separator, between)
    token += _value(_TOKEN_QUOTED, _unquoted_value(16), 4)
    return _suffix_guard((*_SECRET_KEYS, "token"), separator, between) + f"(?:{secret}|{token})"


# -- other contexts -----------------------------------------------------------------------------

# 8+ characters with a letter and a digit, or 20+: "the bearer 12345678 of" is prose.
_BEARER_VALUE = (
    r"(?:(?=[\w.~+/-]*\d)(?=[\w.~+/-]*[A-Za-z])[\w.~+/-]{8,}|[\w.~+/-]{20,})=*(?![\w.~+/=-])"
)
# --password X, --db-password=X, --api-key X, --token X ("--max-tokens 5" is no credential).
_CLI_WORD = (
    r"(?:\w+-)*(?i:password|passwd|passphrase|secret|api-?key|access-key|secret-key"
    r"|private-key|client-secret)"
    r"|(?:(?i:auth|access|api|bot|refresh|github|gh|hf|npm|slack|hub)-)?(?i:token)"
)
_CLI_VALUE = r"(?:(?P<q>[\"'])(?P<S>[^\"'\\\r\n]+)(?P=q)|(?!-)(?P<S2>[^\s\"'\\]+))"

#: What a rule's ``check`` names: a predicate on the value (the last secret group) that, when
#: true, drops the match.
CHECKS: dict[str, Callable[[str], bool]] = {
    "value": _placeholder_value,
    "token": _placeholder_token,
}

#: ``(kind, anchors, branch body after the anchor, check)``; see the docstring. ``anchors``
#: is a string of one-character anchors, or a tuple of longer ones.
DEFAULT_RULES: tuple[tuple[str, str | tuple[str, ...], str, str], ...] = (
    (
        "a private key",
        "-",
        r"----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?P<S>(?:[^\"\\]|\\[^\"])*?)"
        # up to the END line; a cut-off block to the end of its JSON string or of the text
        r"(?=-----END[A-Z0-9 ]{0,40}PRIVATE KEY|\\*\"|\Z)",
        "",
    ),
    ("an OpenAI or Anthropic API key", "-", rf"{_prefix('sk-')}(?P<S2>[\w-]{{20,}})", "token"),
    (
        "a Slack token",
        "-",
        rf"{_prefix('(?:xox[abeprs]|xapp)-')}(?P<S2>[A-Za-z0-9-]{{10,}})",
        "token",
    ),
    (
        "a GitLab token",
        "-",
        rf"(?<=[ts]-)(?:(?<=gl(?:pat|ptt|oas|cbt|imt)-)(?<={_B}(?P<S>gl[a-z]{{3}}-))"
        rf"|(?<=gl(?:dt|rt|ft)-)(?<={_B}(?P<S2>gl[a-z]{{2}}-)))"
        r"(?P<S3>[\w-]{20,}(?:\.[\w-]+){0,2})",
        "token",
    ),
    (
        "a password on a command line",
        "-",
        rf"-(?=[A-Za-z])(?<={_B}--)(?:{_CLI_WORD})(?:=|[ ]+){_CLI_VALUE}",
        "value",
    ),
    (
        "a Stripe key",
        "_",
        rf"{_prefix('[rs]k_')}(?P<S2>(?:live|test)_[A-Za-z0-9]{{10,}})",
        "token",
    ),
    ("a Stripe webhook secret", "_", rf"{_prefix('whsec_')}(?P<S2>[A-Za-z0-9+/]{{24,}})", "token"),
    ("a GitHub token", "_", rf"{_prefix('gh[pousr]_')}(?P<S2>[A-Za-z0-9]{{30,}})", "token"),
    ("a GitHub token", "_", rf"{_prefix('github_')}(?P<S2>pat_\w{{30,}})", "token"),
    ("a Hugging Face token", "_", rf"{_prefix('hf_')}(?P<S2>[A-Za-z0-9]{{30,}})", "token"),
    ("a Groq API key", "_", rf"{_prefix('gsk_')}(?P<S2>[A-Za-z0-9]{{20,}})", "token"),
    (
        "an npm token",
        "_",
        rf"{_prefix('npm_')}(?P<S2>[A-Za-z0-9]{{36,}})",
        "token",
    ),
    ("a Google API key", "A", rf"{_prefix('A')}(?P<S2>Iza[\w-]{{35,}})", "token"),
    (
        "an AWS access key id",  # base32: ~4% have no digit, so only a run of X is a placeholder
        "A",
        rf"{_prefix('A', _boundary('A-Za-z0-9'))}(?P<S2>(?:KIA|SIA)(?!X{{16}})[A-Z0-9]{{16}})"
        r"(?![A-Za-z0-9])",
        "",
    ),
    ("a SendGrid API key", "G", rf"{_prefix('SG')}\.(?P<S2>[\w-]{{22}}\.[\w-]{{43,}})", ""),
    (
        "a JSON web token",
        "J",
        rf"{_prefix('eyJ')}(?P<S2>[\w-]{{5,}}\.eyJ[\w-]{{5,}}\.[\w-]*)",
        "",
    ),
    (
        "a bearer token",
        "bB",
        # "earer" first: it fails at nearly every "b", so the boundary rarely runs
        rf"(?i:earer)(?<={_boundary('A-Za-z')}(?i:bearer))(?:\s|\\[tnr])+(?P<S>{_BEARER_VALUE})",
        "value",
    ),
    (
        "a password in a URL",  # the last '@' of the authority ends it: passwords hold '@'
        ":",
        r"\\?/\\?/[^\s:/@\"'\\]*:(?P<S>[^\s/?#\"'\\<>]+)@",  # "\/\/": JSON may escape '/'
        "value",
    ),
    (
        "a Slack webhook URL",
        ":",
        r"\\?/\\?/hooks\.slack\.com\\?/(?:services|workflows|triggers)\\?/"
        r"(?P<S>[A-Za-z0-9_-]+(?:\\?/[A-Za-z0-9_-]+)+)",
        "",
    ),
    # After '=' a value of 3 characters is a password; after ':' (YAML, and prose: "Password:
    # the one you chose") it takes 6.
    ("a password or key value", "=", _key_value("=", 3), "value"),
    ("a password or key value", ":", _key_value(":", 6), "value"),
    (
        "a password or key value",
        (_TWICE_ESCAPED_COLON,),
        _key_value(re.escape(_TWICE_ESCAPED_COLON), 6, ("",)),
        "value",
    ),
)

#: Shortest text any rule matches (``pwd:"x``); shorter strings skip the rules.
MIN_SECRET_LEN = 6
