"""What a LlamaIndex span is: its readable name, its kind, and its role in collapsing.

The dispatcher names a span ``"{Class}.{method}-{uuid4}"`` and hands over the instance whose
method runs. Everything that decides how spyglass records the span follows from the instance's
class and the method name, so it is computed once per ``(class, method)`` and cached: the
dispatcher calls the span handler for every decorated method, on the caller's thread.

Classes are recognised by the names of LlamaIndex base classes in their MRO (``BaseLLM``,
``BaseRetriever``, ...), never by importing them: nothing here imports LlamaIndex, and a class
from an integration package (``llama_index.llms.openai.OpenAI``) is classified like the core
classes it derives from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Roles: how a span takes part in the tree. ``kind`` is what is stored; the role adds what
# collapsing and the extractors need to know.
LLM: Final = "LLM"
EMBEDDING: Final = "EMBEDDING"
RETRIEVER: Final = "RETRIEVER"
RERANKER: Final = "RERANKER"
TOOL: Final = "TOOL"
AGENT: Final = "AGENT"
ENGINE: Final = "ENGINE"
"""A query or chat engine (stored as CHAIN)."""
SYNTHESIZER: Final = "SYNTHESIZER"
"""A response synthesizer (stored as CHAIN); its helpers are plumbing."""
POSTPROCESSOR: Final = "POSTPROCESSOR"
"""A node postprocessor that is not (yet) known to rerank; ReRank events make it a RERANKER."""
CHAIN: Final = "CHAIN"
"""Anything else: a workflow step, a splitter, a program, a plain function."""

#: Roles of LlamaIndex components: a span of one of these inside a span of the same instance
#: is that component's own plumbing (``query`` → ``_query``, ``predict`` → ``complete``).
COMPONENT_ROLES: Final = frozenset(
    {LLM, EMBEDDING, RETRIEVER, RERANKER, POSTPROCESSOR, TOOL, ENGINE, SYNTHESIZER}
)

#: Methods of an LLM that call the model; other LLM methods (``_prepare_chat_with_tools``,
#: ``get_tool_calls_from_response``) are helpers and stay CHAIN.
LLM_METHODS: Final = frozenset(
    {
        "chat", "achat", "stream_chat", "astream_chat",
        "complete", "acomplete", "stream_complete", "astream_complete",
        "predict", "apredict", "stream", "astream",
        "structured_predict", "astructured_predict",
        "stream_structured_predict", "astream_structured_predict",
        "predict_and_call", "apredict_and_call",
        "chat_with_tools", "achat_with_tools", "stream_chat_with_tools", "astream_chat_with_tools",
    }
)  # fmt: skip
_AGENT_METHODS: Final = frozenset(
    {"run", "chat", "achat", "stream_chat", "astream_chat", "query", "aquery"}
)
_RETRIEVER_METHODS: Final = frozenset({"retrieve", "aretrieve"})
_TOOL_METHODS: Final = frozenset({"call", "acall", "__call__"})

#: MRO class names → role, most specific first.
_BASES: Final = (
    ({"BaseLLM", "MultiModalLLM"}, LLM),
    ({"BaseEmbedding", "BaseSparseEmbedding", "MultiModalEmbedding"}, EMBEDDING),
    ({"BaseRetriever"}, RETRIEVER),
    ({"BaseNodePostprocessor"}, POSTPROCESSOR),
    ({"BaseTool"}, TOOL),
    (
        {"BaseWorkflowAgent", "AgentWorkflow", "BaseAgent", "BaseAgentRunner", "BaseAgentWorker"},
        AGENT,
    ),
    ({"BaseQueryEngine", "BaseChatEngine"}, ENGINE),
    ({"BaseSynthesizer"}, SYNTHESIZER),
)
_KINDS: Final = {
    LLM: "LLM",
    EMBEDDING: "EMBEDDING",
    RETRIEVER: "RETRIEVER",
    RERANKER: "RERANKER",
    TOOL: "TOOL",
    AGENT: "AGENT",
}

#: Provider packages (``llama_index.llms.<package>``) → GenAI ``gen_ai.provider.name``.
_PROVIDERS: Final = {
    "openai": "openai",
    "openai_like": "openai",
    "azure_openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "gemini": "gcp.gemini",
    "google_genai": "gcp.gen_ai",
    "vertex": "gcp.vertex_ai",
    "mistralai": "mistral_ai",
    "groq": "groq",
    "cohere": "cohere",
    "ollama": "ollama",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "xai": "x_ai",
    "ibm": "ibm.watsonx.ai",
}

#: Length of ``-{uuid4}`` at the end of a dispatcher span id.
_UUID_SUFFIX = 37


@dataclass(frozen=True, slots=True)
class Profile:
    """How to record spans of one ``(class, method)``."""

    name: str
    method: str
    role: str
    kind: str
    provider: str | None = None


_CACHE: dict[tuple[type, str], Profile] = {}


def span_name(id_: str) -> str:
    """``"RetrieverQueryEngine.query-<uuid>"`` → ``"RetrieverQueryEngine.query"``."""
    if len(id_) > _UUID_SUFFIX and id_[-_UUID_SUFFIX] == "-":
        return id_[:-_UUID_SUFFIX]
    return id_.partition("-")[0] or id_


def role_of(cls: type, method: str) -> str:
    """The role of ``cls.method``, from the LlamaIndex base classes ``cls`` derives from."""
    names = {base.__name__ for base in cls.__mro__}
    for bases, role in _BASES:
        if names.isdisjoint(bases):
            continue
        if role == LLM:
            return LLM if method in LLM_METHODS else CHAIN
        if role == RETRIEVER:
            return RETRIEVER if method in _RETRIEVER_METHODS else CHAIN
        if role == TOOL:
            return TOOL if method in _TOOL_METHODS else CHAIN
        if role == AGENT:
            return AGENT if method in _AGENT_METHODS else CHAIN
        if role == POSTPROCESSOR and "rerank" in cls.__name__.lower():
            return RERANKER
        return role
    return CHAIN


def provider_of(cls: type) -> str:
    """``gen_ai.provider.name`` of an LLM class: known provider packages by their GenAI name,
    anything else by its class name, lowercased (``MockLLM`` → ``mockllm``)."""
    module = cls.__module__ or ""
    if module.startswith("llama_index.llms."):
        package = module.split(".")[2]
        if package in _PROVIDERS:
            return _PROVIDERS[package]
    lowered = cls.__name__.lower()
    if "azure" in lowered and "openai" in lowered:
        return "azure.ai.openai"
    if lowered.startswith("openai"):
        return "openai"
    return lowered


def profile(instance: object, id_: str) -> Profile:
    """The cached profile of the span ``id_`` of ``instance`` (None: a plain function)."""
    name = span_name(id_)
    cls = type(instance)
    key = (cls, name)
    found = _CACHE.get(key)
    if found is not None:
        return found
    method = name.rpartition(".")[2]
    role = CHAIN if instance is None else role_of(cls, method)
    provider = provider_of(cls) if role == LLM else None
    found = Profile(name, method, role, _KINDS.get(role, "CHAIN"), provider)
    _CACHE[key] = found
    return found


def is_plumbing(parent_role: str, parent_instance: object, parent_method: str,
                role: str, instance: object, method: str) -> bool:  # fmt: skip
    """Whether a span adds nothing to its parent's and is folded into it.

    * The same component calling itself (``query`` → ``_query``, ``retrieve`` → ``_retrieve``,
      ``predict`` → ``complete``, ``acomplete`` → ``complete``, ``get_response`` recursing
      through ``super()``): one logical operation, one span, usage counted once.
    * Any other object calling itself under the same method name, ``_`` + that name, or its
      sync twin (``run`` → ``_run``, ``aquery`` → ``query``).
    * Helpers a synthesizer calls that are not components (text splitters, the refine
      program, prompt helpers): the synthesizer is one step; inside it only model calls and
      other components are shown.
    """
    if instance is not None and instance is parent_instance:
        if parent_role in COMPONENT_ROLES:
            return True
        bare = method.lstrip("_")
        return bare == parent_method.lstrip("_") or f"a{bare}" == parent_method
    return parent_role == SYNTHESIZER and role == CHAIN
