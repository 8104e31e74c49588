// A Node.js app traced by OpenInference's OpenAI instrumentation, exporting with the official
// OTLP/HTTP exporter (JSON), as a TypeScript app compiled to JavaScript would. Run by
// record_typescript.py, which points OTEL_EXPORTER_OTLP_ENDPOINT and FAKE_OPENAI_BASE_URL at
// its own servers.
const { NodeTracerProvider, SimpleSpanProcessor } = require("@opentelemetry/sdk-trace-node");
const { OTLPTraceExporter } = require("@opentelemetry/exporter-trace-otlp-http");
const { resourceFromAttributes } = require("@opentelemetry/resources");
const { OpenAIInstrumentation } = require("@arizeai/openinference-instrumentation-openai");

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ "service.name": "ts-app" }),
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter())],
});
provider.register();
const instrumentation = new OpenAIInstrumentation();
instrumentation.setTracerProvider(provider);
const OpenAI = require("openai");
instrumentation.manuallyInstrument(OpenAI);

(async () => {
  const client = new OpenAI({ baseURL: process.env.FAKE_OPENAI_BASE_URL, apiKey: "sk-test" });
  const reply = await client.chat.completions.create({
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "What is the refund policy?" },
    ],
  });
  console.log(reply.choices[0].message.content);
  await provider.shutdown();
})();
