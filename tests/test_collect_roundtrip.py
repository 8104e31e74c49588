"""spyglass's own spans, exported over OTLP into `spyglass collect`, come back identical.

The same program writes its local file through autolog and sends the same spans to a receiver
(``otlp_endpoint``); every stored column of every span, and every trace roll-up, must match.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from collect_helpers import InProcess

import spyglass
from spyglass.collector import CollectorSettings
from spyglass.tracer import attributes as A

_COLUMNS = (
    "trace_id, span_id, parent_id, name, kind, start_ns, end_ns, status, status_message, model, "
    "provider, input_tokens, output_tokens, prompt_name, prompt_version, attributes, events"
)
_TRACE_COLUMNS = (
    "trace_id, project, name, root_span_id, start_ns, end_ns, status, span_count, error_count, "
    "input_tokens, output_tokens, session_id, user_id"
)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(sql), key=repr)


def _work() -> None:
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    with spyglass.trace("request", session_id="s-1", user_id="u-1", tags=["a", "b"]) as root:
        assert root is not None
        root.set_input({"question": "why?", "n": 3, "ratio": 0.25, "ok": True})
        root.set_attribute("app.big", 2**40)
        root.set_attribute("app.list", [1.5, 2.5])
        with spyglass.trace("lookup", kind="retriever") as lookup:
            assert lookup is not None
            lookup.set_attribute(A.GEN_AI_RETRIEVAL_QUERY_TEXT, "why")
            lookup.set_attribute(
                A.GEN_AI_RETRIEVAL_DOCUMENTS,
                '[{"id": "d1", "score": 0.5, "content": "because", "metadata": {"p": 1}}]',
            )
        chain = (
            ChatPromptTemplate.from_messages([("human", "Say {word}")])
            | FakeListChatModel(responses=["hi"])
            | StrOutputParser()
        )
        chain.invoke({"word": "hi"})
        with pytest.raises(KeyError), spyglass.trace("fails"):
            raise KeyError("missing")
        root.set_output("done")


def test_our_own_spans_round_trip_identically(tmp_path: Path) -> None:
    collected, local = tmp_path / "collected.db", tmp_path / "local.db"
    receiver = InProcess(CollectorSettings(db=collected, port=0))
    try:
        spyglass.autolog(
            db=local, project="shop", otlp_endpoint=receiver.traces_url, integrations=["langchain"]
        )
        _work()
        assert spyglass.flush() is True
        spyglass.autolog(disable=True)
    finally:
        report = receiver.stop()
    assert report.lost == 0 and report.counts.rejected == 0
    spans = _rows(local, f"SELECT {_COLUMNS} FROM spans")
    assert len(spans) == 7
    assert _rows(collected, f"SELECT {_COLUMNS} FROM spans") == spans
    assert _rows(collected, f"SELECT {_TRACE_COLUMNS} FROM traces") == _rows(
        local, f"SELECT {_TRACE_COLUMNS} FROM traces"
    )
    query = "SELECT position, doc_id, score, content, metadata FROM documents"
    assert _rows(collected, query) == _rows(local, query)
    assert spyglass.Store(collected).search("because")[0].span_id == (
        spyglass.Store(local).search("because")[0].span_id
    )
