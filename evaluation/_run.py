"""``spyglass.evaluate``: run a traced app over a dataset, score it, store the run.

A run has two phases. First every example runs the target inside its own trace
(``eval:<run name>``, tagged ``spyglass.eval``, the run id and example position in the
inherited metadata, so every span of the example, LangChain's included, names the run). Then,
after one flush, the evaluators score each example, reading what its trace recorded in a few
batched queries. Two phases because trace-based evaluators need the spans in the file, and
one flush is far cheaper than one per example.

Both phases use a pool of threads (``_eval_pool``); each task runs in a copy of the caller's
``contextvars`` context and starts from an empty OTel context, so each example is its own root
trace even when ``evaluate`` is called inside a span, while the caller's inherited session,
user and tags still apply. A failing
example is recorded (its error, its trace) and the run goes on; an interrupted run is marked
``failed`` with the examples it finished.

Where traces go: the active pipeline's file (autolog's). With none active, ``evaluate`` turns
autolog on for ``db`` for the run and off afterwards, so framework calls inside the target are
traced too. ``autolog`` is passed in by the facade (``spyglass.evaluate``): it wires every
integration, the facade's job, not evaluation's. Asking for another ``db`` than the active
pipeline's is an error: the run's rows and its traces must be in one file for the evaluators
and the viewer to join them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from spyglass.errors import EvaluationError
from spyglass.evaluation._bind import Bound, bind
from spyglass.evaluation._case import EvalCase, TraceFacts
from spyglass.evaluation._datasets import Dataset, Example, load_dataset
from spyglass.evaluation._facts import load_facts, prompt_versions_seen
from spyglass.evaluation._metrics import compute_metrics
from spyglass.evaluation._pool import pooled
from spyglass.evaluation._progress import Reporter, reporter
from spyglass.evaluation._records import EvalResult, EvalRow, RunInfo
from spyglass.evaluation._store import finish_run, new_run_id, start_run, write_rows
from spyglass.evaluation._targets import Call, adapt_target, describe

EVAL_TAG = "spyglass.eval"
RUN_KEY = "spyglass.eval.run_id"
EXAMPLE_KEY = "spyglass.eval.example"
WRITE_BATCH = 100
T = TypeVar("T")
R = TypeVar("R")
Autolog = Callable[..., None]
"""``spyglass.autolog``: ``autolog(db=path)`` turns tracing on, ``autolog(disable=True)`` off."""


@dataclass(frozen=True)
class Outcome:
    """What running the target on one example gave."""

    example: Example
    trace_id: str | None
    output: object
    error: str | None
    latency_ms: float


@dataclass(frozen=True)
class Storage:
    path: Path
    project: str | None
    traces_stored: bool
    flush: Callable[[], object]


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


@contextmanager
def _storage(db: str | Path | None, autolog: Autolog) -> Iterator[Storage]:
    """Where the run's traces and rows go (see the module docstring)."""
    from spyglass.tracer._config import default_db
    from spyglass.tracer._runtime import active, ensure

    pipeline = active()
    if pipeline is None:
        path = Path(db) if db is not None else default_db()
        autolog(db=path)
        started = ensure()
        try:
            yield Storage(path, started.settings.project, True, started.flush)
        finally:
            autolog(disable=True)
        return
    traces = pipeline.settings.db
    if db is not None and traces is not None and not _same_file(Path(db), traces):
        raise EvaluationError(
            f"evaluate(db={str(db)!r}) but traces go to {traces} (the active pipeline): "
            f"call spyglass.autolog(db={str(db)!r}) first, or leave db out"
        )
    path = Path(db) if db is not None else traces or default_db()
    yield Storage(path, pipeline.settings.project, traces is not None, pipeline.flush)


def _pooled(
    items: Sequence[T], work: Callable[[T], R], concurrency: int, bar: Reporter
) -> Iterator[R]:
    """Results of ``work`` over ``items`` as they finish (see ``_eval_pool``)."""
    for result in pooled(items, work, concurrency):
        bar.advance()
        yield result


def _root_context() -> object:
    """Detach from any span the caller has open: each example is a new trace."""
    from opentelemetry import context as otel_context

    return otel_context.attach(otel_context.Context())


class _Run:
    """One run's state while it executes (the public entry point is ``evaluate``)."""

    def __init__(
        self, storage: Storage, run: RunInfo, call: Call, bound: list[Bound], concurrency: int
    ) -> None:
        from spyglass.tracer._db import open_for_write

        self.storage = storage
        self.run = run
        self.call = call
        self.bound = bound
        self.concurrency = concurrency
        self.conn = open_for_write(storage.path)

    def run_example(self, example: Example) -> Outcome:
        from opentelemetry import context as otel_context

        from spyglass.tracer._trace import trace

        metadata = {**example.metadata, RUN_KEY: self.run.run_id, EXAMPLE_KEY: example.position}
        token = _root_context()
        trace_id, output, error = None, None, None
        started = time.perf_counter()
        try:
            with trace(f"eval:{self.run.name}", tags=(EVAL_TAG,), metadata=metadata) as span:
                if span is not None:
                    trace_id = span.trace_id
                    span.set_input(example.inputs)
                output = self.call(example.inputs)
                if span is not None:
                    span.set_output(output)
        except Exception as exc:  # the example fails, the run goes on
            error = f"{type(exc).__name__}: {exc}"
        finally:
            otel_context.detach(token)  # type: ignore[arg-type]
        latency = (time.perf_counter() - started) * 1000
        return Outcome(example, trace_id, output, error, latency)

    def score_example(self, item: tuple[Outcome, TraceFacts | None]) -> EvalRow:
        outcome, facts = item
        example = outcome.example
        scores = {}
        if outcome.error is None:
            case = EvalCase(
                inputs=example.inputs,
                output=outcome.output,
                expected=example.expected,
                expected_doc_ids=example.expected_doc_ids,
                metadata=example.metadata,
                trace_id=outcome.trace_id,
                latency_ms=outcome.latency_ms,
                facts=facts,
                db=self.storage.path if self.storage.traces_stored else None,
                run_id=self.run.run_id,
            )
            for evaluator in self.bound:
                for score in evaluator.run(case):
                    scores[score.name] = score
        return EvalRow(
            position=example.position,
            example_key=example.key,
            inputs=example.inputs,
            output=outcome.output,
            expected=example.expected,
            expected_doc_ids=example.expected_doc_ids,
            trace_id=outcome.trace_id,
            scores=scores,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
        )

    def execute(self, dataset: Dataset, bar: Reporter) -> EvalResult:
        examples = dataset.examples
        bar.phase("running", len(examples))
        outcomes = sorted(
            _pooled(examples, self.run_example, self.concurrency, bar),
            key=lambda o: o.example.position,
        )
        self.storage.flush()
        trace_ids = [o.trace_id for o in outcomes if o.trace_id is not None]
        facts = load_facts(self.conn, trace_ids) if self.storage.traces_stored else {}
        bar.phase("scoring", len(examples))
        items = [(o, facts.get(o.trace_id or "")) for o in outcomes]
        rows: list[EvalRow] = []
        pending: list[EvalRow] = []
        for row in _pooled(items, self.score_example, self.concurrency, bar):
            rows.append(row)
            pending.append(row)
            if len(pending) >= WRITE_BATCH:
                write_rows(self.conn, self.storage.path, self.run.run_id, pending, time.time_ns())
                pending = []
        if pending:
            write_rows(self.conn, self.storage.path, self.run.run_id, pending, time.time_ns())
        rows.sort(key=lambda r: r.position)
        return self._finish(rows, prompt_versions_seen(self.conn, trace_ids))

    def _finish(self, rows: list[EvalRow], prompt_versions: list[str]) -> EvalResult:
        metrics = compute_metrics(rows, [b.name for b in self.bound])
        ended = time.time_ns()
        finish_run(
            self.conn,
            self.storage.path,
            self.run.run_id,
            status="completed",
            ended_ns=ended,
            prompt_versions=prompt_versions,
            metrics=metrics,
        )
        run = replace(
            self.run,
            status="completed",
            ended_ns=ended,
            prompt_versions=tuple(prompt_versions),
            metrics=metrics,
        )
        return EvalResult(run, tuple(rows))

    def fail(self) -> None:
        """Mark the run failed (interrupted); what was scored stays."""
        # The interruption is what the caller must see, not a failure to record it.
        with contextlib.suppress(Exception):
            finish_run(
                self.conn,
                self.storage.path,
                self.run.run_id,
                status="failed",
                ended_ns=time.time_ns(),
            )


def _new_run(
    name: str | None, target: str, dataset: Dataset, bound: list[Bound], storage: Storage
) -> RunInfo:
    return RunInfo(
        run_id=new_run_id(),
        name=name or target.rsplit(":", 1)[-1],
        project=storage.project,
        dataset_name=dataset.name,
        dataset_hash=dataset.hash,
        example_count=len(dataset.examples),
        target=target,
        evaluators=tuple(b.describe() for b in bound),
        status="running",
        started_ns=time.time_ns(),
        ended_ns=None,
    )


def _check_concurrency(concurrency: object) -> int:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise EvaluationError(f"concurrency must be a positive integer, got {concurrency!r}")
    return concurrency


def evaluate(
    target: object,
    data: object,
    evaluators: object,
    name: str | None = None,
    db: str | Path | None = None,
    concurrency: int = 4,
    *,
    progress: bool | None = None,
    autolog: Autolog,
) -> EvalResult:
    """``spyglass.evaluate`` (documented there), with ``autolog`` to turn tracing on when no
    pipeline is active."""
    dataset = load_dataset(data)
    bound = bind(evaluators)
    call = adapt_target(target)
    workers = _check_concurrency(concurrency)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise EvaluationError(f"name must be a non-empty string, got {name!r}")
    with _storage(db, autolog) as storage:
        run = _new_run(name, describe(target), dataset, bound, storage)
        engine = _Run(storage, run, call, bound, workers)
        try:
            start_run(engine.conn, storage.path, run)
            with reporter(progress) as bar:
                return engine.execute(dataset, bar)
        except BaseException:
            engine.fail()
            raise
        finally:
            engine.conn.close()
