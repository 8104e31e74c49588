"""An app traced by OpenInference (not by spyglass), seen in spyglass through ``spyglass collect``.

The app sets up the plain OpenTelemetry SDK with the standard OTLP/HTTP exporter, which reads
``OTEL_EXPORTER_OTLP_ENDPOINT``, and instruments LangChain with OpenInference, as a Phoenix
user would. Nothing here imports spyglass. The chain retrieves two scored documents and asks
LangChain's ``FakeListChatModel``, so it runs with no network and no key.

    spyglass collect &                                    # terminal 1 (or another terminal)
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python examples/already_instrumented.py
    spyglass traces --project support-bot && spyglass show <TRACE> --full

Needs ``pip install 'spyglass-trace[collect]' openinference-instrumentation-langchain``.
"""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.language_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

try:
    from openinference.instrumentation.langchain import LangChainInstrumentor
except ModuleNotFoundError as missing:  # not in the "try it" set-up (it is in the dev extra)
    raise SystemExit(
        f"this example needs OpenInference's LangChain instrumentor ({missing}): "
        "pip install openinference-instrumentation-langchain"
    ) from None

DOCUMENTS = [
    Document("Refunds are accepted within 30 days.", metadata={"score": 0.91}, id="refunds"),
    Document("Shipping is free over 50 euros.", metadata={"score": 0.42}, id="shipping"),
]


class PolicyRetriever(BaseRetriever):
    """Returns the policy documents with their relevance in ``metadata["score"]``."""

    def _get_relevant_documents(self, query: str, *, run_manager: object = None) -> list[Document]:
        return DOCUMENTS


def main() -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    LangChainInstrumentor().instrument(tracer_provider=provider)
    chain = (
        {"context": PolicyRetriever(), "question": RunnablePassthrough()}
        | ChatPromptTemplate.from_messages(
            [("system", "Answer from: {context}"), ("human", "{question}")]
        )
        | FakeListChatModel(responses=["Within 30 days."])
        | StrOutputParser()
    )
    for question in ("How long do I have to return an item?", "Is shipping free?"):
        print(question, "->", chain.invoke(question, config={"metadata": {"session_id": "demo"}}))
    provider.shutdown()  # sends what is left


if __name__ == "__main__":
    main()
