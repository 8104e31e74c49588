"""Templates: syntax errors point at the character, variables, chat messages, hash, rendering."""

from __future__ import annotations

import re

import pytest

from spyglass.errors import PromptError, PromptTemplateError
from spyglass.prompts._template import (
    Message,
    check_parameters,
    check_tags,
    check_text,
    content_hash,
    normalize,
    variables_of,
)


def test_variables_ordered_by_first_use_and_unique() -> None:
    assert check_text("{b} and {a}, then {b} again; {café}") == ("b", "a", "café")
    assert check_text("no placeholders, {{literal}} braces }}{{") == ()


@pytest.mark.parametrize(
    ("template", "index", "reason"),
    [
        ("Answer }here", 7, "single '}'"),
        ("Answer {here", 7, "never closed"),
        ("{{name}", 6, "single '}'"),
        ("a {} b", 3, "empty placeholder"),
        ("a {0} b", 3, "positional placeholder"),
        ("{x!r}", 2, "conversions ('!')"),
        ("{x:>10}", 2, "format specs"),
        ("{user.name}", 5, "attribute access"),
        ("{items[0]}", 6, "indexing"),
        ("{ name}", 1, "space in placeholder"),
        ("{a{b}}", 2, "cannot nest"),
        ("{1st}", 1, "not a valid variable name"),
    ],
)
def test_syntax_errors_point_at_the_character(template: str, index: int, reason: str) -> None:
    with pytest.raises(PromptTemplateError, match=re.escape(reason)) as caught:
        check_text(template)
    error = caught.value
    assert error.index == index and error.line == 1 and error.column == index + 1
    assert error.caret == f"{template}\n{' ' * index}^"
    assert "\n" not in str(error)  # one line: the CLI prints it as is


def test_error_position_on_a_later_line_and_message() -> None:
    with pytest.raises(PromptTemplateError) as caught:
        normalize([("system", "fine {a}"), ("user", "line one\n  bad } here")])
    error = caught.value
    assert (error.message, error.line, error.column, error.index) == (2, 2, 7, 15)
    assert error.caret == "  bad } here\n      ^"
    assert str(error).startswith("bad template (message 2) at line 2, column 7: single '}'")


def test_a_long_line_is_excerpted_around_the_error() -> None:
    template = "x" * 500 + "}" + "y" * 500
    with pytest.raises(PromptTemplateError) as caught:
        check_text(template)
    assert len(str(caught.value)) < 200 and caught.value.column == 501


def test_chat_messages_are_normalized() -> None:
    body = normalize(
        [("system", "Use {context}"), {"role": "human", "content": "{question}"}, ("AI", "ok")]
    )
    assert body == (
        Message("system", "Use {context}"),
        Message("user", "{question}"),
        Message("assistant", "ok"),
    )
    assert variables_of(body) == ("context", "question")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "template is empty"),
        ("   \n", "template is empty"),
        ([], "at least one message"),
        ({"role": "user", "content": "x"}, "string or a list"),
        (42, "string or a list"),
        (["just text"], "message 1 must be a (role, content) pair"),
        ([("user", "a", "b")], "message 1 must be"),
        ([("robot", "x")], "message 1 has role 'robot'"),
        ([("user", "ok"), {"role": "user"}], "message 2 must be {'role', 'content'}"),
        ([{"role": "user", "content": "x", "name": "n"}], "unknown keys ['name']"),
        ([("user", 3)], "content must be a string"),
    ],
)
def test_bad_templates(template: object, message: str) -> None:
    with pytest.raises(PromptError, match=re.escape(message)):
        normalize(template)


def test_hash_covers_template_model_and_parameters_only() -> None:
    base = content_hash("Q: {q}", None, None)
    assert base == content_hash("Q: {q}", None, {})
    assert len(base) == 64 and int(base, 16) >= 0
    assert base != content_hash("Q: {q} ", None, None)
    assert base != content_hash("Q: {q}", "gpt-4o", None)
    assert base != content_hash("Q: {q}", None, {"temperature": 0})
    assert content_hash("Q: {q}", None, {"a": 1, "b": 2}) == content_hash(
        "Q: {q}", None, {"b": 2, "a": 1}
    )
    chat = (Message("user", "Q: {q}"),)
    assert content_hash(chat, None, None) != base


def test_parameters_and_tags() -> None:
    assert check_parameters({"temperature": 0.2, "stop": ["\n"]}) == {
        "temperature": 0.2,
        "stop": ["\n"],
    }
    assert check_parameters({}) is None and check_parameters(None) is None
    with pytest.raises(PromptError, match="JSON values"):
        check_parameters({"x": object()})
    with pytest.raises(PromptError, match="JSON values"):
        check_parameters({"x": float("nan")})
    with pytest.raises(PromptError, match="JSON object"):
        check_parameters([("a", 1)])
    assert check_tags(("rag", " rag", "v2")) == ("rag", "v2")
    assert check_tags("single") == ("single",)
    with pytest.raises(PromptError, match="non-empty strings"):
        check_tags(["ok", ""])
