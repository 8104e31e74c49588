"""The read side of the prompt registry, over any open connection to a spyglass file.

``PromptRegistry`` (which writes, so it opens with ``open_for_write``) extends this class; the
CLI's read commands use it directly over ``open_for_read``, so listing, showing, diffing or
exporting never creates a file. Lookups that find nothing raise ``PromptNotFound`` with what
does exist ("no version 7 of 'qa'; versions: 1-3; aliases: production→2").

The connection is used under a lock (one transaction at a time per registry object) and is
reopened in a forked child, which must not share its parent's SQLite connection.
"""

from __future__ import annotations

import difflib
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from spyglass.errors import PromptError, PromptNotFound
from spyglass.prompts._diff import PromptDiff, RunStats
from spyglass.prompts._refs import (
    LATEST,
    Selector,
    check_alias,
    check_name,
    check_version,
    describe_existing,
    parse_selector,
    split_ref,
)
from spyglass.prompts._version import VERSION_COLUMNS, PromptVersion, from_ns, iso_utc
from spyglass.tracer._db import database_error
from spyglass.tracer._records import TraceSummary
from spyglass.tracer._score_stats import mean_scores_for_traces

#: ``traces`` columns in ``TraceSummary`` field order.
TRACE_COLUMNS = (
    "trace_id, project, name, start_ns, end_ns, status, span_count, error_count, "
    "input_tokens, output_tokens, session_id, user_id"
)
#: The traces whose spans name a prompt version (uses the partial index ``spans_prompt``).
LINKED = "SELECT trace_id FROM spans WHERE prompt_name = ? AND prompt_version = ?"


@dataclass(frozen=True)
class PromptSummary:
    """One row of ``spyglass prompts list``."""

    name: str
    latest: int
    versions: int
    aliases: dict[str, int]
    updated_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "latest": self.latest,
            "versions": self.versions,
            "aliases": dict(self.aliases),
            "updated_at": iso_utc(self.updated_at),
        }


class RegistryReader:
    """Reads prompts, versions, aliases, linked traces and diffs from a spyglass file."""

    def __init__(self, opener: Callable[[Path], sqlite3.Connection], path: Path) -> None:
        self.path = path
        self._opener = opener
        self._lock = threading.RLock()
        self._conn = opener(path)
        self._pid = os.getpid()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RegistryReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # a forked child: never use the parent's connection
            self._conn = self._opener(self.path)
            self._pid = os.getpid()
        return self._conn

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise database_error(exc, self.path) from exc

    # -- lookups ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every prompt name, sorted."""
        return [row[0] for row in self._query("SELECT name FROM prompts ORDER BY name")]

    def _numbers(self, name: str) -> list[int]:
        rows = self._query(
            "SELECT version FROM prompt_versions WHERE name = ? ORDER BY version", (name,)
        )
        return [row[0] for row in rows]

    def _not_found(self, name: str, selector: Selector | None) -> PromptNotFound:
        numbers = self._numbers(name)
        if not numbers:
            names = self.names()
            if not names:
                return PromptNotFound(f"no prompt named {name!r}: no prompts in {self.path}")
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            return PromptNotFound(f"no prompt named {name!r}{hint} (prompts: {shown})")
        what = f"version {selector}" if isinstance(selector, int) else f"alias {selector!r}"
        existing = describe_existing(numbers, self._aliases(name))
        return PromptNotFound(f"no {what} of {name!r}; {existing}")

    def _aliases(self, name: str) -> dict[str, int]:
        rows = self._query(
            "SELECT alias, version FROM prompt_aliases WHERE name = ? ORDER BY alias", (name,)
        )
        return {alias: version for alias, version in rows}

    def aliases(self, name: str) -> dict[str, int]:
        """``{alias: version}`` of one prompt, sorted by alias."""
        if not self._numbers(check_name(name)):
            raise self._not_found(name, None)
        return self._aliases(name)

    def versions(self, name: str) -> list[PromptVersion]:
        """Every version of a prompt, oldest first."""
        rows = self._query(
            f"SELECT {VERSION_COLUMNS} FROM prompt_versions WHERE name = ? ORDER BY version",
            (check_name(name),),
        )
        if not rows:
            raise self._not_found(name, None)
        return [PromptVersion.from_row(row) for row in rows]

    def resolve(self, name: str, selector: Selector | None) -> PromptVersion:
        """The version a selector names: a number, an alias, ``latest`` or None (latest)."""
        number: int | None = selector if isinstance(selector, int) else None
        if isinstance(selector, str) and selector != LATEST:
            found = self._aliases(name).get(selector)
            if found is None:
                raise self._not_found(name, selector)
            number = found
        if number is None:
            sql = "WHERE name = ? ORDER BY version DESC LIMIT 1"
            rows = self._query(f"SELECT {VERSION_COLUMNS} FROM prompt_versions {sql}", (name,))
        else:
            sql = "WHERE name = ? AND version = ?"
            rows = self._query(
                f"SELECT {VERSION_COLUMNS} FROM prompt_versions {sql}", (name, number)
            )
        if not rows:
            raise self._not_found(name, selector)
        return PromptVersion.from_row(rows[0])

    def get(
        self, name: str, version: int | None = None, *, alias: str | None = None
    ) -> PromptVersion:
        """``get("qa")`` (latest), ``get("qa", version=2)``, ``get("qa", alias="production")``,
        ``get("qa@2")``, ``get("qa@production")``."""
        base, selector = split_ref(name)
        if sum(given is not None for given in (selector, version, alias)) > 1:
            raise PromptError(f"give one of {base}@..., version= or alias=, not several")
        if version is not None:
            selector = check_version(version)
        elif alias is not None:
            selector = check_alias(alias, allow_latest=True)
        return self.resolve(base, selector)

    def summaries(self) -> list[PromptSummary]:
        """One line per prompt: latest version, how many, aliases, last registration."""
        aliases: dict[str, dict[str, int]] = {}
        for name, alias, version in self._query(
            "SELECT name, alias, version FROM prompt_aliases ORDER BY name, alias"
        ):
            aliases.setdefault(name, {})[alias] = version
        rows = self._query(
            "SELECT name, max(version), count(*), max(created_ns) FROM prompt_versions "
            "GROUP BY name ORDER BY name"
        )
        return [
            PromptSummary(
                name=name,
                latest=latest,
                versions=count,
                aliases=aliases.get(name, {}),
                updated_at=from_ns(created),
            )
            for name, latest, count, created in rows
        ]

    # -- what the versions did -------------------------------------------------------------------

    def traces(
        self,
        name: str,
        version: int | None = None,
        *,
        alias: str | None = None,
        limit: int = 100,
    ) -> list[TraceSummary]:
        """Traces with a span that rendered this version, newest first: ``traces("qa@3")``."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise PromptError(f"limit must be a positive integer, got {limit!r}")
        found = self.get(name, version, alias=alias)
        rows = self._query(
            f"SELECT {TRACE_COLUMNS} FROM traces WHERE trace_id IN ({LINKED}) "
            "ORDER BY start_ns DESC LIMIT ?",
            (found.name, str(found.version), min(limit, 2**63 - 1)),  # SQLite's largest
        )
        return [TraceSummary.from_row(row) for row in rows]

    def run_stats(self, version: PromptVersion) -> RunStats:
        """Runs, error rate, median latency and mean tokens of the traces linked to a version."""
        rows = self._query(
            "SELECT error_count > 0, end_ns - start_ns, input_tokens, output_tokens, trace_id "
            f"FROM traces WHERE trace_id IN ({LINKED})",
            (version.name, str(version.version)),
        )
        stats = RunStats.from_rows(version.ref, [row[:4] for row in rows])
        if not rows:
            return stats

        with self._lock:
            means = mean_scores_for_traces(self._connection(), [row[4] for row in rows])
        return replace(stats, mean_scores=tuple(means.items()))

    def diff(self, name: str, a: int | str, b: int | str) -> PromptDiff:
        """Compare two versions (numbers or aliases): template, variables, model, parameters,
        and what the traces linked to each show (split by index when several answered)."""
        name = check_name(name)
        first = self.resolve(name, parse_selector(a))
        second = self.resolve(name, parse_selector(b))
        runs = (self.run_stats(first), self.run_stats(second))
        from spyglass.prompts._index_runs import index_run_stats

        by_index = index_run_stats(
            self._query,
            (first.name, first.version, first.ref),
            (second.name, second.version, second.ref),
        )
        return PromptDiff.between(first, second, runs, by_index)
