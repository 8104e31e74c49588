"""``spyglass.evaluate``: the evaluation run (``spyglass.evaluation``) with autolog wired in.

Evaluation sits below the facade and never imports the integrations: when no pipeline is
active it turns tracing on through the ``autolog`` it is given, and this is where it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spyglass.evaluation import EvalResult


def evaluate(
    target: object,
    data: object,
    evaluators: object,
    name: str | None = None,
    db: str | Path | None = None,
    concurrency: int = 4,
    *,
    progress: bool | None = None,
) -> EvalResult:
    """Run ``target`` on every example of ``data`` (each in its own trace), score the outputs
    with ``evaluators``, store the run, and return its ``.metrics`` and ``.rows``.

    ``target``: a callable (``target(**inputs)`` if the dict's keys fit its signature, else
    ``target(inputs)``), a LangChain runnable (``.invoke``) or a LlamaIndex query engine
    (``.query``). ``data``: a list of dicts, a ``.jsonl`` / ``.csv`` path, or a DataFrame,
    each example holding ``inputs`` and optionally ``expected`` and ``expected_doc_ids``.
    ``evaluators``: callables taking an ``EvalCase`` (see ``spyglass.evaluators``) or
    built-in names. ``progress``: a bar on stderr (default: when it is a terminal).
    """
    from spyglass._autolog import autolog
    from spyglass.evaluation._run import evaluate as run

    return run(target, data, evaluators, name, db, concurrency, progress=progress, autolog=autolog)
