"""Code evaluators over the example's trace: latency and token budgets, retrieval hit rate and
MRR against ``expected_doc_ids``, and a cheap groundedness heuristic.

They read ``EvalCase.facts``: the ``traces`` roll-up row (duration, tokens) and the retrieved
documents of the trace (see ``_trace_facts`` for which spans count). An example whose trace is
not in the file gets a failed score (value ``None``) saying so, never a silent pass.

Groundedness here is lexical, not semantic: an answer sentence counts as supported when most
of its content words (stop words dropped, crude suffix stripping) occur in the retrieved
documents' text. It catches answers that drift away from the context for free; an
``LLMJudge(criterion="groundedness")`` catches paraphrase and contradiction, at a price.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spyglass.evaluation._case import EvalCase
from spyglass.tracer._score_types import Score

NO_TRACE = "the example's trace is not in the file"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_SUFFIXES = ("ing", "ed", "es", "ly", "s")
STOP_WORDS = frozenset(
    {
        "a",
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    }
)


@dataclass(frozen=True)
class LatencyBudget:
    """The example's trace took at most ``max_ms`` milliseconds."""

    max_ms: float
    name: str = "latency"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score:
        facts = case.facts
        if facts is None:
            return Score(self.name, None, NO_TRACE)
        took = facts.duration_ms
        ok = took <= self.max_ms
        relation = "≤" if ok else ">"
        return Score(self.name, ok, f"{took:.1f} ms {relation} {self.max_ms:g} ms budget")


@dataclass(frozen=True)
class TokenBudget:
    """The trace's tokens stay within each budget given (total, input, output)."""

    max_tokens: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    name: str = "tokens"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score:
        facts = case.facts
        if facts is None:
            return Score(self.name, None, NO_TRACE)
        used = {
            "total": (facts.input_tokens + facts.output_tokens, self.max_tokens),
            "input": (facts.input_tokens, self.max_input_tokens),
            "output": (facts.output_tokens, self.max_output_tokens),
        }
        over = [
            f"{kind} {count} > {limit}"
            for kind, (count, limit) in used.items()
            if limit is not None and count > limit
        ]
        total = used["total"][0]
        comment = "; ".join(over) if over else f"{total} tokens"
        return Score(self.name, not over, comment)


def _ranked_ids(case: EvalCase, k: int | None) -> list[str | None]:
    assert case.facts is not None
    docs = case.facts.documents if k is None else case.facts.documents[:k]
    return [doc.doc_id for doc in docs]


def _first_hit(case: EvalCase, k: int | None) -> tuple[int | None, int]:
    """1-based rank of the first expected document, and how many documents were looked at."""
    wanted = set(case.expected_doc_ids or ())
    ranked = _ranked_ids(case, k)
    for rank, doc_id in enumerate(ranked, 1):
        if doc_id in wanted:
            return rank, len(ranked)
    return None, len(ranked)


@dataclass(frozen=True)
class RetrievalHitRate:
    """Some expected document is among the top ``k`` retrieved (all of them if k is None);
    the run's mean is the hit rate."""

    k: int | None = None
    name: str = "hit_rate"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score | None:
        if not case.expected_doc_ids:
            return None
        facts = case.facts
        if facts is None:
            return Score(self.name, None, NO_TRACE)
        rank, looked = _first_hit(case, self.k)
        if rank is None:
            return Score(self.name, False, f"none of {looked} retrieved documents expected")
        return Score(self.name, True, f"first expected document at rank {rank}")


@dataclass(frozen=True)
class MeanReciprocalRank:
    """1 / rank of the first expected document in the top ``k`` (0 if absent); the run's
    mean is the MRR."""

    k: int | None = None
    name: str = "mrr"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score | None:
        if not case.expected_doc_ids:
            return None
        facts = case.facts
        if facts is None:
            return Score(self.name, None, NO_TRACE)
        rank, looked = _first_hit(case, self.k)
        if rank is None:
            return Score(self.name, 0.0, f"none of {looked} retrieved documents expected")
        return Score(self.name, 1.0 / rank, f"rank {rank}")


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:6]


def content_words(text: str) -> set[str]:
    """Lower-cased, stemmed words that carry meaning (no stop words, no single letters)."""
    words = (w.casefold() for w in _WORD.findall(text))
    return {stem(w) for w in words if len(w) > 1 and w not in STOP_WORDS}


@dataclass(frozen=True)
class Groundedness:
    """Share of the answer's sentences whose content words are mostly (``support``, default
    60 %) found in the retrieved documents."""

    support: float = 0.6
    name: str = "groundedness"
    version: str = "1"

    def __call__(self, case: EvalCase) -> Score:
        facts = case.facts
        if facts is None:
            return Score(self.name, None, NO_TRACE)
        context = " ".join(doc.content or "" for doc in facts.documents)
        if not context.strip():
            return Score(self.name, None, "no retrieved document text in the trace")
        known = content_words(context)
        sentences = [s for s in _SENTENCE.split(case.output_text) if content_words(s)]
        if not sentences:
            return Score(self.name, None, "the output has no content words")
        unsupported = [s for s in sentences if not self._supported(s, known)]
        value = 1.0 - len(unsupported) / len(sentences)
        comment = f"{len(sentences) - len(unsupported)}/{len(sentences)} sentences supported"
        if unsupported:
            comment += f"; not: {unsupported[0][:80]!r}"
        return Score(self.name, round(value, 4), comment)

    def _supported(self, sentence: str, known: set[str]) -> bool:
        words = content_words(sentence)
        return len(words & known) >= self.support * len(words)
