"""One entry point that runs every convention's mapping over a received span's attributes.

Each convention module (``_openinference``, ``_genai``, ``_openllmetry``, ``_mlflow``) is a pure
function from a span's attributes (and events) to the canonical attributes they imply. They are
asked in that order and the first to name an attribute wins; an attribute the span already
has always wins, so a span that follows spyglass's names (ours, sent over OTLP) is stored as
sent. The original attributes are all kept beside the added ones.

A convention that fails on an odd span loses what it would have added, never the span.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from spyglass.collector import _genai, _mlflow, _openinference, _openllmetry

logger = logging.getLogger("spyglass")

Convention = Callable[[Mapping[str, object], Sequence[_genai.EventLike]], dict[str, object]]

CONVENTIONS: Sequence[tuple[str, Convention]] = (
    ("openinference", _openinference.canonical),
    ("genai", _genai.canonical),
    ("openllmetry", _openllmetry.canonical),
    ("mlflow", _mlflow.canonical),
)


def normalise(
    attrs: Mapping[str, object], events: Sequence[_genai.EventLike] = ()
) -> dict[str, object]:
    """``attrs`` plus the canonical attributes its conventions imply."""
    out = dict(attrs)
    for key in _genai.JSON_KEYS.intersection(out):
        out[key] = _genai.as_json_text(out[key])
    for name, convention in CONVENTIONS:
        try:
            additions = convention(attrs, events)
        except Exception:  # one odd span must not stop the receiver
            logger.debug("spyglass collect: the %s mapping failed on a span", name, exc_info=True)
            continue
        for key, value in additions.items():
            if value is not None and key not in out:
                out[key] = value
    return out
