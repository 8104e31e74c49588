"""``PromptVersion``: one immutable, numbered version of a registered prompt.

A frozen record built from a ``prompt_versions`` row. ``format()`` renders it (checking that
exactly the template's variables are given) and links the current trace to it (see
``_link``); ``to_langchain()`` and ``to_llama_index()`` build the frameworks' own templates,
importing the framework only when called, with the name and version in their metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from spyglass.errors import PromptError
from spyglass.prompts._link import link_rendered, template_metadata
from spyglass.prompts._template import (
    Message,
    Template,
    render_text,
    to_jsonable,
    unescaped_with_fields,
)

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate as LCChat
    from langchain_core.prompts import PromptTemplate as LCText
    from llama_index.core.prompts import ChatPromptTemplate as LIChat
    from llama_index.core.prompts import PromptTemplate as LIText

#: Columns read from ``prompt_versions``, in ``PromptVersion.from_row`` order.
VERSION_COLUMNS = (
    "name, version, kind, template, variables, hash, message, created_ns, model, parameters, tags"
)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def from_ns(ns: int) -> datetime:
    """Epoch nanoseconds as a UTC datetime, exact to the microsecond (no float rounding, so
    times survive an export and import unchanged)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def to_ns(moment: datetime) -> int:
    """A datetime (naive means UTC) as epoch nanoseconds, exactly."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return (aware - _EPOCH) // timedelta(microseconds=1) * 1000


def iso_utc(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and a ``Z``, as every ``--json`` output writes times."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _missing_module(framework: str, extra: str) -> PromptError:
    return PromptError(
        f"{framework} is not installed: pip install 'spyglass-trace[{extra}]' to use this"
    )


@dataclass(frozen=True)
class PromptVersion:
    """One version of a prompt: ``v.format(**variables)``, ``v.to_langchain()``, ..."""

    name: str
    version: int
    template: Template
    variables: tuple[str, ...]
    hash: str
    message: str | None
    created_at: datetime
    model: str | None = None
    parameters: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    tags: tuple[str, ...] = ()

    def __hash__(self) -> int:  # parameters is a mapping; the content hash identifies a version
        return hash((self.name, self.version, self.hash))

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> PromptVersion:
        name, version, kind, template, variables, digest, message, created_ns = row[:8]
        model, parameters, tags = row[8:11]
        body: Template = template
        if kind == "chat":
            body = tuple(Message(m["role"], m["content"]) for m in json.loads(template))
        return cls(
            name=name,
            version=version,
            template=body,
            variables=tuple(json.loads(variables)),
            hash=digest,
            message=message,
            created_at=from_ns(created_ns),
            model=model,
            parameters=MappingProxyType(json.loads(parameters) if parameters else {}),
            tags=tuple(json.loads(tags)),
        )

    @property
    def is_chat(self) -> bool:
        return not isinstance(self.template, str)

    @property
    def ref(self) -> str:
        """``name@version``, as ``get()`` and the CLI accept it."""
        return f"{self.name}@{self.version}"

    def _check_variables(self, given: Mapping[str, object]) -> None:
        missing = [name for name in self.variables if name not in given]
        unknown = sorted(name for name in given if name not in self.variables)
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown)}")
        if problems:
            uses = ", ".join(self.variables) or "none"
            raise PromptError(
                f"cannot render {self.ref}: {'; '.join(problems)} (its variables: {uses})"
            )

    def format(self, **variables: object) -> str | list[dict[str, str]]:
        """The rendered prompt: a string, or a list of ``{"role", "content"}`` for a chat
        prompt. Every variable must be given, and no other. Inside a traced block, the current
        span and the LLM spans started after it are linked to this version."""
        self._check_variables(variables)
        rendered: str | list[dict[str, str]]
        if isinstance(self.template, str):
            rendered = render_text(self.template, variables, self.ref)
        else:
            rendered = [
                {"role": m.role, "content": render_text(m.content, variables, self.ref)}
                for m in self.template
            ]
        link_rendered(self.name, self.version)
        return rendered

    def to_dict(self) -> dict[str, object]:
        """The documented JSON form (``spyglass prompts show --json``)."""
        return {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "is_chat": self.is_chat,
            "template": to_jsonable(self.template),
            "variables": list(self.variables),
            "hash": self.hash,
            "message": self.message,
            "created_at": iso_utc(self.created_at),
            "model": self.model,
            "parameters": dict(self.parameters),
            "tags": list(self.tags),
        }

    def to_langchain(self) -> LCText | LCChat:
        """A ``langchain_core`` ``PromptTemplate`` (text) or ``ChatPromptTemplate`` (chat)
        whose ``metadata`` names this version, so the LangChain integration links its runs."""
        try:
            from langchain_core.prompts import ChatPromptTemplate, PromptTemplate
        except ImportError:
            raise _missing_module("langchain-core", "langchain") from None
        metadata = template_metadata(self.name, self.version)
        if isinstance(self.template, str):
            return PromptTemplate(
                template=self.template,
                input_variables=list(self.variables),
                metadata=metadata,
            )
        messages = [(m.role, m.content) for m in self.template]
        return ChatPromptTemplate(messages, metadata=metadata)

    def _llama_index_text(self, text: str) -> str:
        # LlamaIndex substitutes `{name}` by regex and has no `{{` escape: literal braces go
        # in single, which is only safe if no literal `{variable}` would be substituted.
        converted, literal = unescaped_with_fields(text)
        for name in self.variables:
            if "{" + name + "}" in literal:
                raise PromptError(
                    f"{self.ref} cannot be a LlamaIndex template: its literal text "
                    f"'{{{name}}}' would be filled in as the variable {name!r}"
                )
        return converted

    def to_llama_index(self) -> LIText | LIChat:
        """A ``llama_index.core`` ``PromptTemplate`` or ``ChatPromptTemplate`` with this
        version's name and version in ``metadata``."""
        try:
            from llama_index.core.llms import ChatMessage
            from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate
        except ImportError:
            raise _missing_module("llama-index-core", "llama-index") from None
        metadata = template_metadata(self.name, self.version)
        if isinstance(self.template, str):
            return PromptTemplate(self._llama_index_text(self.template), metadata=metadata)
        messages = [
            ChatMessage(role=m.role, content=self._llama_index_text(m.content))
            for m in self.template
        ]
        return ChatPromptTemplate(messages, metadata=metadata)
