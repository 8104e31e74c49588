"""The Prompt tab's data: the version a span rendered, and its diff against the one before.

The registry belongs to ``spyglass.prompts``; the viewer only reads it, through the public
``PromptRegistry`` (``versions``, ``get``, ``diff``), and only calls that when a span names a
prompt. Any failure (no registry in the file, a version deleted, an older spyglass) degrades to
the name and version the span itself recorded, with a note saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from spyglass.viewer._format import moment


@dataclass(frozen=True)
class PromptInfo:
    name: str
    version: str | None
    template: str | None = None
    message: str | None = None
    created_at: str | None = None
    previous: int | None = None
    diff: str | None = None
    note: str | None = None


class _Version(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def template(self) -> object: ...
    @property
    def message(self) -> str | None: ...
    @property
    def created_at(self) -> object: ...


class _Registry(Protocol):
    def versions(self, name: str) -> Sequence[_Version]: ...
    def diff(self, name: str, a: int, b: int) -> object: ...
    def close(self) -> None: ...


def template_text(template: object) -> str:
    """A text template as is; a chat template as ``role: content`` lines."""
    if isinstance(template, str):
        return template
    if isinstance(template, (list, tuple)):
        lines = []
        for message in template:
            role = getattr(message, "role", None)
            content = getattr(message, "content", None)
            if isinstance(message, dict):
                role, content = message.get("role"), message.get("content")
            lines.append(f"{role}: {content}")
        return "\n".join(lines)
    return str(template)


def _open_registry(db: Path) -> _Registry:
    # Read-only: the viewer must work on a file it cannot write, and never change one.
    from spyglass.prompts._reader import RegistryReader
    from spyglass.tracer._db import open_for_read

    registry: _Registry = RegistryReader(open_for_read, db)
    return registry


def load_prompt_info(db: Path, name: str, version: str | None) -> PromptInfo:
    """Read the version from the registry; never raises (the tab shows a note instead)."""
    if version is None or not version.isdigit():
        return PromptInfo(name, version, note="the span names no registered version number")
    try:
        registry = _open_registry(db)
    except Exception as exc:  # no registry module or file: show what the span says
        return PromptInfo(name, version, note=f"prompt registry not available: {exc}")
    try:
        return _from_registry(registry, name, int(version))
    except Exception as exc:
        return PromptInfo(name, version, note=f"not in the registry: {exc}")
    finally:
        registry.close()


def _when(created_at: object) -> str:
    """The version's time in the form every view uses (``2026-11-23 09:00:00 UTC``)."""
    if isinstance(created_at, datetime):
        return f"{moment(created_at)} UTC"
    return str(created_at)


def _from_registry(registry: _Registry, name: str, number: int) -> PromptInfo:
    versions = list(registry.versions(name))
    found = next((v for v in versions if v.version == number), None)
    if found is None:
        known = ", ".join(str(v.version) for v in versions)
        return PromptInfo(name, str(number), note=f"no version {number} (versions: {known})")
    earlier = [v.version for v in versions if v.version < number]
    previous = max(earlier) if earlier else None
    diff = str(registry.diff(name, previous, number)) if previous is not None else None
    return PromptInfo(
        name,
        str(number),
        template=template_text(found.template),
        message=found.message,
        created_at=_when(found.created_at),
        previous=previous,
        diff=diff,
    )
