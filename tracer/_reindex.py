"""Rebuilding the search index from the stored spans: the work of a migration that changes how
the index reads text (its tokenizer).

The index is contentless (``m003_search_index``): it keeps no text, only which span rows hold
which words, so a new tokenizer means indexing every span again. The text comes from what is
stored (attributes, kind, parent, status message) through ``_rows.search_text``, the function
the exporter calls, so the rebuilt index holds what the exporter would write today. One
``INSERT ... SELECT`` over ``spans`` calls that function in Python per row: SQLite streams the
rows, so memory stays flat on files of millions of spans.
"""

from __future__ import annotations

import sqlite3

from spyglass.tracer import attributes as A
from spyglass.tracer._rows import _documents, _loads, search_text
from spyglass.tracer._schema import SEARCH_TOKENIZER, create_search_index

_FUNCTION = "spyglass_search_text"


def stored_search_text(kind: object, parent_id: object, message: object, attributes: object) -> str:
    """``search_text`` of a stored span row; never raises (a row whose attributes it cannot
    read is indexed by its status message alone, rather than failing the migration)."""
    note = message if isinstance(message, str) else ""
    try:
        attrs = _loads(attributes) if isinstance(attributes, str) else None
        if not isinstance(attrs, dict):
            return note
        documents = _documents(attrs.get(A.GEN_AI_RETRIEVAL_DOCUMENTS), "")
        parent = parent_id if isinstance(parent_id, str) else None
        return search_text(attrs, str(kind), parent, note or None, documents)
    except Exception:
        return note


def rebuild_search_index(conn: sqlite3.Connection, tokenizer: str = SEARCH_TOKENIZER) -> None:
    """Drop the index and build it again with ``tokenizer`` from every stored span (inside the
    caller's transaction). ``benchmarks/search_migration.py`` builds the old index with it."""
    create_search_index(conn, tokenizer)
    conn.create_function(_FUNCTION, 4, stored_search_text, deterministic=True)
    try:
        conn.execute(
            "INSERT INTO search (rowid, text) SELECT id, text FROM (SELECT id, "
            f"{_FUNCTION}(kind, parent_id, status_message, attributes) AS text FROM spans) "
            "WHERE text != ''"
        )
    finally:
        conn.create_function(_FUNCTION, 4, None)
