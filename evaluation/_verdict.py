"""Reading a judge model's reply: robustly, and never by raising.

Judges are asked for ``{"score": 1-5, "label": "PASS"|"FAIL", "reason": "..."}`` but reply in
every shape: that object inside a code fence or prose, ``Score: 4/5``, ``Rating: 4``, ``80%``,
``PASS``, ``FAIL - the answer ...``, or a bare ``4``. ``parse_verdict`` tries, in order: a JSON
object anywhere in the reply, ``n/m`` or ``n out of m``, a ``score:``-style number, a
percentage, a verdict word leading the reply or after ``verdict:``, and a bare number.

Values are normalised to 0..1 (higher is better): ``n/m`` is n / m; a number on the asked scale
(default 1-5) maps linearly, 1 → 0 and 5 → 1; a number in 0..1 off the scale is taken as a
fraction. A verdict word alone gives 1 or 0. Missing labels follow from the value and the
threshold; a label that is not a verdict word (``partially``) is kept as the value. A reply
with no verdict yields ``error`` and no value, which the judge records as a failed score.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from spyglass.tracer._score_types import FAIL_LABELS, PASS_LABELS, verdict_of_label

REASON_MAX = 500
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_FRACTION = re.compile(_NUMBER + r"\s*(?:/|out of)\s*" + _NUMBER, re.IGNORECASE)
_KEYED = re.compile(r"\b(?:score|rating|grade)\b\s*(?:is|of|[:=])?\s*" + _NUMBER, re.IGNORECASE)
_PERCENT = re.compile(_NUMBER + r"\s*%")
_LABELLED = re.compile(r"\b(?:verdict|label|result|decision)\b\s*[:=]\s*\**\s*(\w+)", re.I)
_LEADING = re.compile(r"^\W*(\w+)\b")
_BARE = re.compile(r"^\s*" + _NUMBER + r"\s*\.?\s*$")
_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL | re.IGNORECASE)
_SCORE_KEYS = ("score", "rating", "grade", "value")
_LABEL_KEYS = ("label", "verdict", "result", "decision")
_REASON_KEYS = ("reason", "reasoning", "explanation", "rationale", "justification", "comment")
_VERDICT_WORDS = PASS_LABELS | FAIL_LABELS


@dataclass(frozen=True)
class Verdict:
    value: float | str | None
    label: str | None
    reason: str | None
    error: str | None = None


def _json_object(text: str) -> Mapping[str, object] | None:
    fenced = _FENCE.search(text)
    candidates = [fenced.group(1)] if fenced else []
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def _first(data: Mapping[str, object], keys: tuple[str, ...]) -> object:
    lowered = {str(k).lower(): v for k, v in data.items()}
    return next((lowered[k] for k in keys if lowered.get(k) is not None), None)


def normalise(number: float, scale: tuple[float, float], out_of: float | None = None) -> float:
    """A reply's number as 0..1; ``ValueError`` when it fits neither the scale nor 0..1."""
    if out_of is not None:
        if out_of <= 0 or not 0 <= number <= out_of:
            raise ValueError(f"{number:g}/{out_of:g} is not a score")
        return number / out_of
    low, high = scale
    if low <= number <= high and high > low:
        return (number - low) / (high - low)
    if 0 <= number <= 1:
        return number
    raise ValueError(f"score {number:g} is outside {low:g}-{high:g}")


def _number_in(text: str, scale: tuple[float, float]) -> float | None:
    """The first score-like number of free text, normalised (``ValueError`` if off scale)."""
    fraction = _FRACTION.search(text)
    if fraction:
        return normalise(float(fraction.group(1)), scale, float(fraction.group(2)))
    for pattern, divide in ((_KEYED, False), (_PERCENT, True), (_BARE, False)):
        found = pattern.search(text)
        if found:
            number = float(found.group(1))
            return normalise(number / 100, (0, 1)) if divide else normalise(number, scale)
    return None


def _label_in(text: str) -> str | None:
    labelled = _LABELLED.search(text)
    if labelled:
        return labelled.group(1)
    leading = _LEADING.match(text)
    if leading and leading.group(1).lower() in _VERDICT_WORDS:
        return leading.group(1)
    return None


def _from_json(data: Mapping[str, object], scale: tuple[float, float]) -> Verdict:
    raw = _first(data, _SCORE_KEYS)
    label = _first(data, _LABEL_KEYS)
    reason = _first(data, _REASON_KEYS)
    value: float | str | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = normalise(float(raw), scale)
    elif isinstance(raw, bool):
        value = 1.0 if raw else 0.0
    elif isinstance(raw, str) and raw.strip():
        value = _number_in(raw, scale)
        if value is None and label is None:
            label = raw
    return Verdict(value, None if label is None else str(label), _reason(reason))


def _reason(raw: object) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    return text[:REASON_MAX] if text else None


def _complete(verdict: Verdict, threshold: float) -> Verdict:
    """Fill the value from a verdict label, or the label from the value."""
    value, label = verdict.value, verdict.label
    if label is not None:
        label = label.strip().upper() if label.strip().lower() in _VERDICT_WORDS else label.strip()
    if value is None and label is not None:
        passed = verdict_of_label(label)
        value = label if passed is None else (1.0 if passed else 0.0)
    if value is None:
        return Verdict(None, None, verdict.reason, "no score or verdict in the reply")
    if label is None and isinstance(value, float):
        label = "PASS" if value >= threshold else "FAIL"
    if isinstance(value, float):
        value = round(min(max(value, 0.0), 1.0), 4)
    return Verdict(value, label, verdict.reason)


def parse_verdict(
    reply: object, scale: tuple[float, float] = (1, 5), threshold: float = 0.5
) -> Verdict:
    """A ``Verdict`` from a judge's reply (see the module docstring); never raises."""
    text = reply if isinstance(reply, str) else ("" if reply is None else str(reply))
    text = text.strip()
    if not text:
        return Verdict(None, None, None, "the judge's reply is empty")
    try:
        data = _json_object(text)
        if data is not None:
            verdict = _from_json(data, scale)
        else:
            verdict = Verdict(_number_in(text, scale), _label_in(text), _reason(text))
    except ValueError as exc:
        return Verdict(None, None, _reason(text), f"unusable verdict: {exc}")
    done = _complete(verdict, threshold)
    if done.error is not None:
        return Verdict(None, None, done.reason, f"{done.error}: {text[:80]!r}")
    return done
