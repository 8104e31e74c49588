"""The redactor's fast paths never let a secret through.

Text is searched one anchor character at a time (an absent anchor costs no regex), placeholder
matches are dropped and searched past, and short strings known to be clean are remembered.
These tests put every kind of secret at the start, middle and end of long text full of near
misses (every anchor character, key names without values, JSON keys before every ``:``), in
mixed case where a rule ignores case, and check that user patterns and callables still see
every string."""

from __future__ import annotations

import json
import random
import re

import pytest
from test_redact import JWT, NEGATIVE, PEM_BODY, POSITIVE

from spyglass.tracer._redact import REDACTED, Redactor, _default_regex, find_secrets

R = REDACTED

# Benign text that holds every anchor (- _ A J b B : = @) and most key names, never as a secret.
_MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "Answer from the context."}]},
    {
        "role": "user",
        "parts": [{"type": "text", "content": "How do I reset my password? The token expired."}],
    },
]
FILLER = "\n".join(
    [
        json.dumps(_MESSAGES),
        json.dumps({"question": "Billing A-Z?", "score": 0.5, "finish_reason": "stop"}),
        "A passage about the bearer of bonds; Jane's secret to bread is patience.",
        "max_tokens=100 total_tokens: 1234 password_hint: pet name, author: Bob",
        "See https://example.com/a?b=c or mail support@example.com - ask-me-anything.",
        "eyJhbGciOiJIUzI1NiJ9 alone, AKIA alone, sk- alone, ghp_short, Bearer, api_key:",
    ]
    * 8
)


# Long text with no anchor character at all: a secret after it is the only candidate.
PLAIN = "the quick fox jumps over the lazy dog, then sleeps. " * 100


def _placed(position: str, text: str, filler: str = FILLER) -> str:
    if position == "start":
        return f"{text}\n{filler}"
    if position == "end":
        return f"{filler}\n{text}"
    return f"{filler}\n{text}\n{filler}"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def test_fillers_are_long_and_benign(redactor: Redactor) -> None:
    assert len(FILLER) > 4_000
    assert all(anchor in FILLER for anchor in "-_AJbB:=@")
    assert len(PLAIN) > 4_000
    assert not any(anchor in PLAIN for anchor in "-_AJbB:=@")
    assert redactor.scrub(FILLER) == FILLER
    assert redactor.scrub(PLAIN) == PLAIN


@pytest.mark.parametrize("position", ["start", "middle", "end"])
@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_secret_in_long_text_is_redacted(
    redactor: Redactor, position: str, text: str, expected: str
) -> None:
    assert redactor.scrub(_placed(position, text)) == _placed(position, expected)
    assert redactor.scrub(_placed(position, text, PLAIN)) == _placed(position, expected, PLAIN)


@pytest.mark.parametrize("position", ["start", "middle", "end"])
def test_private_key_in_long_text_is_redacted(redactor: Redactor, position: str) -> None:
    block = f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n-----END EC PRIVATE KEY-----"
    expected = f"-----BEGIN EC PRIVATE KEY-----{R}-----END EC PRIVATE KEY-----"
    assert redactor.scrub(_placed(position, block)) == _placed(position, expected)


MIXED_CASE = [
    # the scheme and key names are matched case-insensitively
    ("Authorization: BeArEr abc123def456ghi789", f"Authorization: BeArEr {R}"),
    (f"header bEARER {JWT}", f"header bEARER {R}"),
    ("PaSsWoRd=hunter22 next", f"PaSsWoRd={R} next"),
    ('{"Api_Key": "abc"}', f'{{"Api_Key": "{R}"}}'),
    ("X-API-KEY: 0123456789abcdef", f"X-API-KEY: {R}"),
    ("Client_SECRET: abcdef123456", f"Client_SECRET: {R}"),
    ("Access_Token='ya29.a0AfH6SMBx1234567890abcdef'", f"Access_Token='{R}'"),
    ("PRIVATE_KEY: abcdef123456", f"PRIVATE_KEY: {R}"),
    ("AUTH: Basic dXNlcjpwYXNzd29yZA==", f"AUTH: Basic {R}"),
    # re's case-insensitive matching also folds these to s, k and i
    ("\u017fecret: hunter22", f"\u017fecret: {R}"),  # long s
    ("api\u212aey: hunter22", f"api\u212aey: {R}"),  # Kelvin sign
    ("pr\u0131vate_key: hunter22", f"pr\u0131vate_key: {R}"),  # dotless i
]


@pytest.mark.parametrize("position", ["start", "middle", "end"])
@pytest.mark.parametrize(("text", "expected"), MIXED_CASE)
def test_mixed_case_secret_in_long_text_is_redacted(
    redactor: Redactor, position: str, text: str, expected: str
) -> None:
    assert redactor.scrub(text) == expected
    assert redactor.scrub(_placed(position, text)) == _placed(position, expected)
    assert redactor.scrub(_placed(position, text, PLAIN)) == _placed(position, expected, PLAIN)


def test_secret_after_a_megabyte_of_clean_text_is_redacted(redactor: Redactor) -> None:
    clean = FILLER * (1_000_000 // len(FILLER))
    text = f"{clean} sk-AbCdEfGhIjKlMnOpQrStUv012345"
    assert redactor.scrub(text) == f"{clean} {R}"


def _random_texts(count: int) -> list[str]:
    """Secrets, near misses and noise spliced together (seeded, so failures reproduce)."""
    rng = random.Random(20240611)
    pieces = [text for text, _ in POSITIVE + MIXED_CASE] + NEGATIVE + FILLER.split("\n")
    pieces += ["sk-", "xoxb-", "ghp_", "AKIA", "eyJ", "Bearer ", "://", "@", ":", "=", '"', "'"]
    noise = "abcxyzABCXYZ019-_:=@/\"' \\.\n\u017f\u212a\u0130\u0131"
    texts = []
    for _ in range(count):
        parts = [
            rng.choice(pieces)
            if rng.random() < 0.6
            else "".join(rng.choice(noise) for _ in range(rng.randrange(1, 20)))
            for _ in range(rng.randrange(1, 8))
        ]
        texts.append("".join(parts))
    return texts


def test_per_anchor_search_finds_every_match_of_the_whole_rule_set() -> None:
    # The oracle: one alternation of every branch, searched the plain way. Each of its matches
    # (unless its value is a placeholder) lies inside something find_secrets found.
    builtin = _default_regex()
    oracle = re.compile("|".join(regex.pattern for _, regex, _ in builtin.by_anchor))
    branches = {
        tag: branch for _, _, meaning in builtin.by_anchor for tag, branch in meaning.items()
    }
    texts = _random_texts(3_000) + [FILLER] + [text for text, _ in POSITIVE] + NEGATIVE
    matched = 0
    for text in texts:
        found = find_secrets(text)
        for match in oracle.finditer(text):
            tag = match.lastgroup or ""
            names = [name for name in oracle.groupindex if re.fullmatch(rf"{tag[2:]}S\d*", name)]
            spans = [match.span(name) for name in names if match.span(name)[0] >= 0]
            start, end = spans[0][0], spans[-1][1]
            check = branches[tag].check
            if check is not None and check(text[spans[-1][0] : end]):
                continue
            matched += 1
            assert any(s.start <= start and end <= s.end for s in found), (text, match)
    assert matched > 1_000  # the random texts do hold secrets


def test_extra_patterns_run_on_text_the_builtin_rules_skip() -> None:
    redactor = Redactor([r"cust-\d+", re.compile("PLAIN", re.IGNORECASE)])
    assert redactor.scrub("cust-123456") == R
    assert redactor.scrub(f"{FILLER} cust-42 plain") == f"{FILLER} {R} {R}"
    only_extra = Redactor([r"cust-\d+"], include_defaults=False)
    assert only_extra.scrub("id cust-7 sk-AbCdEfGhIjKlMnOpQrStUv012345") == (
        f"id {R} sk-AbCdEfGhIjKlMnOpQrStUv012345"
    )


def test_extra_callable_sees_every_string_every_time() -> None:
    seen: list[str] = []

    def upper(text: str) -> str:
        seen.append(text)
        return text.upper()

    redactor = Redactor(extra=upper)
    for _ in range(3):  # the second and third calls hit the memo of clean short strings
        assert redactor.scrub("chat-model") == "CHAT-MODEL"
        assert redactor.scrub("ok") == "OK"
        assert redactor.scrub(FILLER) == FILLER.upper()
    assert seen == ["chat-model", "ok", FILLER] * 3


def test_short_string_with_a_secret_is_redacted_every_time(redactor: Redactor) -> None:
    for _ in range(3):
        assert redactor.scrub("ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789") == R
        assert redactor.scrub("gpt-4o-mini") == "gpt-4o-mini"
        assert redactor.scrub("api_key=hunter22") == f"api_key={R}"


def test_memo_of_clean_strings_is_bounded() -> None:
    redactor = Redactor()
    for i in range(10_000):
        assert redactor.scrub(f"span name {i}") == f"span name {i}"
    assert redactor.scrub("span token=ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789") == (
        f"span token={R}"
    )
    assert len(redactor._clean) <= 4_096


def test_str_subclass_comes_back_as_itself(redactor: Redactor) -> None:
    class Tagged(str):
        pass

    text = Tagged("plain words")
    assert redactor.scrub(text) is text
    assert redactor.scrub(text) is text


def test_names_are_remembered_only_when_clean_and_without_a_callable() -> None:
    seen: list[str] = []

    def tag(text: str) -> str:
        seen.append(text)
        return text

    with_callable = Redactor([r"cust-\d+"], extra=tag)
    for _ in range(3):
        assert with_callable.scrub_name("gen_ai.request.model") == "gen_ai.request.model"
        assert with_callable.scrub_name("order.cust-42") == f"order.{R}"
    assert seen == ["gen_ai.request.model", f"order.{R}"] * 3  # the callable sees every name
    assert not with_callable.known_clean_names(["gen_ai.request.model"])

    plain = Redactor([r"cust-\d+"])
    for _ in range(3):
        assert plain.scrub_name("gen_ai.request.model") == "gen_ai.request.model"
        assert plain.scrub_name("order.cust-42") == f"order.{R}"
        assert plain.scrub_name("auth.ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789") == f"auth.{R}"
    assert plain.known_clean_names(["gen_ai.request.model"])
    assert not plain.known_clean_names(["gen_ai.request.model", "order.cust-42"])


def test_long_clean_string_is_remembered_and_a_secret_never_is() -> None:
    # A long value that recurs (a chain hands it from step to step) skips the rules the
    # second time; the same text with a secret in it is redacted every time.
    redactor = Redactor()
    secret = FILLER + "\nghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\n" + FILLER
    for _ in range(3):
        assert redactor.scrub(FILLER) == FILLER
        assert redactor.scrub(secret) == FILLER + f"\n{R}\n" + FILLER
    assert FILLER in redactor._clean_long
    assert secret not in redactor._clean_long


def test_long_memo_still_runs_user_patterns_and_callables() -> None:
    seen: list[str] = []

    def tag(text: str) -> str:
        seen.append(text)
        return text

    redactor = Redactor([r"cust-\d+"], extra=tag)
    text = FILLER + "\norder cust-42"
    for _ in range(3):
        assert redactor.scrub(text) == FILLER + f"\norder {R}"
    assert len(seen) == 3


def test_long_memo_is_bounded_by_characters() -> None:
    redactor = Redactor()
    for i in range(400):
        text = f"{i} " + FILLER  # ~10 KB each: 4 MB in all, past the bound
        assert redactor.scrub(text) == text
    assert 0 < redactor._clean_long.weight <= 1 << 21
    assert sum(map(len, redactor._clean_long)) == redactor._clean_long.weight
