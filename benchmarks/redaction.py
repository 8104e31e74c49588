"""Secret redaction: recall and false positives on the tests' corpus, and what scrubbing costs.

(a) Recall per format: the share of the corpus's secrets (``tests/redaction_corpus.py``: random
tokens of each provider's format in bare, prose, JSON, after each JSON escape, in JSON escaped
two and three times, in URLs, command lines, env lines, reprs and log lines; passwords in
key=value pairs, URLs and CLI flags; PEM and PGP private keys) of which no 8-character piece
survives ``Redactor().scrub``. "JSON broken" counts cases whose JSON (at any depth) no longer
decodes after scrubbing.

(b) False positives per kind of look-alike: the share of texts that scrubbing changes at all.

(c) Cost: microseconds per KB of clean text (no secret: the common case, where only the
prefilter runs) for prose, chat-message JSON, code and markdown dense in the anchor
characters, and JSON full of escapes; and for text that holds one secret (the redacting pass).
Medians of ``--repeats`` rounds; one ``Redactor`` per text kind, as the exporter keeps one.
A dozen secrets a KB is the worst case: each found secret costs a few µs (three rules match
``Authorization: Bearer sk-...``, and each match's value is checked for a placeholder).

    python benchmarks/redaction.py [--repeats 200] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redaction_corpus import (
    Case,
    json_kept,
    leaked,
    positive_cases,
)
from redaction_lookalikes import negative_cases

from spyglass.tracer._redact import Redactor

_MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "Answer from the context only."}]},
    {
        "role": "user",
        "parts": [
            {
                "type": "text",
                "content": "Context:\n- Refunds take 5-7 business days.\n- Orders over $50 "
                "ship free.\n\nQuestion: how long does a refund take?",
            }
        ],
    },
    {
        "role": "assistant",
        "parts": [{"type": "text", "content": "A refund takes 5\u20137 business days."}],
        "finish_reason": "stop",
    },
]
CODE_AND_MARKDOWN = """def build_chain(retriever, llm):
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", "{question}")])
    chain = {"context": retriever | format_docs, "question": RunnablePassthrough()} | prompt
    return (chain | llm).with_config(run_name="rag-chain", tags=["rag", "v2"], max_tokens=256)

## Setup
- Install with `pip install -e '.[dev]'`, then run `make test` -- about 2 minutes.
- Batch jobs: `BATCH_SIZE=64 JOBS=4 python -m app.batch --dry-run --out=/tmp/out.jsonl`

| model | max_tokens | temperature |
|-------|-----------:|------------:|
| gpt-4o-mini | 1024 | 0.2 |
"""
TEXTS: dict[str, str] = {
    "prose": (
        "The quick brown fox jumps over the lazy dog while the committee reviews the "
        "quarterly report. Nobody expected the results to be this good, and yet here we are. "
    ),
    "chat JSON": json.dumps(_MESSAGES),
    "code + markdown": CODE_AND_MARKDOWN,
    "JSON, many escapes": json.dumps(
        ['line\n\tindented "quoted" C:\\path\\to\\file \u00e9t\u00e9\r\n' * 4]
    ),
}
SECRET = "Call it with Authorization: Bearer sk-proj-Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789."
# One KB of chat JSON with one secret in a message, and the secret line alone, repeated: a
# dozen secrets a KB, three rules matching each (the worst case, not a common one).
SECRET_TEXTS = {
    "one secret per KB": json.dumps([{"role": "user", "content": SECRET}, *_MESSAGES * 3])[:1024],
    "12 secrets per KB": SECRET + " ",
}


def _kb(text: str) -> str:
    """``text`` repeated to about one KB."""
    return (text * (1024 // len(text) + 1))[:1024]


def cost_per_kb(text: str, repeats: int, *, remembered: bool = False) -> float:
    """Median µs to scrub one KB of ``text`` (each round scrubs 20 KB in 1 KB strings).

    Each round has a new Redactor, so the rules run on every string, unless ``remembered``:
    then the strings were scrubbed once before, as a value a chain hands on is.
    """
    pieces = [_kb(text)[:-1] + chr(ord("a") + i % 26) for i in range(20)]
    Redactor().scrub(pieces[0])  # the rules are compiled once, on first use
    samples = []
    for _ in range(repeats):
        scrub: Callable[[str], str] = Redactor().scrub
        if remembered:
            for piece in pieces:
                scrub(piece)
        copies = [piece.encode().decode() for piece in pieces]  # new objects, same text
        start = time.perf_counter()
        for piece in copies:
            scrub(piece)
        samples.append((time.perf_counter() - start) / len(pieces) * 1e6)
    return statistics.median(samples)


def recall_table(cases: list[Case], verbose: bool) -> tuple[int, int, int]:
    redactor = Redactor()
    by_format: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for case in cases:
        scrubbed = redactor.scrub(case.text)
        caught, kept = not leaked(case.secret, scrubbed), json_kept(case.text, scrubbed)
        by_format[case.format].append((caught, kept))
        if verbose and not (caught and kept):
            print(f"  missed: {case.format} / {case.context}: {case.text[:100]!r}")
    print(f"{'format':<20} {'cases':>6} {'caught':>7} {'recall':>8} {'JSON broken':>12}")
    for name, results in by_format.items():
        caught = sum(c for c, _ in results)
        broken = sum(not k for _, k in results)
        print(
            f"{name:<20} {len(results):>6} {caught:>7} {caught / len(results):>8.1%} {broken:>12}"
        )
    caught = sum(c for results in by_format.values() for c, _ in results)
    broken = sum(not k for results in by_format.values() for _, k in results)
    print(f"{'all':<20} {len(cases):>6} {caught:>7} {caught / len(cases):>8.1%} {broken:>12}")
    return len(cases), caught, broken


def context_table(cases: list[Case]) -> None:
    """Recall per context (lengths folded together), every format pooled."""
    redactor = Redactor()
    by_context: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        context = " ".join(word for word in case.context.split() if not word.isdigit())
        by_context[context].append(not leaked(case.secret, redactor.scrub(case.text)))
    print(f"{'context':<28} {'cases':>6} {'caught':>7} {'recall':>8}")
    for context, results in sorted(by_context.items()):
        caught = sum(results)
        print(f"{context:<28} {len(results):>6} {caught:>7} {caught / len(results):>8.1%}")


def false_positive_table(cases: list[Case], verbose: bool) -> tuple[int, int]:
    redactor = Redactor()
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for case in cases:
        scrubbed = redactor.scrub(case.text)
        changed = scrubbed != case.text
        by_kind[case.context.split(" json")[0]].append(changed)
        if verbose and changed:
            print(f"  changed: {case.context}: {case.text[:100]!r} -> {scrubbed[:100]!r}")
    print(f"{'look-alike':<20} {'cases':>6} {'changed':>8} {'false pos.':>11}")
    for kind, results in by_kind.items():
        changed = sum(results)
        print(f"{kind:<20} {len(results):>6} {changed:>8} {changed / len(results):>11.1%}")
    changed = sum(sum(results) for results in by_kind.values())
    print(f"{'all':<20} {len(cases):>6} {changed:>8} {changed / len(cases):>11.1%}")
    return len(cases), changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed rounds per text kind")
    parser.add_argument("--verbose", action="store_true", help="print each miss and change")
    parser.add_argument("--by-context", action="store_true", help="recall per context too")
    args = parser.parse_args()

    print("(a) recall on the corpus's secrets\n")
    recall_table(positive_cases(), args.verbose)
    if args.by_context:
        print()
        context_table(positive_cases())
    print("\n(b) false positives on the corpus's look-alikes\n")
    false_positive_table(negative_cases(), args.verbose)
    print(f"\n(c) scrubbing cost, µs per KB, median of {args.repeats} rounds\n")
    for name, text in TEXTS.items():
        print(f"{'clean ' + name:<30} {cost_per_kb(text, args.repeats):>8.2f}")
    for name, text in SECRET_TEXTS.items():
        print(f"{name:<30} {cost_per_kb(text, args.repeats):>8.2f}")
    chat = cost_per_kb(TEXTS["chat JSON"], args.repeats, remembered=True)
    print(f"{'clean chat JSON, seen before':<30} {chat:>8.2f}")


if __name__ == "__main__":
    main()
