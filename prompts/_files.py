"""Registry files: the whole registry as one JSON or YAML document, so prompts can live in git.

    spyglass_prompts: 1
    prompts:
    - name: qa
      aliases: {production: 2}
      versions:
      - version: 1
        hash: 5c0f...            # informational: recomputed on import
        created_at: '2026-11-26T17:07:31.123456Z'
        message: first cut       # message, model, parameters, tags: left out when empty
        template: |-
          Answer from {context}
          Q: {question}
      - version: 2
        template:                # a chat prompt: a list of {role, content}
        - {role: system, content: 'Use {context}'}
        - {role: user, content: '{question}'}

One file rather than a folder: one atomic write, one thing to review in a pull request. The
format follows the file's extension (``.json``, ``.yaml``, ``.yml``); YAML needs PyYAML and is
written with block scalars so multi-line templates diff line by line. Output is deterministic
(no export time, prompts by name, versions by number), so re-exporting an unchanged registry
changes nothing in git. Every problem in a file is an error naming the file and the place.

A file is untrusted input: it is read up to ``MAX_FILE_BYTES``, YAML through ``_yaml.load``
(aliases, nodes and nesting bounded: no "billion laughs"), JSON nested at most
``_yaml.MAX_DEPTH`` levels, and values quoted in errors are cut short (``shown``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from spyglass.errors import PromptError, one_line
from spyglass.prompts import _yaml as _yaml_module
from spyglass.prompts._refs import check_alias, check_name, check_version, shown
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
from spyglass.prompts._version import PromptVersion, iso_utc, to_ns

#: The largest registry, template or chat file read; a real one is far smaller.
MAX_FILE_BYTES = 8 * 1024 * 1024
FORMAT_KEY = "spyglass_prompts"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FileVersion:
    """One version as read from a registry file, checked and hashed."""

    number: int
    template: Template
    variables: tuple[str, ...]
    hash: str
    message: str | None
    model: str | None
    parameters: dict[str, object] | None
    tags: tuple[str, ...]
    created_ns: int | None


@dataclass(frozen=True)
class FilePrompt:
    name: str
    versions: tuple[FileVersion, ...]
    aliases: dict[str, int]


def format_for(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """``json`` or ``yaml``: as given, else from the file's extension."""
    if explicit is not None:
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise PromptError(f"{path}: use a .json, .yaml or .yml file (or give the format)")


def _yaml() -> Any:
    return _yaml_module.pyyaml()


def read_limited(path: Path) -> str:
    """A text file of at most ``MAX_FILE_BYTES``; anything else is a ``PromptError``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise PromptError(f"{path} is larger than {_LIMIT}, the most spyglass reads")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise PromptError(f"cannot read {path}: {reason}") from None


_LIMIT = f"{MAX_FILE_BYTES // 2**20} MB"


def _nested_within(data: object, limit: int) -> bool:
    """No list or dict in ``data`` sits more than ``limit`` levels deep (walked iteratively)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > limit:
                return False
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return True


def parse_text(text: str, fmt: str, source: str) -> object:
    """JSON or YAML text to Python data; syntax errors and refusals name the source."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise PromptError(f"{source}: not valid JSON: {detail}") from None
        if not _nested_within(data, _yaml_module.MAX_DEPTH):
            raise PromptError(
                f"{source}: refused: it nests more than {_yaml_module.MAX_DEPTH} levels deep"
            )
        return data
    yaml = _yaml()
    try:
        return _yaml_module.load(text)
    except _yaml_module.YamlLimit as exc:
        raise PromptError(f"{source}: refused: {exc}") from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an int of 5,000 digits
        detail = one_line(" ".join(str(exc).split()), 300)
        raise PromptError(f"{source}: not valid YAML: {detail}") from None


def dump_text(document: object, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    yaml = _yaml()

    # A subclass: adding a representer must not change PyYAML's global state.
    dumper: Any = type("Dumper", (yaml.SafeDumper,), {})

    def text(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    dumper.add_representer(str, text)
    return str(yaml.dump(document, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100))


def write_atomically(path: Path, content: str) -> None:
    """Write next to the target and rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- export ---------------------------------------------------------------------------------------


def version_entry(version: PromptVersion) -> dict[str, object]:
    entry: dict[str, object] = {
        "version": version.version,
        "hash": version.hash,
        "created_at": iso_utc(version.created_at),
    }
    if version.message:
        entry["message"] = version.message
    if version.model:
        entry["model"] = version.model
    if version.parameters:
        entry["parameters"] = dict(version.parameters)
    if version.tags:
        entry["tags"] = list(version.tags)
    entry["template"] = to_jsonable(version.template)
    return entry


def document(prompts: list[tuple[list[PromptVersion], dict[str, int]]]) -> dict[str, object]:
    """The file's content for ``(versions, aliases)`` of each prompt."""
    return {
        FORMAT_KEY: FORMAT_VERSION,
        "prompts": [
            {
                "name": versions[0].name,
                "aliases": dict(sorted(aliases.items())),
                "versions": [version_entry(v) for v in versions],
            }
            for versions, aliases in prompts
        ],
    }


# -- import ---------------------------------------------------------------------------------------


def _field(item: Mapping[str, Any], key: str, kind: type, where: str, required: bool) -> Any:
    value = item.get(key)
    if value is None:
        if required:
            raise PromptError(f"{where}: {key!r} is missing")
        return None
    if not isinstance(value, kind):
        raise PromptError(f"{where}: {key!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _created_ns(value: object, where: str) -> int | None:
    if value is None:
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PromptError(
                f"{where}: created_at {shown(value)} is not an ISO 8601 time"
            ) from None
    if not isinstance(moment, datetime):
        raise PromptError(f"{where}: created_at must be an ISO 8601 time")
    ns = to_ns(moment)
    if not -(2**63) <= ns < 2**63:  # stored as SQLite's 64-bit nanoseconds
        raise PromptError(f"{where}: created_at {shown(value)} is not between 1678 and 2262")
    return ns


def _file_version(item: object, name: str, where: str) -> FileVersion:
    if not isinstance(item, Mapping):
        raise PromptError(f"{where}: each version must be a mapping")
    try:
        number = check_version(item.get("version"))
        template = normalize(item.get("template"))
        model = _field(item, "model", str, where, required=False)
        parameters = check_parameters(item.get("parameters"))
        tags = check_tags(item.get("tags") or ())
    except PromptError as exc:
        raise PromptError(f"{where}: {exc}") from None
    message = _field(item, "message", str, where, required=False)
    try:
        check_no_secrets(name, template, message, model, parameters, tags)
    except PromptError as exc:
        raise PromptError(f"{where}: {exc}") from None
    return FileVersion(
        number=number,
        template=template,
        variables=variables_of(template),
        hash=content_hash(template, model, parameters),
        message=message,
        model=model,
        parameters=parameters,
        tags=tags,
        created_ns=_created_ns(item.get("created_at"), where),
    )


def _file_prompt(item: object, where: str) -> FilePrompt:
    if not isinstance(item, Mapping):
        raise PromptError(f"{where}: each prompt must be a mapping")
    try:
        name = check_name(item.get("name"))
    except PromptError as exc:
        raise PromptError(f"{where}: {exc}") from None
    where = f"{where} ({name})"
    raw_versions = _field(item, "versions", list, where, required=True)
    versions = [
        _file_version(v, name, f"{where}.versions[{i}]") for i, v in enumerate(raw_versions)
    ]
    numbers = [v.number for v in versions]
    if not versions or len(set(numbers)) != len(numbers):
        raise PromptError(f"{where}: needs versions with distinct numbers, got {numbers}")
    aliases = _field(item, "aliases", dict, where, required=False) or {}
    for alias, number in aliases.items():
        try:
            check_alias(alias)
            check_version(number)
        except PromptError as exc:
            raise PromptError(f"{where}: {exc}") from None
        if number not in numbers:
            raise PromptError(f"{where}: alias {alias!r} points at version {number!r}, not here")
    return FilePrompt(name, tuple(sorted(versions, key=lambda v: v.number)), dict(aliases))


def read_document(path: Path, fmt: str | None = None) -> list[FilePrompt]:
    """Every prompt of a registry file, checked; raises naming the file and the place."""
    fmt = format_for(path, fmt)
    data = parse_text(read_limited(path), fmt, str(path))
    if not isinstance(data, Mapping) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise PromptError(
            f"{path} is not a spyglass prompts file (expected '{FORMAT_KEY}: {FORMAT_VERSION}')"
        )
    items = _field(data, "prompts", list, str(path), required=True)
    prompts = [_file_prompt(item, f"{path}: prompts[{i}]") for i, item in enumerate(items)]
    names = [p.name for p in prompts]
    if len(set(names)) != len(names):
        raise PromptError(f"{path}: a prompt appears twice")
    return prompts


def read_messages(text: str, source: str) -> object:
    """A chat template from a file: a JSON or YAML list of ``{role, content}``."""
    fmt = "yaml" if source.lower().endswith((".yaml", ".yml")) else "json"
    data = parse_text(text, fmt, source)
    if not isinstance(data, list):
        raise PromptError(f"{source}: a chat prompt is a list of {{role, content}} messages")
    return data
