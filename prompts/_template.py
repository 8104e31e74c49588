"""Prompt templates: checking, variables, the content hash, and rendering. Pure functions.

A template is Python format syntax restricted to what LangChain, LlamaIndex and ``str.format``
all read the same way: ``{name}`` placeholders whose name is an identifier, and ``{{`` / ``}}``
for literal braces. Format specs (``{x:>10}``), conversions (``{x!r}``), positional fields
(``{}``, ``{0}``), attribute access and indexing (``{a.b}``, ``{a[0]}``) are refused at
registration, so a registered prompt renders identically through ``format()``,
``to_langchain()`` and ``to_llama_index()``.

``string.Formatter().parse`` says *whether* a template is valid Python format syntax but not
*where* it is not; ``check_text`` scans the text itself so that the error points at the
offending character (index, line, column and a caret), then the variables come from
``Formatter().parse``, which after the scan cannot fail.

A chat template is a tuple of ``Message(role, content)``; each content is a text template.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from spyglass.errors import PromptError, PromptTemplateError
from spyglass.prompts._refs import shown

ROLES = ("system", "user", "assistant")
#: LangChain's spellings, accepted and stored as the standard roles.
ROLE_ALIASES = {"human": "user", "ai": "assistant"}

_EXCERPT = 30  # characters shown each side of an error position in the one-line message


class Message(NamedTuple):
    """One message of a chat template."""

    role: str
    content: str


Template = str | tuple[Message, ...]


def _template_error(text: str, index: int, reason: str, message: int | None) -> PromptError:
    before = text[:index]
    line = before.count("\n") + 1
    column = index - (before.rfind("\n") + 1) + 1
    line_text = text.split("\n")[line - 1]
    start = max(0, column - 1 - _EXCERPT)
    excerpt = line_text[start : column - 1 + _EXCERPT]
    where = f" (message {message})" if message is not None else ""
    return PromptTemplateError(
        f"bad template{where} at line {line}, column {column}: {reason}; near {excerpt!r}",
        index=index,
        line=line,
        column=column,
        caret=f"{line_text}\n{' ' * (column - 1)}^",
        message=message,
    )


def _field_problem(field: str) -> tuple[int, str] | None:
    """What is wrong with the inside of a ``{...}``, and where (offset into ``field``)."""
    if not field:
        return 0, "empty placeholder '{}': name the variable, e.g. '{question}'"
    for offset, char in enumerate(field):
        if char in "!:":
            return offset, (
                f"format specs and conversions ('{char}') are not supported: write '{{name}}' "
                "and format the value before passing it"
            )
        if char in ".[":
            return offset, "attribute access and indexing are not supported in placeholders"
        if char.isspace():
            return offset, f"space in placeholder {{{field}}}: write {{{field.strip()}}}"
    if field.isdigit():
        return 0, f"positional placeholder {{{field}}}: name the variable, e.g. '{{question}}'"
    if not field.isidentifier():
        return 0, f"{{{field}}} is not a valid variable name (letters, digits, '_')"
    return None


def check_text(text: str, message: int | None = None) -> tuple[str, ...]:
    """The variables of a text template, ordered by first use and unique; raises
    ``PromptTemplateError`` pointing at the first character that breaks the syntax."""
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        if text.startswith(("{{", "}}"), i):
            i += 2
        elif char == "}":
            raise _template_error(text, i, "single '}' (write '}}' for a literal brace)", message)
        elif char == "{":
            end = text.find("}", i + 1)
            nested = text.find("{", i + 1)
            if end < 0:
                reason = "'{' is never closed (write '{{' for a literal brace)"
                raise _template_error(text, i, reason, message)
            if 0 <= nested < end:
                reason = "'{' inside a placeholder (placeholders cannot nest)"
                raise _template_error(text, nested, reason, message)
            problem = _field_problem(text[i + 1 : end])
            if problem is not None:
                raise _template_error(text, i + 1 + problem[0], problem[1], message)
            i = end + 1
        else:
            i += 1
    names = (field for _, field, _, _ in string.Formatter().parse(text) if field is not None)
    return tuple(dict.fromkeys(names))


def _message(item: object, number: int) -> Message:
    if isinstance(item, Mapping):
        extra = sorted(set(map(str, item)) - {"role", "content"})
        if extra or "role" not in item or "content" not in item:
            problem = f"unknown keys {extra}" if extra else "it needs 'role' and 'content'"
            raise PromptError(f"message {number} must be {{'role', 'content'}}: {problem}")
        role, content = item["role"], item["content"]
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        role, content = item
    else:
        raise PromptError(
            f"message {number} must be a (role, content) pair or a {{'role', 'content'}} "
            f"mapping, got {type(item).__name__}"
        )
    if not isinstance(role, str) or ROLE_ALIASES.get(role.lower(), role.lower()) not in ROLES:
        raise PromptError(
            f"message {number} has role {shown(role)}; roles are {', '.join(ROLES)} "
            "(human and ai are accepted as user and assistant)"
        )
    if not isinstance(content, str):
        raise PromptError(
            f"message {number} content must be a string, got {type(content).__name__}"
        )
    return Message(ROLE_ALIASES.get(role.lower(), role.lower()), content)


def normalize(template: object) -> Template:
    """A text template as given, or a chat template as a tuple of ``Message``; checked."""
    if isinstance(template, str):
        if not template.strip():
            raise PromptError("template is empty")
        check_text(template)
        return template
    if isinstance(template, Mapping) or not isinstance(template, Sequence):
        raise PromptError(
            "template must be a string or a list of (role, content) messages, "
            f"got {type(template).__name__}"
        )
    if not template:
        raise PromptError("a chat template needs at least one message")
    messages = tuple(_message(item, number) for number, item in enumerate(template, 1))
    for number, msg in enumerate(messages, 1):
        check_text(msg.content, number)
    return messages


def variables_of(template: Template) -> tuple[str, ...]:
    """Every variable, ordered by first use across the messages, unique."""
    if isinstance(template, str):
        return check_text(template)
    names: list[str] = []
    for number, msg in enumerate(template, 1):
        names.extend(check_text(msg.content, number))
    return tuple(dict.fromkeys(names))


def to_jsonable(template: Template) -> str | list[dict[str, str]]:
    """The stored and exported form: the text, or a list of ``{"role", "content"}``."""
    if isinstance(template, str):
        return template
    return [{"role": msg.role, "content": msg.content} for msg in template]


def content_hash(
    template: Template, model: str | None, parameters: Mapping[str, object] | None
) -> str:
    """sha256 of a canonical JSON of what decides a model's output: template, model, params."""
    payload = {
        "template": to_jsonable(template),
        "model": model,
        "parameters": dict(parameters or {}),
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_parameters(parameters: object) -> dict[str, object] | None:
    """A JSON object (round-tripped to plain dicts and lists), or None when empty."""
    if parameters is None:
        return None
    if not isinstance(parameters, Mapping) or not all(isinstance(k, str) for k in parameters):
        raise PromptError(
            f"parameters must be a JSON object (string keys), got {type(parameters).__name__}"
        )
    try:
        plain = json.loads(json.dumps(dict(parameters), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise PromptError(f"parameters must be JSON values: {exc}") from None
    return plain or None


def check_tags(tags: Iterable[str] | str) -> tuple[str, ...]:
    """Tags as a tuple of non-empty strings, in order, without duplicates."""
    items = (tags,) if isinstance(tags, str) else tuple(tags)
    for tag in items:
        if not isinstance(tag, str) or not tag.strip():
            raise PromptError(f"tags must be non-empty strings, got {shown(tag)}")
    return tuple(dict.fromkeys(tag.strip() for tag in items))


def render_text(text: str, values: Mapping[str, object], where: str) -> str:
    """``text`` with its placeholders filled; the variable set was checked by the caller."""
    try:
        return text.format_map(values)
    except Exception as exc:  # a value whose __format__ fails
        raise PromptError(f"cannot render {where}: {type(exc).__name__}: {exc}") from None


def unescaped_with_fields(text: str) -> tuple[str, str]:
    """The template in LlamaIndex's syntax, which has no ``{{`` escape: literal braces become
    single braces, placeholders stay. Also returns the literal text alone (placeholders as
    NUL), to check that no literal ``{name}`` would be taken for a placeholder."""
    parts: list[str] = []
    literals: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(text):
        parts.append(literal)
        literals.append(literal)
        if field is not None:
            parts.append("{" + field + "}")
            literals.append("\0")
    return "".join(parts), "".join(literals)
