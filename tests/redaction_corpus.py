"""A generated corpus of secrets (and, in ``redaction_lookalikes.py``, of look-alikes), to
measure the redactor's recall and false positives (``tests/test_redact_corpus.py`` asserts on
it; ``benchmarks/redaction.py`` prints it).

Positive cases: for each provider format, realistic random tokens (the format's prefix, alphabet
and length), each placed in the contexts a traced program produces: bare, in prose, in JSON
(content attributes are JSON strings), right after each JSON escape (``\\n``, ``\\t``, ``\\r``,
``\\"``, ``\\\\``, ``\\u0001``), in JSON whose ``/`` are escaped, in JSON escaped twice (a tool
call's arguments inside a message) and three times, in URLs, command lines, environment lines,
Python reprs and log lines. A case is *caught* when no 8-character piece of its secret (the
random part; the whole value for passwords) survives.

Negative cases, look-alikes that must come through unchanged, are in
``redaction_lookalikes.py``.

Everything is seeded: the same corpus every run, so a failure names a case that reproduces.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
BASE32 = string.ascii_uppercase + "234567"
#: Characters people put in passwords that end no value (no quote, space, ``,;&\\``).
PASSWORD_CHARS = ALNUM + "!#%*+-_.~^@:/()[]?$"


@dataclass(frozen=True)
class Case:
    """One text to scrub. ``secret`` is what must not survive (empty for a negative case)."""

    format: str
    context: str
    text: str
    secret: str = ""


def pick(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def mixed(rng: random.Random, alphabet: str, length: int) -> str:
    """Random text of ``alphabet`` holding a digit, a lower- and an upper-case letter, as
    generated keys of that length nearly always do."""
    while True:
        text = pick(rng, alphabet, length)
        wanted = [set(string.digits), set(string.ascii_lowercase), set(string.ascii_uppercase)]
        if all(group & set(text) for group in wanted if group & set(alphabet)):
            return text


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# -- token formats: (whole token, the secret part of it) -------------------------------------


def _openai(rng: random.Random) -> tuple[str, str]:
    prefix, length = rng.choice([("sk-proj-", 156), ("sk-", 48), ("sk-svcacct-", 60)])
    body = mixed(rng, URLSAFE if prefix != "sk-" else ALNUM, length)
    return prefix + body, body


def _anthropic(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, URLSAFE, 93) + "AA"
    return "sk-ant-api03-" + body, body


def _github(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.3:
        body = mixed(rng, ALNUM, 22) + "_" + mixed(rng, ALNUM, 59)
        return "github_pat_" + body, body
    body = mixed(rng, ALNUM, 36)
    return f"gh{rng.choice('pousr')}_" + body, body


def _gitlab(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, URLSAFE, 20)
    return "glpat-" + body, body


def _aws(rng: random.Random) -> tuple[str, str]:
    body = pick(rng, BASE32, 16)
    return rng.choice(["AKIA", "ASIA"]) + body, body


def _google(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, URLSAFE, 35)
    return "AIza" + body, body


def _jwt(rng: random.Random) -> tuple[str, str]:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": str(rng.randrange(10**9)), "exp": rng.randrange(1_700_000_000, 1_900_000_000)}
    payload = _b64url(json.dumps(claims).encode())
    signature = _b64url(bytes(rng.randrange(256) for _ in range(32)))
    token = f"{header}.{payload}.{signature}"
    return token, token[20:]


def _slack(rng: random.Random) -> tuple[str, str]:
    body = f"{pick(rng, string.digits, 12)}-{pick(rng, string.digits, 13)}-{mixed(rng, ALNUM, 24)}"
    return f"xox{rng.choice('bpa')}-" + body, body


def _slack_webhook(rng: random.Random) -> tuple[str, str]:
    secret = mixed(rng, ALNUM, 24)
    team, bot = pick(rng, BASE32, 9), pick(rng, BASE32, 11)
    return f"https://hooks.slack.com/services/T{team}/B{bot}/{secret}", secret


def _stripe(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, ALNUM, rng.choice([24, 99]))
    return rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + body, body


def _stripe_webhook(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, ALNUM, 32)
    return "whsec_" + body, body


def _huggingface(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, string.ascii_letters, 34)
    return "hf_" + body, body


def _groq(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, ALNUM, 52)
    return "gsk_" + body, body


def _sendgrid(rng: random.Random) -> tuple[str, str]:
    body = f"{mixed(rng, URLSAFE, 22)}.{mixed(rng, URLSAFE, 43)}"
    return "SG." + body, body


def _npm(rng: random.Random) -> tuple[str, str]:
    body = mixed(rng, ALNUM, 36)
    return "npm_" + body, body


TOKEN_FORMATS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "github": _github,
    "gitlab": _gitlab,
    "aws_access_key_id": _aws,
    "google": _google,
    "jwt": _jwt,
    "slack": _slack,
    "slack_webhook": _slack_webhook,
    "stripe": _stripe,
    "stripe_webhook": _stripe_webhook,
    "huggingface": _huggingface,
    "groq": _groq,
    "sendgrid": _sendgrid,
    "npm": _npm,
}

#: JSON escapes a secret can follow once text is a JSON string, with the character behind each.
ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r", '\\"': '"', "\\\\": "\\", "\\u0001": "\x01"}


def dumps(value: object, levels: int, ascii_only: bool = False) -> str:
    text = json.dumps(value, ensure_ascii=ascii_only)
    for _ in range(levels - 1):
        text = json.dumps(text, ensure_ascii=ascii_only)
    return text


def message(content: str) -> list[dict[str, object]]:
    """A chat message in the GenAI conventions' shape, as spans store them."""
    return [{"role": "user", "parts": [{"type": "text", "content": content}]}]


def _token_contexts(token: str) -> Iterator[tuple[str, str]]:
    """``(context, text)`` for a token, as the traced program would hand it over."""
    yield "bare", token
    yield "prose", f"Here is my key: {token}. Please keep it safe."
    yield "json", dumps(message(f"use {token} for the call"), 1)
    for escape, char in ESCAPES.items():
        yield f"json after {escape}", dumps(message(f"Can you check this?{char}{token}"), 1)
    yield "json ascii-escaped", dumps(message(f"clé:\n{token} — merci"), 1, ascii_only=True)
    yield "json twice", dumps({"arguments": dumps({"text": f"key:\n{token}"}, 1)}, 1)
    yield "json three times", dumps(message(f"see\n{token}"), 3)
    url = f"https://api.example.com/v1/run?id=42&auth_key={token}&q=1"
    yield "url", url
    yield "json, '/' escaped", dumps({"url": url}, 1).replace("/", "\\/")
    yield "cli", f"deploy --verbose --api-key {token} --region eu"
    yield "env", f'export SERVICE_KEY="{token}"'
    yield "python repr", repr({"headers": {"X-Key": token}})
    yield "log line", f"2025-01-02T03:04:05Z WARN retrying with {token} (attempt 2)"


def _pem(rng: random.Random, kind: str) -> tuple[str, str]:
    body = base64.b64encode(bytes(rng.randrange(256) for _ in range(240))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    label = f"{kind} PRIVATE KEY" if kind != "PGP" else "PGP PRIVATE KEY BLOCK"
    extra = "\nVersion: GnuPG v2\n" if kind == "PGP" else "\n"
    return f"-----BEGIN {label}-----{extra}{lines}\n-----END {label}-----", body


def _private_key_cases(rng: random.Random) -> Iterator[Case]:
    for kind in ("RSA", "EC", "OPENSSH", "ENCRYPTED", "PGP"):
        block, body = _pem(rng, kind)
        yield Case("private_key", f"{kind} bare", f"key file:\n{block}\n", body)
        yield Case("private_key", f"{kind} json", dumps({"file": block}, 1), body)
        yield Case("private_key", f"{kind} json twice", dumps({"file": block}, 2), body)
        cut = block[: len(block) // 2]  # a block cut off by truncation still goes to the end
        yield Case("private_key", f"{kind} cut", cut, body[:80])
        yield Case("private_key", f"{kind} cut in json", dumps({"file": cut}, 1), body[:80])


def _password(rng: random.Random, length: int, alphabet: str = PASSWORD_CHARS) -> str:
    """A password: letters, a digit and a symbol, never starting like a path or a variable."""
    while True:
        text = pick(rng, alphabet, length)
        if (
            text[0] in ALNUM
            and any(c.isdigit() for c in text)
            and any(c.isalpha() for c in text)
            and (length < 6 or any(c not in ALNUM for c in text))
        ):
            return text


def _key_value_cases(rng: random.Random) -> Iterator[Case]:
    def case(context: str, text: str, secret: str) -> Case:
        return Case("key=value", context, text, secret)

    for length in (3, 4, 5, 8, 12, 20):  # short ones too: "password=abc1" is a password
        pw = _password(rng, length)
        yield case(f"env {length}", f"DB_PASSWORD={pw}", pw)
        yield case(f"env export {length}", f"export PGPASSWORD='{pw}'", pw)
        yield case(f"query {length}", f"https://example.com/login?user=bob&password={pw}&x=1", pw)
        yield case(f"json {length}", dumps({"user": "bob", "password": pw}, 1), pw)
        yield case(f"json twice {length}", dumps({"body": dumps({"password": pw}, 1)}, 1), pw)
        yield case(f"json after \\n {length}", dumps(message(f"ok?\npassword={pw}"), 1), pw)
        yield case(f"kwarg {length}", f'connect(host="db", password="{pw}")', pw)
        yield case(f"cli --password= {length}", f"mysql --user=root --password={pw} app", pw)
        yield case(f"cli --password {length}", f"psql --password {pw} --host db", pw)
        yield case(f"cli --token {length}", f"tool login --token {pw}", pw)
    for length in (8, 16, 40):
        pw = _password(rng, length)
        yield case(f"yaml {length}", f"database:\n  password: {pw}\n  port: 5432", pw)
        yield case(f"header {length}", f"x-api-key: {pw}", pw)
        yield case(f"client_secret {length}", f"client_secret={pw}", pw)
        yield case(f"ini {length}", f"[db]\nsecret_key = {pw}\n", pw)
    aws_secret = pick(rng, ALNUM + "+/", 40)
    yield case("aws secret", f"aws_secret_access_key = {aws_secret}", aws_secret)
    yield case("aws secret json", dumps({"AWS_SECRET_ACCESS_KEY": aws_secret}, 1), aws_secret)


def _url_password_cases(rng: random.Random) -> Iterator[Case]:
    for length in (6, 10, 16):
        for at in (False, True):
            pw = _password(rng, length, ALNUM + "!*-_.~")
            if at:  # unencoded "@": whatever is before the last one is the password
                pw = pw[: length // 2] + "@" + pw[length // 2 :]
            url = f"postgres://admin:{pw}@db.internal:5432/app"
            tag = f"{length}{' with @' if at else ''}"
            yield Case("url_password", f"bare {tag}", url, pw)
            yield Case("url_password", f"prose {tag}", f"Connect to {url} then migrate.", pw)
            yield Case("url_password", f"json {tag}", dumps({"dsn": url, "pool": 5}, 1), pw)
            yield Case("url_password", f"env {tag}", f"DATABASE_URL={url}", pw)
            escaped = dumps({"dsn": url}, 1).replace("/", "\\/")
            yield Case("url_password", f"json, '/' escaped {tag}", escaped, pw)
            yield Case(
                "url_password", f"json after \\n {tag}", dumps(message(f"dsn:\n{url}"), 1), pw
            )


def _auth_header_cases(rng: random.Random) -> Iterator[Case]:
    for _ in range(3):
        bearer = mixed(rng, URLSAFE + ".~", 40)
        basic = base64.b64encode(f"bob:{_password(rng, 12)}".encode()).decode()
        for scheme, value in (("Bearer", bearer), ("Basic", basic)):
            header = f"Authorization: {scheme} {value}"
            yield Case("auth_header", f"{scheme} bare", header, value)
            yield Case("auth_header", f"{scheme} curl", f"curl -H '{header}' https://x.io", value)
            yield Case(
                "auth_header",
                f"{scheme} json",
                dumps({"headers": {"Authorization": f"{scheme} {value}"}}, 1),
                value,
            )
            yield Case(
                "auth_header",
                f"{scheme} json after \\n",
                dumps(message(f"sent:\n{header}"), 1),
                value,
            )


def positive_cases(seed: int = 20250112) -> list[Case]:
    """Every secret case; two tokens per (format, context)."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for name, make in TOKEN_FORMATS.items():
        for _ in range(2):
            token, secret = make(rng)
            for context, text in _token_contexts(token):
                cases.append(Case(name, context, text, secret))
    cases += _private_key_cases(rng)
    cases += _key_value_cases(rng)
    cases += _url_password_cases(rng)
    cases += _auth_header_cases(rng)
    return cases


def leaked(secret: str, scrubbed: str, window: int = 8) -> bool:
    """Whether any ``window``-character piece of ``secret`` (all of it, if shorter) survives.

    The secret is looked for as written and as each JSON level would escape it."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(json.dumps(secret))[3:-3]}
    for form in forms:
        size = min(window, len(form))
        if any(form[i : i + size] in scrubbed for i in range(len(form) - size + 1)):
            return True
    return False


def _decoded(text: str) -> tuple[bool, object]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def json_kept(original: str, scrubbed: str) -> bool:
    """Whether everything in ``original`` that was JSON (itself, and each string inside it, at
    any depth) still decodes after scrubbing, with the same keys and list lengths."""
    was_json, before = _decoded(original)
    if not was_json:
        return True
    is_json, after = _decoded(scrubbed)
    return is_json and _same_shape(before, after)


def _same_shape(before: object, after: object) -> bool:
    if isinstance(before, str):
        return isinstance(after, str) and json_kept(before, after)
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and list(before) == list(after)
            and all(_same_shape(before[key], after[key]) for key in before)
        )
    if isinstance(before, list):
        return (
            isinstance(after, list)
            and len(before) == len(after)
            and all(_same_shape(b, a) for b, a in zip(before, after, strict=True))
        )
    return before == after
