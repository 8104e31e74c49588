"""Registered prompts never hold a secret: what looks like one is refused, with where it is.

Traces scrub secrets on their way to the file, but a prompt version is refused instead: its
template is the user's own text, which ``format()`` renders and sends to the model, which is
hashed for versioning and exported to a file meant for git. Scrubbing it would silently change
what the program sends and make the registry disagree with that file (a re-import would add a
version); storing it would put the key in the database and, on export, in git. So
registration and import check every stored string (name, template, message, model, parameter
names and values, tags) with the built-in redaction rules and raise ``PromptError`` naming the
field, the line and column and the kind of secret, never the secret itself.

A ``{variable}`` is not literal text: placeholders are blanked before the check, so
``Authorization: Bearer {token}`` and ``password={password}`` are fine, and a secret belongs
in a variable given to ``format()``, whose output spyglass scrubs like any traced text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping

from spyglass.errors import PromptError
from spyglass.prompts._template import Template
from spyglass.tracer._redact import find_secrets

_FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


def _blank(match: re.Match[str]) -> str:
    field = match.group()
    return field if field in ("{{", "}}") else " " * len(field)


def _literal_text(template_text: str) -> str:
    """The template with each ``{placeholder}`` blanked (same length, so positions hold)."""
    return _FIELD.sub(_blank, template_text)


def _parameter_texts(value: object, path: str) -> Iterator[tuple[str, str, bool]]:
    """``(where, text, False)`` for each string in a parameters object; a value is checked
    with its name (``{"api_key": "..."}``), since the name is what says it is a credential."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}[{json.dumps(key, ensure_ascii=False)}]"
            yield where, str(key), False
            if isinstance(item, str):
                yield where, json.dumps({key: item}, ensure_ascii=False), False
            else:
                yield from _parameter_texts(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _parameter_texts(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value, False


def _texts(
    name: str,
    template: Template,
    message: str | None,
    model: str | None,
    parameters: Mapping[str, object] | None,
    tags: tuple[str, ...],
) -> Iterator[tuple[str, str, bool]]:
    """``(where, text, whether a line and column help find it)`` for each stored string."""
    yield "name", name, False
    if isinstance(template, str):
        yield "template", _literal_text(template), True
    else:
        for number, msg in enumerate(template, 1):
            yield f"template message {number} ({msg.role})", _literal_text(msg.content), True
    if message:
        yield "message", message, True
    if model:
        yield "model", model, False
    if parameters:
        yield from _parameter_texts(dict(parameters), "parameters")
    for index, tag in enumerate(tags):
        yield f"tags[{index}]", tag, False


def check_no_secrets(
    name: str,
    template: Template,
    message: str | None = None,
    model: str | None = None,
    parameters: Mapping[str, object] | None = None,
    tags: tuple[str, ...] = (),
) -> None:
    """Raise ``PromptError`` if any stored string of a version looks like it holds a secret."""
    for where, text, locate in _texts(name, template, message, model, parameters, tags):
        found = find_secrets(text)
        if not found:
            continue
        secret = found[0]
        place = ""
        if locate:
            before = text[: secret.start]
            line, column = before.count("\n") + 1, secret.start - before.rfind("\n")
            place = f" at line {line}, column {column}"
        raise PromptError(
            f"{where} holds what looks like {secret.kind}{place}; prompts are stored and "
            "exported as written, so keep secrets out of them (pass one to format() as a "
            "variable instead)"
        )
