"""How ``evaluate`` calls its target with an example's ``inputs``.

* A LangChain runnable: ``target.invoke(inputs)``, inputs as given (a chain that takes a string
  wants string inputs, or a ``lambda question: chain.invoke(question)`` target).
* A LlamaIndex query engine (anything with a ``query`` method that is not itself callable):
  ``target.query(text)``, the text being ``inputs`` if a string, else ``inputs["query"]``,
  ``inputs["question"]``, or the only value of a one-key dict.
* Any other callable: ``target(**inputs)`` when ``inputs`` is a dict whose keys the callable's
  signature accepts, else ``target(inputs)``. So ``def answer(question)`` takes
  ``{"question": ...}`` and ``def answer(example)`` takes the dict itself. An async function, or
  a callable returning an awaitable, is run to completion with ``asyncio.run`` in the worker.

Frameworks are recognised by class without being imported: if LangChain is not loaded, no
object can be a runnable.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from spyglass.errors import EvaluationError

Call = Callable[[object], object]


def _is_runnable(target: object) -> bool:
    module = sys.modules.get("langchain_core.runnables")
    runnable = getattr(module, "Runnable", None) if module is not None else None
    return isinstance(runnable, type) and isinstance(target, runnable)


def _is_query_engine(target: object) -> bool:
    return callable(getattr(target, "query", None)) and not callable(target)


def query_text(inputs: object) -> str:
    """The text a query engine is asked (see the module docstring)."""
    if isinstance(inputs, str):
        return inputs
    if isinstance(inputs, Mapping):
        for key in ("query", "question"):
            if isinstance(inputs.get(key), str):
                return str(inputs[key])
        if len(inputs) == 1:
            only = next(iter(inputs.values()))
            if isinstance(only, str):
                return only
    raise EvaluationError(
        "a query engine needs a string, or inputs with a 'query' or 'question' string"
    )


def _settle(result: object) -> object:
    if inspect.isawaitable(result):

        async def wait() -> object:
            return await result

        return asyncio.run(wait())
    return result


def _call_function(target: Callable[..., object]) -> Call:
    try:
        signature: inspect.Signature | None = inspect.signature(target)
    except (TypeError, ValueError):  # some builtins and C callables have none
        signature = None

    def call(inputs: object) -> object:
        if signature is not None and isinstance(inputs, Mapping):
            keys = [k for k in inputs if isinstance(k, str)]
            if len(keys) == len(inputs):
                try:
                    signature.bind(**inputs)
                except TypeError:
                    pass
                else:
                    return _settle(target(**inputs))
        return _settle(target(inputs))

    return call


def _module_name(module: str) -> str:
    """A module as the user would name it: ``__main__`` is the script's file name."""
    if module != "__main__":
        return module
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return Path(path).stem if isinstance(path, str) and path else module


def describe(target: object) -> str:
    """The target as the user would name it, for the run row: ``module:qualname`` of a
    function (``script:answer`` for one in the script run, ``build.<locals>`` left out), the
    function inside a ``functools.partial`` or a bound method, the class of an object,
    ``langchain:<name>`` of a runnable."""
    if _is_runnable(target):
        get_name = getattr(target, "get_name", None)
        if callable(get_name):
            return f"langchain:{get_name()}"
    while isinstance(target, functools.partial):
        target = target.func
    target = getattr(target, "__func__", target)  # a bound method: its function
    owner = target if inspect.isroutine(target) or inspect.isclass(target) else type(target)
    module = getattr(owner, "__module__", None) or "?"
    name = getattr(owner, "__qualname__", None) or getattr(owner, "__name__", None) or "?"
    name = str(name).replace("<locals>.", "")
    return f"{_module_name(str(module))}:{name}"


def adapt_target(target: object) -> Call:
    """A function from an example's inputs to the target's output."""
    if _is_runnable(target):
        invoke = target.invoke  # type: ignore[attr-defined]
        return lambda inputs: invoke(inputs)
    if _is_query_engine(target):
        query = target.query  # type: ignore[attr-defined]
        return lambda inputs: query(query_text(inputs))
    if callable(target):
        return _call_function(target)
    raise EvaluationError(
        "target must be a callable, a LangChain runnable or a LlamaIndex query engine; "
        f"got {type(target).__name__}"
    )
