"""Recall and false positives on the generated corpus (``redaction_corpus.py``): every secret
of every provider format in every context is caught, JSON stays JSON, and no look-alike is
touched. ``benchmarks/redaction.py`` prints the same numbers as a table."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from redaction_corpus import (
    TOKEN_FORMATS,
    Case,
    json_kept,
    leaked,
    positive_cases,
)
from redaction_lookalikes import negative_cases

from spyglass.tracer._redact import REDACTED, Redactor

POSITIVE = positive_cases()
NEGATIVE = negative_cases()


def _by(cases: list[Case], key: str) -> dict[str, list[Case]]:
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        groups[getattr(case, key)].append(case)
    return groups


def test_the_corpus_is_large_and_covers_every_format_and_context() -> None:
    assert len(POSITIVE) >= 600 and len(NEGATIVE) >= 300
    formats = _by(POSITIVE, "format")
    assert set(TOKEN_FORMATS) | {"private_key", "key=value", "url_password"} <= set(formats)
    contexts = {case.context for case in POSITIVE}
    for escape in ("\\n", "\\t", "\\r", '\\"', "\\\\", "\\u0001"):
        assert f"json after {escape}" in contexts
    assert {"json twice", "json three times", "url", "cli", "env", "prose"} <= contexts
    # every secret is really in its text, as written or as JSON escapes it
    for case in POSITIVE:
        assert leaked(case.secret, case.text), case


@pytest.mark.parametrize("name", sorted(_by(POSITIVE, "format")))
def test_every_secret_of_a_format_is_caught(name: str) -> None:
    redactor = Redactor()
    missed = [
        (case.context, case.text[:120])
        for case in _by(POSITIVE, "format")[name]
        if leaked(case.secret, redactor.scrub(case.text))
    ]
    assert missed == []


@pytest.mark.parametrize("name", sorted(_by(POSITIVE, "format")))
def test_json_stays_json_and_scrubbing_is_idempotent(name: str) -> None:
    redactor = Redactor()
    for case in _by(POSITIVE, "format")[name]:
        scrubbed = redactor.scrub(case.text)
        assert json_kept(case.text, scrubbed), (case.context, scrubbed[:200])
        assert REDACTED in scrubbed
        assert redactor.scrub(scrubbed) == scrubbed, case.context


@pytest.mark.parametrize("kind", sorted({case.context for case in NEGATIVE}))
def test_no_look_alike_is_changed(kind: str) -> None:
    redactor = Redactor()
    changed = [
        (case.text[:120], scrubbed[:120])
        for case in NEGATIVE
        if case.context == kind and (scrubbed := redactor.scrub(case.text)) != case.text
    ]
    assert changed == []


def test_the_scrubbed_json_reads_back_with_only_the_secret_replaced() -> None:
    redactor = Redactor()
    for case in POSITIVE:
        if case.context != "json after \\n":
            continue
        before, after = json.loads(case.text), json.loads(redactor.scrub(case.text))
        content = before[0]["parts"][0]["content"]
        assert content.startswith("Can you check this?\n")
        expected = content.replace(content.split("\n", 1)[1], "")
        assert after[0]["parts"][0]["content"].startswith(expected), case.format
        assert REDACTED in after[0]["parts"][0]["content"]
