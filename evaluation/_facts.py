"""What evaluators need from the examples' traces, read in a few batched queries.

The store's ``Store.trace`` reads every span and prices each call: right for the viewer, too
much for a thousand examples. Here one query per 500 traces reads the ``traces`` roll-up rows
(duration, status, tokens) and one the retrieved documents.

Which documents count as "what the app retrieved": the output of the last RERANKER span if the
trace has one (what reached the prompt), else the documents of every RETRIEVER span in start
order (a multi-query retriever's several lists), each document kept at its first rank.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from spyglass.evaluation._case import RetrievedDocument, TraceFacts
from spyglass.tracer._filters import chunks


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _documents(
    rows: list[tuple[str, int, str | None, float | None, str | None]],
) -> tuple[RetrievedDocument, ...]:
    """``rows``: ``(kind, span_row, doc_id, score, content)`` of one trace in rank order."""
    reranked = [row for row in rows if row[0] == "RERANKER"]
    if reranked:
        last = reranked[-1][1]
        chosen = [row for row in reranked if row[1] == last]
    else:
        chosen = [row for row in rows if row[0] == "RETRIEVER"]
    seen: set[str] = set()
    documents = []
    for _, _, doc_id, score, content in chosen:
        key = doc_id if doc_id is not None else f"content:{content}"
        if key in seen:
            continue
        seen.add(key)
        documents.append(RetrievedDocument(doc_id, content, score))
    return tuple(documents)


def load_facts(conn: sqlite3.Connection, trace_ids: Sequence[str]) -> dict[str, TraceFacts]:
    """``TraceFacts`` of each stored trace among ``trace_ids`` (absent ones are left out)."""
    ids = sorted(set(trace_ids))
    docs: dict[str, list[tuple[str, int, str | None, float | None, str | None]]] = {}
    heads: dict[str, tuple[str, int, int, int, int]] = {}
    for chunk in chunks(ids):
        marks = _marks(len(chunk))
        for trace_id, status, start, end, tokens_in, tokens_out in conn.execute(
            "SELECT trace_id, status, start_ns, end_ns, input_tokens, output_tokens "
            f"FROM traces WHERE trace_id IN ({marks})",
            list(chunk),
        ):
            heads[trace_id] = (status, start, end, tokens_in, tokens_out)
        for trace_id, kind, span_row, doc_id, score, content in conn.execute(
            "SELECT d.trace_id, s.kind, d.span_row, d.doc_id, d.score, d.content "
            "FROM documents d JOIN spans s ON s.id = d.span_row "
            f"WHERE d.trace_id IN ({marks}) ORDER BY d.trace_id, s.start_ns, s.id, d.position",
            list(chunk),
        ):
            docs.setdefault(trace_id, []).append((kind, span_row, doc_id, score, content))
    return {
        trace_id: TraceFacts(
            trace_id=trace_id,
            status=status,
            duration_ms=(end - start) / 1e6,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            documents=_documents(docs.get(trace_id, [])),
        )
        for trace_id, (status, start, end, tokens_in, tokens_out) in heads.items()
    }


def prompt_versions_seen(conn: sqlite3.Connection, trace_ids: Sequence[str]) -> list[str]:
    """``name@version`` of every registered prompt the traces rendered, sorted."""
    seen: set[tuple[str, str]] = set()
    for chunk in chunks(sorted(set(trace_ids))):
        seen.update(
            conn.execute(
                "SELECT DISTINCT prompt_name, prompt_version FROM spans "
                f"WHERE trace_id IN ({_marks(len(chunk))}) AND prompt_name IS NOT NULL",
                list(chunk),
            ).fetchall()
        )
    ordered = sorted(seen, key=lambda p: (p[0], int(p[1]) if p[1].isdigit() else 0, p[1]))
    return [f"{name}@{version}" for name, version in ordered]
