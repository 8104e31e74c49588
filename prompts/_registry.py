"""``spyglass.PromptRegistry``: versioned prompts in the same SQLite file as the traces.

Versions are immutable and numbered 1, 2, ... per name. Registering reads the latest version
and inserts the next one inside one ``BEGIN IMMEDIATE`` transaction, so two processes
registering the same name at the same moment queue on SQLite's write lock (``busy_timeout``)
and get distinct numbers; ``UNIQUE(name, version)`` backs that up. Content identical to the
latest version (same hash of template, model and parameters) returns that version: no row.

Aliases (``production`` → 2) are the only thing that moves. Import and export go through
``_files``; an import runs in one transaction, so a bad file changes nothing, and it is
idempotent (see ``_import_prompt``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from spyglass.errors import PromptError
from spyglass.prompts import _files
from spyglass.prompts._reader import RegistryReader
from spyglass.prompts._refs import check_alias, check_name, parse_selector
from spyglass.prompts._secrets import check_no_secrets
from spyglass.prompts._template import (
    Template,
    check_parameters,
    check_tags,
    content_hash,
    normalize,
    to_jsonable,
    variables_of,
)
from spyglass.prompts._version import PromptVersion
from spyglass.tracer._db import database_error, open_for_write

_INSERT = (
    "INSERT INTO prompt_versions (name, version, kind, template, variables, hash, message, "
    "created_ns, model, parameters, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_ALIAS = (
    "INSERT INTO prompt_aliases (name, alias, version, updated_ns) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, "
    "updated_ns = excluded.updated_ns"
)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _insert(
    conn: sqlite3.Connection,
    name: str,
    number: int,
    template: Template,
    message: str | None,
    model: str | None,
    parameters: Mapping[str, object] | None,
    tags: tuple[str, ...],
    created_ns: int | None = None,
) -> None:
    """Insert one version (and its name, the first time); inside the caller's transaction."""
    now = time.time_ns()
    conn.execute("INSERT OR IGNORE INTO prompts (name, created_ns) VALUES (?, ?)", (name, now))
    conn.execute(
        _INSERT,
        (
            name,
            number,
            "text" if isinstance(template, str) else "chat",
            template if isinstance(template, str) else _json(to_jsonable(template)),
            _json(list(variables_of(template))),
            content_hash(template, model, parameters),
            message,
            created_ns if created_ns is not None else now,
            model,
            _json(dict(parameters)) if parameters else None,
            _json(list(tags)),
        ),
    )


@dataclass
class ImportResult:
    """What ``import_from`` changed: new versions and moved aliases (refs), and how many
    versions of the file were already there."""

    created: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"created": self.created, "aliases": self.aliases, "unchanged": self.unchanged}


class PromptRegistry(RegistryReader):
    """``PromptRegistry(db=None)``: register, look up, alias, diff, import and export prompts.

    ``db`` defaults to ``$SPYGLASS_DB``, else ``./spyglass.db``; the file is created (mode
    0600) and migrated if needed.
    """

    def __init__(self, db: str | os.PathLike[str] | None = None) -> None:
        if db is None:
            from spyglass.tracer._config import default_db

            db = default_db()
        super().__init__(open_for_write, Path(db))

    def __enter__(self) -> PromptRegistry:
        return self

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: waits for other writers, then holds the lock."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise database_error(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:  # SQLite rolls back by itself on some errors
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.DatabaseError):
                    raise database_error(exc, self.path) from exc
                raise

    def register(
        self,
        name: str,
        template: str | Sequence[object],
        message: str | None = None,
        *,
        chat: bool | None = None,
        model: str | None = None,
        parameters: Mapping[str, object] | None = None,
        tags: Iterable[str] | str = (),
    ) -> PromptVersion:
        """Register ``template`` as the next version of ``name``, or return the latest version
        if its template, model and parameters are the same (message and tags do not count).

        ``template``: a string, or a list of ``(role, content)`` / ``{"role", "content"}``
        messages; ``chat=True`` / ``False`` insists on one kind. ``parameters``: a JSON object
        (temperature, ...); ``tags``: strings."""
        name = check_name(name)
        body = normalize(template)
        if chat is not None and chat == isinstance(body, str):
            wanted = "a list of (role, content) messages" if chat else "a string"
            raise PromptError(f"chat={chat} needs a template that is {wanted}")
        return self._register(name, body, message, model, parameters, tags)[0]

    def _register(
        self,
        name: str,
        body: Template,
        message: str | None,
        model: str | None,
        parameters: Mapping[str, object] | None,
        tags: Iterable[str] | str,
    ) -> tuple[PromptVersion, bool]:
        """``register`` after the template is checked; also says whether a row was added."""
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise PromptError(f"model must be a non-empty string, got {model!r}")
        if message is not None and not isinstance(message, str):
            raise PromptError(f"message must be a string, got {type(message).__name__}")
        params, tag_list = check_parameters(parameters), check_tags(tags)
        check_no_secrets(name, body, message, model, params, tag_list)
        digest = content_hash(body, model, params)
        with self._transaction() as conn:
            latest = conn.execute(
                "SELECT version, hash FROM prompt_versions WHERE name = ? "
                "ORDER BY version DESC LIMIT 1",
                (name,),
            ).fetchone()
            if latest is not None and latest[1] == digest:
                number, created = latest[0], False
            else:
                number, created = (latest[0] + 1 if latest else 1), True
                _insert(conn, name, number, body, message, model, params, tag_list)
        return self.resolve(name, number), created

    def set_alias(self, name: str, alias: str, version: int | str) -> PromptVersion:
        """Point ``alias`` at a version (a number, another alias, or ``latest``); returns it."""
        name, alias = check_name(name), check_alias(alias)
        selector = parse_selector(version)
        with self._transaction() as conn:
            target = self.resolve(name, selector)
            conn.execute(_UPSERT_ALIAS, (name, alias, target.version, time.time_ns()))
        return target

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias; the version it pointed at stays."""
        name, alias = check_name(name), check_alias(alias)
        with self._transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM prompt_aliases WHERE name = ? AND alias = ?", (name, alias)
            ).rowcount
            if not deleted:
                raise self._not_found(name, alias)

    # -- files -----------------------------------------------------------------------------------

    def export_to(self, path: str | os.PathLike[str], fmt: str | None = None) -> int:
        """Write every prompt to one JSON or YAML file (by extension, or ``fmt``); returns
        the number of prompts written."""
        target = Path(path)
        _files.write_atomically(target, export_text(self, _files.format_for(target, fmt)))
        return len(self.names())

    def import_from(self, path: str | os.PathLike[str], fmt: str | None = None) -> ImportResult:
        """Add what a registry file has and this file lacks; importing twice adds nothing."""
        return self._import_document(_files.read_document(Path(path), fmt))

    def _import_document(self, prompts: list[_files.FilePrompt]) -> ImportResult:
        """The versions and aliases of a file already read and checked, in one transaction."""
        result = ImportResult()
        with self._transaction() as conn:
            for prompt in prompts:
                self._import_prompt(conn, prompt, result)
        return result

    def _import_prompt(
        self, conn: sqlite3.Connection, prompt: _files.FilePrompt, result: ImportResult
    ) -> None:
        """Each file version maps to a version here: the same number if it holds the same
        content; else its own number if that is past the latest here (so numbers survive an
        import into an empty file, reverts included); else the newest version with the same
        content; else a new version at the end. Aliases follow the mapping. Importing the
        same file again finds every mapping, so it adds nothing."""
        rows = conn.execute(
            "SELECT version, hash FROM prompt_versions WHERE name = ? ORDER BY version",
            (prompt.name,),
        ).fetchall()
        existing: dict[int, str] = dict(rows)
        by_hash = {digest: number for number, digest in rows}  # ascending: the newest wins
        mapping: dict[int, int] = {}
        for v in prompt.versions:
            top = max(existing, default=0)
            if existing.get(v.number) == v.hash:
                mapping[v.number] = v.number
            elif v.number <= top and v.hash in by_hash:
                mapping[v.number] = by_hash[v.hash]
            else:
                number = v.number if v.number > top else top + 1
                _insert(
                    conn,
                    prompt.name,
                    number,
                    v.template,
                    v.message,
                    v.model,
                    v.parameters,
                    v.tags,
                    v.created_ns,
                )
                existing[number], by_hash[v.hash], mapping[v.number] = v.hash, number, number
                result.created.append(f"{prompt.name}@{number}")
                continue
            result.unchanged += 1
        self._import_aliases(conn, prompt, mapping, result)

    def _import_aliases(
        self,
        conn: sqlite3.Connection,
        prompt: _files.FilePrompt,
        mapping: dict[int, int],
        result: ImportResult,
    ) -> None:
        current = dict(
            conn.execute(
                "SELECT alias, version FROM prompt_aliases WHERE name = ?", (prompt.name,)
            ).fetchall()
        )
        for alias, number in sorted(prompt.aliases.items()):
            target = mapping[number]
            if current.get(alias) != target:
                conn.execute(_UPSERT_ALIAS, (prompt.name, alias, target, time.time_ns()))
                result.aliases.append(f"{prompt.name}@{alias}→{target}")


def export_text(reader: RegistryReader, fmt: str) -> str:
    """The registry as a JSON or YAML document."""
    prompts = [(reader.versions(name), reader.aliases(name)) for name in reader.names()]
    return _files.dump_text(_files.document(prompts), fmt)
