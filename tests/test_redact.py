"""Redactor: each built-in rule with positive and negative cases, extras, make_redactor."""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

import pytest

from spyglass.tracer._redact import REDACTED, Redactor, make_redactor

R = REDACTED
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MqUXf\nQpH4rL1r2sT6fW9g=="


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


POSITIVE = [
    # vendor tokens are replaced whole
    ("key sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789 end", f"key {R} end"),
    ("sk-svcacct-AbCdEfGhIjKlMnOpQrStUv012345", R),
    ("OPENAI=sk-AbCdEfGhIjKlMnOpQrStUv012345;", f"OPENAI={R};"),
    ("sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx-yz0123_4567", R),
    ("google AIzaSyD-1234567890abcdefghijklmnopqrstu", f"google {R}"),
    ("ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", R),
    ("gho_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", R),
    ("ghu_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", R),
    ("ghs_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", R),
    ("ghr_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", R),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", R),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIj", f"slack {R}"),
    ("xoxp-1234567890-abcdefghij", R),
    ("hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", R),
    ("sk_live_51AbCdEfGhIjKlMn0123", R),
    ("rk_live_51AbCdEfGhIjKlMn0123", R),
    ("gsk_AbCdEfGhIjKlMnOpQrStUvWxYz0123", R),
    ("id=AKIAIOSFODNN7EXAMPLE,", f"id={R},"),
    ("ASIAY34FZKBOKMUTVV7A", R),
    (f"cookie {JWT} x", f"cookie {R} x"),
    # context is kept, the secret is replaced
    ("Authorization: Bearer abc123def456ghi789", f"Authorization: Bearer {R}"),
    ("authorization: Basic dXNlcjpwYXNzd29yZA==", f"authorization: Basic {R}"),
    ("{'Authorization': 'Bearer tok_123456789abc'}", f"{{'Authorization': 'Bearer {R}'}}"),
    ("curl -H 'bearer 9f8e7d6c5b4a39281706'", f"curl -H 'bearer {R}'"),
    (f"BEARER {JWT}", f"BEARER {R}"),
    (
        "postgres://admin:hunter2@db.example.com:5432/app",
        f"postgres://admin:{R}@db.example.com:5432/app",
    ),
    ("redis://:s3cret@localhost:6379/0", f"redis://:{R}@localhost:6379/0"),
    ('{"api_key": "abc"}', f'{{"api_key": "{R}"}}'),
    ('{"password": "correct horse battery staple"}', f'{{"password": "{R}"}}'),
    ("PASSWORD=hunter22 next", f"PASSWORD={R} next"),
    ("DB_PASSWORD = 'hunter2'", f"DB_PASSWORD = '{R}'"),
    ("x-api-key: 0123456789abcdef", f"x-api-key: {R}"),
    ("client_secret: abcdef123456", f"client_secret: {R}"),
    (
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"aws_secret_access_key={R}",
    ),
    (
        "https://api.example.com/v1?apiKey=abcdef123&q=1",
        f"https://api.example.com/v1?apiKey={R}&q=1",
    ),
    ('{\\"passwd\\": \\"hunter22\\"}', f'{{\\"passwd\\": \\"{R}\\"}}'),
    ("settings(secret => 'p@ss')", f"settings(secret => '{R}')"),
    ('{"access_token": "ya29.a0AfH6SMBx1234567890abcdef"}', f'{{"access_token": "{R}"}}'),
    ("AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEJr//////////wEaCXVz", f"AWS_SESSION_TOKEN={R}"),
    # right after a JSON escape: stored text reads "?\nsk-..." (an "n" before "sk-")
    (
        '{"content": "Can you check this?\\nsk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789"}',
        f'{{"content": "Can you check this?\\n{R}"}}',
    ),
    ('["tab\\tghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"]', f'["tab\\t{R}"]'),
    ('["cr\\rAKIAIOSFODNN7EXAMPLE"]', f'["cr\\r{R}"]'),
    ('["x\\u0001AIzaSyD-1234567890abcdefghijklmnopqrstu"]', f'["x\\u0001{R}"]'),
    ('["sent:\\nBearer abc123def456ghi789"]', f'["sent:\\nBearer {R}"]'),
    ('["line\\nauth: s3cr3t-value"]', f'["line\\nauth: {R}"]'),
    # JSON escaped twice, and escapes inside a value
    (r"{\\\"password\\\": \\\"hunter22\\\"}", r"{\\\"password\\\": \\\"" + R + r"\\\"}"),
    ('{"password": "p\\u00e9ss\\\\word1"}', f'{{"password": "{R}"}}'),
    # formats
    ("glpat-Ab3dEfGhIjKlMnOp_q-r", R),
    ("SG.Ab3dEfGhIjKlMnOpQrStUv.Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE", R),
    (
        "//registry.npmjs.org/:_authToken=npm_Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789",
        f"//registry.npmjs.org/:_authToken={R}",
    ),
    (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGX\n-----END PGP PRIVATE KEY BLOCK-----",
        f"-----BEGIN PGP PRIVATE KEY BLOCK-----{R}-----END PGP PRIVATE KEY BLOCK-----",
    ),
    ("whsec_Ab3dEfGhIjKlMnOpQrStUvWxYz012345", R),
    (
        "https://hooks.slack.com/services/T0ABC1234/B0ABC1234567/Ab3dEfGhIjKlMnOpQrStUvWx",
        f"https://hooks.slack.com/services/{R}",
    ),
    ("postgres://admin:p@ss:w0rd!@db.example.com/app", f"postgres://admin:{R}@db.example.com/app"),
    ("psql --host db --password 'hunter 22' -q", f"psql --host db --password '{R}' -q"),
    ("deploy --api-key Zx81kq --db-password=abc", f"deploy --api-key {R} --db-password={R}"),
    ("DB_PASSWORD=ab1 next", f"DB_PASSWORD={R} next"),
    ("x-api-key=7d1e9f2a", f"x-api-key={R}"),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_secret_is_redacted(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.scrub(text) == expected


@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_scrubbing_is_idempotent(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.scrub(redactor.scrub(text)) == expected


NEGATIVE = [
    # ids that look random but are not secrets
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "run 123e4567-e89b-12d3-a456-426614174000",
    "commit da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    # usage metrics and vocabulary keyed by "token"
    '{"max_tokens": 100, "temperature": 0.2}',
    '{"input_tokens": 123456, "output_tokens": 1234567, "total_tokens": 12345678}',
    '{"tokens": 5, "token_count": 1234567, "tokenizer": "cl100k_base_tokenizer"}',
    '{"token": " the", "logprob": -0.01, "bytes": [32, 116]}',
    '{"promptTokenCount": 123456, "candidatesTokenCount": 654321}',
    # ordinary prose
    "Please reset your password here, then use the token from your email.",
    "The secret to good bread is patience; the password is love.",
    "the bearer of this letter holds bearer bonds and bearer instruments",
    "Our task-management-framework-overview-document is ready.",
    "ASIA is a continent; AKIA is not a word.",
    "ghp_short sk-short hf_short gsk_short xoxb-short",
    # keys that merely contain a secret-ish word, or values too short to be secrets
    '"author": "Jane Smithson", "OAuth: enabled"',
    "password_hint: your first pet's name",
    '{"password": null, "auth": true, "secret": ""}',
    "auth_timeout: 300000",
    # URLs without credentials
    "https://example.com:8080/path?a=b@c and mailto:someone@example.com",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "eyJhbGciOiJIUzI1NiJ9 is only a header",
    # placeholders and code that only names a secret
    "api_key=YOUR_API_KEY",
    '{"api_key": "<your-api-key>", "token": "${GITHUB_TOKEN}", "password": "********"}',
    "export OPENAI_API_KEY=sk-... or sk-your-openai-api-key-here",
    "client = OpenAI(api_key=api_key); key = os.environ['OPENAI_API_KEY']",
    "password = getpass.getpass(); conn = connect(password=password)",
    "postgres://user:password@localhost/db and --password PASSWORD",
    "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX AKIAXXXXXXXXXXXXXXXX",
    # the working directory, prose, flags that are not credentials
    "PWD=/home/alice/app OLDPWD=/home/alice",
    "The bearer 12345678 of this note is entitled to a refund.",
    "auth: required; password: optional",
    "run --max-tokens 256 --token-limit 900 --password-file /run/secrets/db",
    "npm_config_cache and the SG. prefix and glpat- in the docs",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_non_secret_is_left_alone(redactor: Redactor, text: str) -> None:
    assert redactor.scrub(text) == text


def test_private_key_block_body_is_redacted_and_markers_kept(redactor: Redactor) -> None:
    text = f"key:\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\nok"
    assert redactor.scrub(text) == (
        f"key:\n-----BEGIN RSA PRIVATE KEY-----{R}-----END RSA PRIVATE KEY-----\nok"
    )


def test_truncated_private_key_block_is_redacted_to_the_end(redactor: Redactor) -> None:
    text = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}"
    assert redactor.scrub(text) == f"-----BEGIN OPENSSH PRIVATE KEY-----{R}"


def test_two_secrets_in_one_text(redactor: Redactor) -> None:
    text = (
        "Calling with sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx and "
        "Authorization: Bearer ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 for user 42"
    )
    assert redactor.scrub(text) == f"Calling with {R} and Authorization: Bearer {R} for user 42"


def test_secrets_next_to_each_other_do_not_leak_pieces(redactor: Redactor) -> None:
    text = "sk-AbCdEfGhIjKlMnOpQrStUv012345 ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    assert redactor.scrub(text) == f"{R} {R}"


def test_short_and_empty_strings(redactor: Redactor) -> None:
    assert redactor.scrub("") == ""
    assert redactor.scrub("ok") == "ok"


def test_include_defaults_false_disables_builtin_rules() -> None:
    text = "sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789 cust-123456"
    assert Redactor(include_defaults=False).scrub(text) == text
    only_extra = Redactor([r"cust-\d+"], include_defaults=False)
    assert only_extra.scrub(text) == f"sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789 {R}"


# --- extra patterns and callables ------------------------------------------------------


def test_extra_pattern_is_redacted_whole_alongside_defaults() -> None:
    redactor = Redactor([r"cust-\d{6}", re.compile(r"acct_[0-9]+")])
    text = "cust-123456 acct_99 key=sk-AbCdEfGhIjKlMnOpQrStUv012345 cust-12"
    assert redactor.scrub(text) == f"{R} {R} key={R} cust-12"


def test_extra_pattern_flags_are_respected() -> None:
    assert Redactor([re.compile("internal-\\w+", re.IGNORECASE)]).scrub("INTERNAL-X") == R
    assert Redactor(["(?i)project-[a-z]+", "zzz"]).scrub("PROJECT-Apollo zzz") == f"{R} {R}"


def test_extra_patterns_with_clashing_groups_or_backrefs_still_work() -> None:
    redactor = Redactor([r"(?P<n>id)-\d+", r"(?P<n>ref)#\d+", r"(['\"])hidden\1"])
    assert redactor.scrub("id-7 ref#8 'hidden' \"hidden'") == f"{R} {R} {R} \"hidden'"


def test_extra_pattern_matching_empty_string_adds_no_markers() -> None:
    assert Redactor([r"x*"]).scrub("abc xx") == f"abc {R}"


def test_extra_callable_runs_after_default_scrubbing() -> None:
    seen: list[str] = []

    def upper(text: str) -> str:
        seen.append(text)
        return text.replace("alice", "[USER]")

    redactor = Redactor(extra=upper)
    assert redactor.scrub("alice used sk-AbCdEfGhIjKlMnOpQrStUv012345") == f"[USER] used {R}"
    assert seen == [f"alice used {R}"]


def test_failing_callable_warns_once_and_keeps_default_scrub(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(text: str) -> str:
        raise KeyError(text)  # the message would contain the text itself

    redactor = Redactor(extra=broken)
    secret = "token sk-AbCdEfGhIjKlMnOpQrStUv012345"
    with caplog.at_level(logging.WARNING, logger="spyglass"):
        assert redactor.scrub(secret) == f"token {R}"
        assert redactor.scrub("password=hunter22") == f"password={R}"
    warnings = [r for r in caplog.records if r.name == "spyglass"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "KeyError" in warnings[0].getMessage()
    assert "sk-AbCd" not in caplog.text


def test_callable_returning_non_str_is_treated_as_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redactor = Redactor(extra=lambda text: None)
    with caplog.at_level(logging.WARNING, logger="spyglass"):
        assert redactor.scrub("Bearer abc123def456ghi789") == f"Bearer {R}"
    assert "TypeError" in caplog.text


def test_invalid_regex_names_pattern_and_error() -> None:
    with pytest.raises(ValueError, match=r"invalid redaction pattern '\(unclosed'.*missing \)"):
        Redactor(["(unclosed"])


def test_bytes_pattern_is_rejected() -> None:
    with pytest.raises(ValueError, match="bytes"):
        Redactor([re.compile(b"x")])


# --- scrub_value -----------------------------------------------------------------------


class Pair(NamedTuple):
    label: str
    secret: str


def test_scrub_value_walks_nested_lists_tuples_and_dict_values(redactor: Redactor) -> None:
    key = "sk-AbCdEfGhIjKlMnOpQrStUv012345"
    value = {"a": [key, ("x", key)], "b": {"c": key, "n": 3}, key: "dict keys are kept"}
    assert redactor.scrub_value(value) == {
        "a": [R, ("x", R)],
        "b": {"c": R, "n": 3},
        key: "dict keys are kept",
    }


def test_scrub_value_preserves_tuple_types(redactor: Redactor) -> None:
    out = redactor.scrub_value(("Bearer abc123def456ghi789", 1))
    assert out == (f"Bearer {R}", 1)
    assert type(out) is tuple
    pair = redactor.scrub_value(Pair("k", "password=hunter22"))
    assert pair == Pair("k", f"password={R}")
    assert type(pair) is Pair


def test_scrub_value_leaves_other_types_alone(redactor: Redactor) -> None:
    marker = {"sk-AbCdEfGhIjKlMnOpQrStUv012345"}
    for value in (3, 2.5, None, True, b"sk-AbCdEfGhIjKlMnOpQrStUv012345", marker):
        assert redactor.scrub_value(value) is value


def test_scrub_value_survives_cycles(redactor: Redactor) -> None:
    items: list[object] = ["password=hunter22"]
    items.append(items)
    assert redactor.scrub_value(items) == [f"password={R}", R]


# --- make_redactor ---------------------------------------------------------------------


def test_make_redactor_true_false_none() -> None:
    on = make_redactor(True)
    assert isinstance(on, Redactor) and on.include_defaults and not on.extra_patterns
    assert make_redactor(False) is None
    assert make_redactor(None) is None


def test_make_redactor_passes_a_redactor_through() -> None:
    existing = Redactor(["abc"])
    assert make_redactor(existing) is existing


@pytest.mark.parametrize(
    "redact",
    [
        r"cust-\d+",
        re.compile(r"cust-\d+"),
        [r"cust-\d+"],
        (re.compile(r"cust-\d+"), "zzz"),
        {r"cust-\d+"},
        (p for p in [r"cust-\d+"]),
    ],
    ids=["str", "pattern", "list", "tuple", "set", "generator"],
)
def test_make_redactor_patterns(redact: object) -> None:
    redactor = make_redactor(redact)
    assert isinstance(redactor, Redactor)
    assert redactor.scrub("id cust-42 key sk-AbCdEfGhIjKlMnOpQrStUv012345") == f"id {R} key {R}"


def test_make_redactor_empty_list_means_defaults_only() -> None:
    redactor = make_redactor([])
    assert isinstance(redactor, Redactor) and redactor.extra_patterns == ()


def test_make_redactor_callable() -> None:
    redactor = make_redactor(lambda text: text.replace("bob", "[USER]"))
    assert isinstance(redactor, Redactor)
    assert redactor.scrub("bob Bearer abc123def456ghi789") == f"[USER] Bearer {R}"


USAGE = "redact= must be True, False, a pattern, a list of patterns, a callable or a Redactor"


@pytest.mark.parametrize(
    ("redact", "got"),
    [
        (0, "int"),
        (1, "int"),
        (2.5, "float"),
        (b"sk-", "bytes"),
        ({"a": "b"}, "dict"),
        ([r"ok", 3], "list containing int"),
        ((None,), "tuple containing NoneType"),
    ],
)
def test_make_redactor_rejects_bad_types(redact: object, got: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        make_redactor(redact)
    assert str(excinfo.value) == f"{USAGE}; got {got}"


def test_make_redactor_rejects_invalid_regex() -> None:
    with pytest.raises(ValueError, match=r"invalid redaction pattern '\[a-'"):
        make_redactor("[a-")
    with pytest.raises(ValueError, match=r"'\*bad'"):
        make_redactor(["fine", "*bad"])
