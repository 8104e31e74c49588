"""Runs split by the index that answered them: did the answers change because the prompt changed
or because the index did?

A *run* is a trace, as in the per-prompt figures; its *index* is what its RETRIEVER spans
recorded (``spyglass.retrieval.index.*``: class, name, fingerprint, document count). A trace
that rendered a registered prompt counts under that prompt version, one without under none. A
trace that asked two indexes (or rendered two prompts) counts once under each pair, so the rows
of one prompt version can add up to more than its runs.

The query starts from the RETRIEVER spans of the window (a scan of ``kind``, the one column
read for spans of other kinds) and reaches the prompt links and the trace roll-up by the
indexes on ``trace_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spyglass.tracer import attributes as A
from spyglass.tracer._stats import percentile


def _attr(name: str) -> str:
    return f"json_extract(attributes, '$.\"{name}\"')"


def index_rows_sql(where: str) -> str:
    """``(prompt_name, prompt_version, class, name, fingerprint, document_count, start_ns,
    end_ns, failed, input_tokens, output_tokens)`` per trace × prompt version × index;
    ``where`` filters spans (`` AND ...``, its parameters given twice)."""
    return (
        "WITH r AS (SELECT DISTINCT trace_id, "
        f"{_attr(A.SPYGLASS_INDEX_CLASS)} AS cls, {_attr(A.SPYGLASS_INDEX_NAME)} AS name, "
        f"{_attr(A.SPYGLASS_INDEX_FINGERPRINT)} AS fp, "
        f"{_attr(A.SPYGLASS_INDEX_DOCUMENT_COUNT)} AS docs "
        f"FROM spans WHERE kind = 'RETRIEVER'{where}), "
        "p AS (SELECT DISTINCT trace_id, prompt_name, prompt_version FROM spans "
        f"WHERE prompt_name IS NOT NULL{where}) "
        "SELECT p.prompt_name, p.prompt_version, r.cls, r.name, r.fp, max(r.docs), "
        "t.start_ns, t.end_ns, t.error_count > 0, t.input_tokens, t.output_tokens "
        "FROM r JOIN traces t ON t.trace_id = r.trace_id "
        "LEFT JOIN p ON p.trace_id = r.trace_id WHERE r.cls IS NOT NULL "
        "GROUP BY r.trace_id, p.prompt_name, p.prompt_version, r.cls, r.name, r.fp"
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class IndexRuns:
    """The runs of one prompt version (or none) answered by one index."""

    prompt_name: str | None
    prompt_version: str | None
    index_class: str
    index_name: str | None
    fingerprint: str | None
    document_count: int | None = None
    runs: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    durations_ms: list[float] = field(default_factory=list, repr=False)
    first_ns: int = field(default=2**63, repr=False)
    """When the first of these runs started (an index's rows read in the order it changed)."""

    @property
    def prompt(self) -> str | None:
        """``name@version``, or None for runs that rendered no registered prompt."""
        if self.prompt_name is None:
            return None
        version = self.prompt_version
        return f"{self.prompt_name}@{version}" if version is not None else self.prompt_name

    @property
    def p50_ms(self) -> float | None:
        return percentile(self.durations_ms, 50)

    def to_dict(self) -> dict[str, object]:
        p50 = self.p50_ms
        return {
            "prompt": self.prompt,
            "index_class": self.index_class,
            "index_name": self.index_name,
            "fingerprint": self.fingerprint,
            "document_count": self.document_count,
            "runs": self.runs,
            "errors": self.errors,
            "p50_ms": None if p50 is None else round(p50, 3),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


def index_key(cls: object, name: object, fingerprint: object) -> tuple[str, str | None, str | None]:
    """What makes two retrievals the same index: class and fingerprint (the name too only
    without a fingerprint). Not the name otherwise: LlamaIndex draws an index id at random, so
    two processes building the same index would never compare equal."""
    fp = _text(fingerprint)
    return (str(cls), fp, None if fp is not None else _text(name))


def index_stats(rows: Iterable[Sequence[object]]) -> list[IndexRuns]:
    """Rows as ``index_rows_sql`` reads them; by prompt (none last), then by the first run
    of each index (so an index that changed reads in the order it changed)."""
    acc: dict[tuple[str | None, ...], IndexRuns] = {}
    names: dict[tuple[str | None, ...], set[str | None]] = {}
    for name, version, cls, index_name, fp, docs, start, end, failed, tokens_in, tokens_out in rows:
        key = (_text(name), _text(version), *index_key(cls, index_name, fp))
        stats = acc.get(key)
        if stats is None:
            stats = acc[key] = IndexRuns(key[0], key[1], str(cls), None, key[3])
        names.setdefault(key, set()).add(_text(index_name))
        if isinstance(docs, int):
            stats.document_count = max(docs, stats.document_count or 0)
        stats.runs += 1
        stats.errors += bool(failed)
        stats.input_tokens += _int(tokens_in)
        stats.output_tokens += _int(tokens_out)
        stats.durations_ms.append((_int(end) - _int(start)) / 1e6)
        stats.first_ns = min(stats.first_ns, _int(start))
    for group, stats in acc.items():
        stats.durations_ms.sort()
        shared = names[group]
        stats.index_name = next(iter(shared)) if len(shared) == 1 else None  # one name, or none
    return sorted(acc.values(), key=_order)


def _order(s: IndexRuns) -> tuple[object, ...]:
    version = s.prompt_version or ""
    return (
        s.prompt_name is None,
        s.prompt_name or "",
        (0, int(version), "") if version.isdigit() else (1, 0, version),
        s.first_ns,
        s.index_class,
        s.fingerprint or "",
    )
