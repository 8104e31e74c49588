"""Every span attribute name and environment variable spyglass reads or writes.

The OpenTelemetry GenAI semantic conventions are canonical; names spyglass needs that the
conventions do not define live under ``spyglass.*``. The GenAI conventions moved out of the
semconv package (and are still "Development"), so spyglass keeps its own copy of the strings
rather than importing them.
"""

from __future__ import annotations

from typing import Final

# --- GenAI: operation and model -----------------------------------------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
"""``chat``, ``text_completion``, ``embeddings``, ``retrieval``, ``execute_tool``, ..."""

GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
"""The model provider (``openai``, ``anthropic``, ...); replaces ``gen_ai.system``."""

GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
"""The model name the caller asked for."""

GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
"""The model name the provider says answered."""

GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
"""The provider's id of the completion."""

GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
"""Why the model stopped, one entry per choice (a list of strings)."""

GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
"""Seconds from the request to the first streamed chunk."""

GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
"""Sampling temperature."""

GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
"""Nucleus sampling parameter."""

GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
"""Top-k sampling parameter, or the number of documents a retriever was asked for."""

GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
"""Upper bound on generated tokens."""

GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
"""Stop sequences (a list of strings)."""

GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
"""Sampling seed."""

GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
"""Whether the response was streamed."""

GEN_AI_REQUEST_PARAMETERS: Final = "spyglass.request.parameters"
"""Every request parameter as a JSON object, including those without a GenAI name."""

# --- GenAI: usage -------------------------------------------------------------------------------

GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
"""Input tokens, cached ones included."""

GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
"""Output tokens, reasoning ones included."""

GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
"""Input tokens served from the provider's prompt cache."""

GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
"""Input tokens written to the provider's prompt cache."""

GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
"""Output tokens spent on reasoning."""

SPYGLASS_USAGE_ESTIMATED: Final = "spyglass.usage.estimated"
"""True when token counts were estimated by spyglass, not reported by the model."""

SPYGLASS_USAGE_COUNTED_ELSEWHERE: Final = "spyglass.usage.counted_elsewhere"
"""True on a span whose tokens another span of the trace counts: a framework's LLM span with a
provider-SDK span under it that reported usage. Trace totals skip it, so each call counts once."""

# --- GenAI: content -----------------------------------------------------------------------------

GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
"""JSON list of ``{"role", "parts": [...]}`` sent to the model."""

GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
"""JSON list of ``{"role", "parts": [...], "finish_reason"}`` the model returned."""

GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
"""JSON list of parts, when the API keeps system text apart from the messages."""

GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
"""JSON list of the tools offered to the model."""

# --- GenAI: retrieval, tools, sessions, prompts --------------------------------------------------

GEN_AI_RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
"""The retriever's query."""

GEN_AI_RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"
"""JSON list of ``{"id", "score", "content", "metadata"}``, in rank order."""

GEN_AI_DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
"""The retriever's data source."""

# --- retrieval: which index answered (spyglass's own; the conventions have no such names) -----

SPYGLASS_INDEX_CLASS: Final = "spyglass.retrieval.index.class"
"""Class of the vector store that answered a RETRIEVER span (``InMemoryVectorStore``, ``FAISS``,
``Chroma``, ``SimpleVectorStore``, ...). Every ``spyglass.retrieval.index.*`` attribute is
recorded by ``autolog()`` for LangChain ``VectorStoreRetriever``s and LlamaIndex
``VectorIndexRetriever``s; each is left out where the store does not tell."""

SPYGLASS_INDEX_NAME: Final = "spyglass.retrieval.index.name"
"""The collection or index name (a Chroma collection, a LlamaIndex ``index_id``)."""

SPYGLASS_INDEX_EMBEDDING_MODEL: Final = "spyglass.retrieval.index.embedding_model"
"""The embedding model the store embeds with (its model name, else its class name)."""

SPYGLASS_INDEX_EMBEDDING_DIMENSION: Final = "spyglass.retrieval.index.embedding_dimension"
"""Dimensions of the stored vectors."""

SPYGLASS_INDEX_DOCUMENT_COUNT: Final = "spyglass.retrieval.index.document_count"
"""Documents the store holds (LlamaIndex: nodes, i.e. chunks) when the retrieval ran."""

SPYGLASS_INDEX_FINGERPRINT: Final = "spyglass.retrieval.index.fingerprint"
"""16 hex digits over the multiset of the stored documents' ``(text, metadata)``: not ids (most
stores draw them at random), not vectors (they follow from the text and the embedding model),
not order. Equal in any process for the same contents; changes when a document is added,
removed or edited through the store's API. Absent where the contents cannot be read cheaply."""

#: The index attributes, in the order the viewer lists them.
INDEX_ATTRIBUTES: Final = (
    SPYGLASS_INDEX_CLASS,
    SPYGLASS_INDEX_NAME,
    SPYGLASS_INDEX_EMBEDDING_MODEL,
    SPYGLASS_INDEX_EMBEDDING_DIMENSION,
    SPYGLASS_INDEX_DOCUMENT_COUNT,
    SPYGLASS_INDEX_FINGERPRINT,
)

GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
"""Name of the tool a TOOL span executed."""

GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
"""The model's id for the tool call."""

GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
"""JSON of the tool's arguments."""

GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
"""JSON of what the tool returned."""

GEN_AI_EMBEDDINGS_INPUT_COUNT: Final = "spyglass.embeddings.input_count"
"""How many texts an EMBEDDING span embedded."""

GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
"""The session (conversation) id given by the application."""

GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
"""Name of the registered prompt rendered in this span."""

GEN_AI_PROMPT_VERSION: Final = "gen_ai.prompt.version"
"""Version of the registered prompt rendered in this span."""

GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
"""Frequency penalty."""

GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
"""Presence penalty."""

GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
"""How many candidate completions were asked for (``n``)."""

# --- spyglass's own -----------------------------------------------------------------------------

SPYGLASS_KIND: Final = "spyglass.span.kind"
"""``LLM``, ``CHAIN``, ``RETRIEVER``, ``TOOL``, ``EMBEDDING``, ``AGENT`` or ``RERANKER``."""

SPYGLASS_INPUT: Final = "spyglass.input"
"""JSON of what the span was given."""

SPYGLASS_OUTPUT: Final = "spyglass.output"
"""JSON of what the span produced."""

SPYGLASS_USER_ID: Final = "spyglass.user_id"
"""The end user, as the application names them."""

SPYGLASS_TAGS: Final = "spyglass.tags"
"""Tags (a list of strings)."""

SPYGLASS_METADATA: Final = "spyglass.metadata"
"""JSON object of the application's metadata."""

SPYGLASS_PROJECT: Final = "spyglass.project"
"""The project the trace belongs to (also the resource's ``service.name``)."""

SPYGLASS_EXTERNAL_PARENT: Final = "spyglass.parent.external"
"""Set on a span whose parent was not recorded by spyglass (a user's own OTel span)."""

SPYGLASS_INTEGRATION: Final = "spyglass.integration"
"""Which integration made the span (``langchain``, ``openai``, ``trace``, ...)."""

ERROR_TYPE: Final = "error.type"
"""Fully qualified name of the exception class of a failed span (stable OTel attribute)."""

EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
EXCEPTION_ESCAPED: Final = "exception.escaped"
"""The attributes of an ``exception`` span event (OTel semantic conventions)."""

SERVER_ADDRESS: Final = "server.address"
"""Host of the model server (stable OTel attribute)."""

SERVER_PORT: Final = "server.port"
"""Port of the model server (stable OTel attribute)."""

#: Attributes whose values are text from users or models; ``capture_content=False`` drops them.
CONTENT_ATTRIBUTES: Final = frozenset(
    {
        GEN_AI_INPUT_MESSAGES,
        GEN_AI_OUTPUT_MESSAGES,
        GEN_AI_SYSTEM_INSTRUCTIONS,
        GEN_AI_RETRIEVAL_QUERY_TEXT,
        GEN_AI_TOOL_CALL_ARGUMENTS,
        GEN_AI_TOOL_CALL_RESULT,
        SPYGLASS_INPUT,
        SPYGLASS_OUTPUT,
    }
)

#: Promoted span columns: where each column's value comes from.
KINDS: Final = ("LLM", "CHAIN", "RETRIEVER", "TOOL", "EMBEDDING", "AGENT", "RERANKER")

# --- environment variables ----------------------------------------------------------------------

ENV_DB: Final = "SPYGLASS_DB"
"""Path of the SQLite file; default ``./spyglass.db``."""

ENV_PROJECT: Final = "SPYGLASS_PROJECT"
"""Project name; default ``default``."""

ENV_CAPTURE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""``NO_CONTENT`` turns content capture off, as ``capture_content=False`` does."""

ENV_OTLP_TRACES_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
"""Full OTLP/HTTP traces URL; when set, spans also go there."""

ENV_OTLP_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
"""OTLP/HTTP base URL; ``/v1/traces`` is appended."""

ENV_SDK_DISABLED: Final = "OTEL_SDK_DISABLED"
"""``true`` makes every pipeline record nothing: no SDK span (the provider is a no-op) and no
light span of the LangChain and LlamaIndex integrations (``Pipeline.recording``)."""

ENV_CHILD_SETTINGS: Final = "SPYGLASS_CHILD_SETTINGS"
"""Set by ``autolog`` (JSON, internal) so that its multiprocessing children started by spawn or
forkserver, which do not inherit its memory, record with its settings; removed by
``autolog(disable=True)``."""

# --- provider SDKs (openai, anthropic) ----------------------------------------------------------

SPYGLASS_STREAM_END: Final = "spyglass.stream.end"
"""How a streamed call's span ended: ``done`` (read to the end), ``closed`` (closed or exited
early), ``abandoned`` (garbage-collected, flushed or uninstalled while open) or ``error``."""

HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
"""HTTP status of a failed provider call (stable OTel attribute)."""

GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
"""Dimensions of each vector an EMBEDDING span produced."""

ENV_OPENAI_STREAM_USAGE: Final = "SPYGLASS_OPENAI_STREAM_USAGE"
"""``1`` / ``true``: ask OpenAI chat streams for their token usage
(``stream_options={"include_usage": True}``) when the caller did not set ``stream_options``.
Read when the openai integration installs; off by default."""

# --- appended: LlamaIndex integration ----------------------------------------------------------

GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
"""Name of the agent an AGENT span invoked."""

SPYGLASS_RERANKER_INPUT_DOCUMENTS: Final = "spyglass.reranker.input_documents"
"""JSON list of ``{"id", "score", "content", "metadata"}`` a RERANKER span was given, in input
order; what it returned, with the new scores, is ``gen_ai.retrieval.documents``."""
