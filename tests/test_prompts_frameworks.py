"""Framework templates built from a version render exactly as ``format()`` does and carry the
prompt's name and version in their metadata."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from spyglass.errors import PromptError
from spyglass.prompts import PromptRegistry, prompt_attributes

TEXT = "Answer from {context} {{literal}}\nQ: {question}"
CHAT = [("system", 'Use {context}. Reply as {{"answer": ...}}'), ("user", "{question}")]
VALUES = {"context": "the docs", "question": "why?"}
LINKED = {"gen_ai.prompt.name": "qa", "gen_ai.prompt.version": "1"}


@pytest.fixture
def registry(db: Path) -> PromptRegistry:
    return PromptRegistry(db)


def test_to_langchain_text(registry: PromptRegistry) -> None:
    from langchain_core.prompts import PromptTemplate

    v1 = registry.register("qa", TEXT)
    template = v1.to_langchain()
    assert isinstance(template, PromptTemplate)
    assert template.format(**VALUES) == v1.format(**VALUES)
    assert template.metadata == {"spyglass.prompt.name": "qa", "spyglass.prompt.version": 1}
    assert sorted(template.input_variables) == ["context", "question"]
    assert prompt_attributes(template.metadata) == LINKED


def test_to_langchain_chat(registry: PromptRegistry) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    registry.register("qa", TEXT)
    v2 = registry.register("qa", [*CHAT, ("assistant", "Sure.")])
    template = v2.to_langchain()
    assert isinstance(template, ChatPromptTemplate)
    messages = template.format_messages(**VALUES)
    assert [m.type for m in messages] == ["system", "human", "ai"]
    rendered = v2.format(**VALUES)
    assert isinstance(rendered, list)
    assert [m.content for m in messages] == [m["content"] for m in rendered]
    assert template.metadata == {"spyglass.prompt.name": "qa", "spyglass.prompt.version": 2}


def test_to_llama_index(registry: PromptRegistry) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.prompts import ChatPromptTemplate, PromptTemplate

    v1 = registry.register("qa", TEXT)
    text = v1.to_llama_index()
    assert isinstance(text, PromptTemplate)
    assert text.format(**VALUES) == v1.format(**VALUES)  # `{{` escapes carried over
    assert prompt_attributes(text.metadata) == LINKED
    v2 = registry.register("qa", CHAT)
    chat = v2.to_llama_index()
    assert isinstance(chat, ChatPromptTemplate)
    rendered = v2.format(**VALUES)
    assert isinstance(rendered, list)
    assert [m.content for m in chat.format_messages(**VALUES)] == [m["content"] for m in rendered]
    assert chat.metadata["spyglass.prompt.version"] == 2


def test_to_llama_index_refuses_a_literal_that_would_be_filled(registry: PromptRegistry) -> None:
    pytest.importorskip("llama_index.core")
    v1 = registry.register("qa", "Fill {context}; write {{context}} literally")
    with pytest.raises(PromptError, match=r"literal text '\{context\}' would be filled in"):
        v1.to_llama_index()


def test_missing_framework_is_a_clear_error(
    registry: PromptRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = registry.register("qa", TEXT)
    monkeypatch.setitem(sys.modules, "langchain_core.prompts", None)
    monkeypatch.setitem(sys.modules, "llama_index.core.prompts", None)
    with pytest.raises(PromptError, match=r"langchain-core is not installed: pip install"):
        v1.to_langchain()
    with pytest.raises(PromptError, match=r"llama-index-core is not installed"):
        v1.to_llama_index()
