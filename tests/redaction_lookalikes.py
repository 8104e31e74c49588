"""Look-alikes of secrets, for the redaction corpus (``redaction_corpus.py``): text a traced
program stores that resembles a secret and is not one. Scrubbing must leave each unchanged.

Hex ids, UUIDs, SHAs, base64 image data, placeholder keys from documentation, prose that names
secrets, code that passes them around, paths, publishable keys, the ids providers put in every
response (``chatcmpl-``, ``msg_``, ``toolu_``, ``call_``), and vendor prefixes followed by too
little to be a key; each alone, in a JSON message, and after a JSON escape. Seeded.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from collections.abc import Iterator

from redaction_corpus import ALNUM, BASE32, TOKEN_FORMATS, Case, dumps, message, mixed, pick

PLACEHOLDERS = [
    "OPENAI_API_KEY=YOUR_API_KEY",
    "api_key=YOUR_API_KEY",
    "export OPENAI_API_KEY=sk-...",
    'client = OpenAI(api_key="sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")',
    "OPENAI_API_KEY=sk-your-openai-api-key-here",
    "ANTHROPIC_API_KEY=sk-ant-api03-your-key-goes-here-please",
    "GITHUB_TOKEN=ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX",
    '{"api_key": "<your-api-key>"}',
    '{"password": "YOUR_PASSWORD"}',
    "password=<password>",
    "token=${GITHUB_TOKEN}",
    "secret: {{ secrets.DEPLOY_KEY }}",
    "password = ********",
    "Authorization: Bearer <token>",
    "Authorization: Bearer $TOKEN",
    'curl -H "Authorization: Bearer ${API_TOKEN}" https://api.example.com',
    "postgres://user:password@localhost/db",
    "postgres://${DB_USER}:${DB_PASSWORD}@db:5432/app",
    "--password PASSWORD",
    "api_key: REPLACE_ME",
    "stripe.api_key = sk_test_...",
]

PROSE = [
    "The bearer 12345678 of this note is entitled to a refund.",
    "Bearer bonds were once common; the bearer of bond 20240115 was paid.",
    "Reset your password at https://example.com/reset, then sign in again.",
    "Your token limit is 4096 and the password policy needs 12 characters.",
    "The secret to good bread is patience; the password is love.",
    "Password: the one you chose at sign-up.",
    "Use a password manager: never paste a secret into a chat.",
    "The auth flow uses OAuth 2.0 with PKCE; the token endpoint is /oauth/token.",
    "Set OPENAI_API_KEY in your environment before running the script.",
    "sk-learn-style-pipeline-components-overview is the page you want.",
    "Our task-management-framework-overview-document is ready for review.",
    "The risk-assessment-for-the-authentication-service-v2 doc is done.",
    "See the ASIA-PACIFIC-REGIONAL-OVERVIEW slides and the AKIA notes.",
    "GitHub tokens start with ghp_ and GitLab ones with glpat- in their docs.",
    "npm_modules and npm_config_cache are npm's own environment variables.",
    "SG. is SendGrid's prefix; whsec_ is Stripe's, hf_ is Hugging Face's.",
    "markdown rule:\n-----\nand a list:\n- one\n- two\n--- end ---",
    "Keys are rotated every 90 days; auth: required; token: optional.",
    "secret_santa_draw: tomorrow; password_hint: first pet",
]

CODE = [
    "client = OpenAI(api_key=api_key)",
    "client = Anthropic(api_key=os.environ['ANTHROPIC_API_KEY'])",
    'token = os.environ["GITHUB_TOKEN"]',
    'api_key = os.getenv("OPENAI_API_KEY")',
    "password = getpass.getpass()",
    "conn = connect(host=host, password=password, user=user)",
    "self.api_key = api_key",
    "api_key=settings.OPENAI_API_KEY,",
    "secret_key=config['SECRET_KEY']",
    "def login(user: str, password: str | None = None) -> Session:",
    'headers = {"Authorization": f"Bearer {token}"}',
    "if password == confirm_password:\n    save(user)",
    "password_hash = bcrypt.hashpw(password.encode(), salt)",
    "parser.add_argument('--password', help='database password')",
    "PWD=/home/alice/projects/app",
    "OLDPWD=/home/alice",
    'os.environ["PWD"] = "/srv/app/current"',
    "password_file=/run/secrets/db_password",
    "--password-file /run/secrets/db_password",
    'Traceback (most recent call last):\n  File "/srv/app/client.py", line 12, in call\n'
    "    response = client.chat.completions.create(model=model, api_key=api_key)",
    "{'max_tokens': 1024, 'token_count': 123456, 'tokenizer': 'cl100k_base'}",
    '{"token": " the", "logprob": -0.012, "bytes": [32, 116, 104, 101]}',
    "stripe.PaymentIntent.create(amount=2000, currency='usd', customer='cus_NffrFeUfNV2Hib')",
    "publishable = 'pk_live_51HxYzAbCdEfGhIjKlMnOpQr'",
    "def login(user: str, password: Optional[str] = None, token: dict[str, str] = {}):",
    "const db = connect({ password: process.env.DB_PASSWORD, apiKey: config.apiKey });",
    "await user.update({ password: hashedPassword, secret: newSecret });",
]


def _hex(rng: random.Random, length: int) -> str:
    return pick(rng, "0123456789abcdef", length)


def _id_cases(rng: random.Random) -> Iterator[Case]:
    for i in range(12):
        yield Case("look-alike", "trace ids", f"trace {_hex(rng, 32)} span {_hex(rng, 16)}")
        yield Case("look-alike", "uuid", f"run {uuid.UUID(int=rng.getrandbits(128))} done")
        yield Case("look-alike", "uuid json", json.dumps({"id": str(uuid.UUID(int=i + 1))}))
        yield Case("look-alike", "git sha", f"commit {_hex(rng, 40)} (HEAD -> main)")
        yield Case("look-alike", "sha256", f"sha256:{_hex(rng, 64)}")
        yield Case("look-alike", "hex checksum json", json.dumps({"checksum": _hex(rng, 64)}))
        yield Case("look-alike", "slack ids", f"channel C{pick(rng, BASE32, 10)} team T0{i}AB")
        yield Case("look-alike", "arn", f"arn:aws:iam::{pick(rng, string.digits, 12)}:role/app")


# Ids that providers and frameworks put in every response: random, prefixed, not secrets.
_RESPONSE_IDS = {
    "chatcmpl-": (ALNUM, 29),
    "msg_01": (ALNUM, 22),
    "toolu_01": (ALNUM, 22),
    "req_011C": (ALNUM, 20),
    "call_": (ALNUM, 24),
    "run-": ("0123456789abcdef-", 36),
    "file-": (ALNUM, 24),
    "asst_": (ALNUM, 24),
    "cus_": (ALNUM, 14),
    "pi_3": (ALNUM, 23),
    "org-": (ALNUM, 24),
}


def _near_miss_cases(rng: random.Random) -> Iterator[Case]:
    """Provider response ids, and vendor prefixes followed by too little to be a key."""
    for prefix, (alphabet, length) in _RESPONSE_IDS.items():
        for _ in range(6):
            value = prefix + mixed(rng, alphabet, length)
            yield Case("look-alike", "response ids", f"id={value}")
            yield Case("look-alike", "response ids json", json.dumps({"id": value, "n": 1}))
    for make in TOKEN_FORMATS.values():
        token, secret = make(rng)
        prefix = token[: len(token) - len(secret)]
        if prefix and not prefix.startswith("https"):
            short = prefix + secret[: max(3, min(9, len(secret) // 4))]
            yield Case("look-alike", "short after a prefix", f"see {short} in the docs")


def _image_cases(rng: random.Random) -> Iterator[Case]:
    for i in range(12):
        data = base64.b64encode(bytes(rng.randrange(256) for _ in range(3000))).decode()
        part = {"type": "image", "mime_type": "image/png", "content": data}
        yield Case(
            "look-alike", "base64 image json", json.dumps([{"role": "user", "parts": [part]}])
        )
        url = f"data:image/jpeg;base64,{data[: 1000 + 100 * i]}"
        yield Case("look-alike", "data url", url)


def negative_cases(seed: int = 20250113) -> list[Case]:
    """Every look-alike case: each alone, in a JSON message, and after a JSON escape."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for context, texts in (("placeholder", PLACEHOLDERS), ("prose", PROSE), ("code", CODE)):
        for text in texts:
            cases.append(Case("look-alike", context, text))
            cases.append(Case("look-alike", f"{context} json", dumps(message(text), 1)))
            cases.append(Case("look-alike", f"{context} json after \\n", dumps(["x\n" + text], 1)))
    cases += _id_cases(rng)
    cases += _near_miss_cases(rng)
    cases += _image_cases(rng)
    return cases
