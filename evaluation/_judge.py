"""``LLMJudge``: an evaluator that asks a model to grade an example against a rubric.

The judge can be a LangChain chat model (``.invoke(prompt)`` → message content), an OpenAI or
Anthropic client plus ``model=``, or any callable from prompt text to reply text; each is
adapted once, in ``_ask_function``. The rubric comes from the prompt registry (``_rubrics``),
the reply goes through ``parse_verdict``, and the result is a ``Score`` with ``source="llm"``,
the value normalised to 0..1, a PASS / FAIL label, the reason as comment, and the rubric
version as ``evaluator_version``.

A judgement must never sink a run: a judge that raises, times out, or replies something
unparseable gives a failed score (value ``None``, the reason in the comment).

Each judgement is its own trace (``spyglass.judge.<criterion>``, tagged ``spyglass.judge``),
started from an empty OTel context so that it never nests under the example's trace or
whatever span the caller has open: judge tokens and latency must not count as the app's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping

from spyglass.errors import EvaluationError
from spyglass.evaluation._case import EvalCase
from spyglass.evaluation._rubrics import RUBRICS, Rubric, RubricSource
from spyglass.evaluation._verdict import parse_verdict
from spyglass.tracer._score_types import Score

JUDGE_TAG = "spyglass.judge"
MAX_TOKENS = 512
CONTEXT_CHARS = 12_000
Ask = Callable[[str], str]


def _content_text(content: object) -> str:
    """A chat message's content: a string, or the text parts of a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(str(part["text"]))
        return "".join(parts)
    return "" if content is None else str(content)


def _is_langchain_model(judge: object) -> bool:
    module = sys.modules.get("langchain_core.language_models")
    base = getattr(module, "BaseLanguageModel", None) if module is not None else None
    return isinstance(base, type) and isinstance(judge, base)


def _module_of(judge: object) -> str:
    return type(judge).__module__.split(".", 1)[0]


def _openai_ask(client: object, model: str) -> Ask:
    def ask(prompt: str) -> str:
        # Only what every chat model accepts: reasoning models refuse temperature and
        # max_tokens, and a judge that fails on every example is worse than a warm one.
        reply = client.chat.completions.create(  # type: ignore[attr-defined]
            model=model, messages=[{"role": "user", "content": prompt}]
        )
        return _content_text(reply.choices[0].message.content)

    return ask


def _anthropic_ask(client: object, model: str) -> Ask:
    def ask(prompt: str) -> str:
        reply = client.messages.create(  # type: ignore[attr-defined]
            model=model,
            max_tokens=MAX_TOKENS,  # required by the Messages API
            messages=[{"role": "user", "content": prompt}],
        )
        return "".join(
            block.text for block in reply.content if getattr(block, "type", None) == "text"
        )

    return ask


def _ask_function(judge: object, model: str | None) -> tuple[Ask, str]:
    """One way to ask the judge, and the model's name for the score's evaluator field."""
    if _is_langchain_model(judge) or (
        _module_of(judge).startswith("langchain") and callable(getattr(judge, "invoke", None))
    ):
        name = model or getattr(judge, "model_name", None) or getattr(judge, "model", None)
        invoke = judge.invoke  # type: ignore[attr-defined]
        return (
            lambda prompt: _content_text(getattr(invoke(prompt), "content", None)),
            str(name or type(judge).__name__),
        )
    for module, make in (("openai", _openai_ask), ("anthropic", _anthropic_ask)):
        if _module_of(judge) == module:
            if not model:
                raise EvaluationError(f"an {module} client judge needs model=, e.g. model='...'")
            return make(judge, model), model
    if callable(judge):
        label = model or getattr(judge, "__name__", None) or type(judge).__name__
        label = "callable" if label.startswith("<") else label  # "<lambda>"
        return (lambda prompt: _content_text(judge(prompt))), str(label)
    raise EvaluationError(
        "judge must be a LangChain chat model, an openai / anthropic client (with model=), "
        f"or a callable from prompt text to reply text; got {type(judge).__name__}"
    )


def _context(case: EvalCase) -> str:
    texts = [doc.content for doc in case.documents if doc.content]
    joined = "\n\n".join(f"[{i + 1}] {text}" for i, text in enumerate(texts))
    return joined[:CONTEXT_CHARS]


def _expected(case: EvalCase) -> str:
    if isinstance(case.expected, (list, tuple)):
        return json.dumps(list(case.expected), ensure_ascii=False, default=str)
    return case.expected_text or ""


class LLMJudge:
    """Grade each example with a model: ``LLMJudge(chat_model, criterion="correctness")``.

    ``criterion``: ``relevance``, ``groundedness`` (against the trace's retrieved documents),
    ``correctness`` (against ``expected``), ``toxicity`` (1 = safe), or any name with
    ``rubric=`` text using ``{input}``, ``{output}``, ``{expected}``, ``{context}``.
    ``scale`` is the range the rubric asks for; values are normalised to 0..1.
    """

    source = "llm"

    def __init__(
        self,
        judge: object,
        criterion: str = "correctness",
        *,
        model: str | None = None,
        rubric: str | None = None,
        name: str | None = None,
        scale: tuple[float, float] = (1, 5),
        threshold: float = 0.5,
    ) -> None:
        if not isinstance(criterion, str) or not criterion.strip() or " " in criterion:
            raise EvaluationError(f"criterion must be a word, got {criterion!r}")
        if rubric is None and criterion not in RUBRICS:
            known = ", ".join(sorted(RUBRICS))
            raise EvaluationError(
                f"no built-in rubric for {criterion!r} (built in: {known}); pass rubric= text"
            )
        self.criterion = criterion
        self.name = name or criterion
        self.scale = scale
        self.threshold = threshold
        self._ask, self.model = _ask_function(judge, model)
        self._rubrics = RubricSource(criterion, rubric)
        self.evaluator = f"llm_judge:{criterion}:{self.model}"

    def __repr__(self) -> str:
        return f"LLMJudge({self.criterion!r}, model={self.model!r})"

    def _failed(self, comment: str, version: str | None = None) -> Score:
        return Score(self.name, None, comment, "llm", None, self.evaluator, version)

    def __call__(self, case: EvalCase) -> Score | None:
        if self.criterion == "correctness" and case.expected is None:
            return None  # nothing to grade against: not applicable, not a failure
        if self.criterion == "groundedness" and not _context(case):
            return self._failed("no retrieved document text in the example's trace")
        try:
            rubric = self._rubrics.rubric_for(case.db)
        except Exception as exc:  # a registry problem must not sink the run
            return self._failed(f"cannot load the rubric: {type(exc).__name__}: {exc}")
        values = {
            "input": case.input_text,
            "output": case.output_text,
            "expected": _expected(case),
            "context": _context(case),
        }
        try:
            reply = self._judge_traced(case, rubric, values)
        except Exception as exc:
            return self._failed(f"judge failed: {type(exc).__name__}: {exc}", rubric.version)
        verdict = parse_verdict(reply, self.scale, self.threshold)
        if verdict.error is not None:
            return self._failed(verdict.error, rubric.version)
        return Score(
            self.name,
            verdict.value,
            verdict.reason,
            "llm",
            verdict.label,
            self.evaluator,
            rubric.version,
        )

    def _judge_traced(self, case: EvalCase, rubric: Rubric, values: Mapping[str, str]) -> str:
        """Render and ask inside a new root trace (see the module docstring)."""
        from opentelemetry import context as otel_context

        from spyglass.tracer._trace import trace

        metadata = {"spyglass.judge.criterion": self.criterion, "spyglass.judge.model": self.model}
        if case.trace_id is not None:
            metadata["spyglass.judge.trace_id"] = case.trace_id
        if case.run_id is not None:
            metadata["spyglass.eval.run_id"] = case.run_id
        token = otel_context.attach(otel_context.Context())
        try:
            with trace(self._rubrics.prompt_name, tags=(JUDGE_TAG,), metadata=metadata) as span:
                prompt = rubric.render(values)  # inside the span: links it to the rubric
                if span is not None:
                    span.set_input(prompt)
                reply = self._ask(prompt)
                if span is not None:
                    span.set_output(reply)
                return reply
        finally:
            otel_context.detach(token)
