"""Small pure helpers the openai and anthropic extractors share.

Reading SDK values: ``get`` works on SDK models and on plain dicts alike (callers pass either,
and stream snapshots are dicts), ``given`` tells the SDKs' "not given" sentinels apart, and
``sequence`` refuses to iterate anything but a list or tuple, since a generator the caller
passed has yet to be read by the SDK.

Writing the OTel GenAI message shape: ``{"role", "parts": [...]}`` with ``text``,
``reasoning``, ``tool_call`` and ``tool_call_response`` parts. With ``capture=False`` a part
keeps its type, ids and names, and loses its text, arguments and results.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import cast

from opentelemetry.util.types import AttributeValue

from spyglass.tracer import attributes as A
from spyglass.tracer._serialize import to_json

Pairs = Iterator[tuple[str, AttributeValue]]
"""What an extractor yields: ``(attribute name, value)``."""

_SENTINELS = frozenset({"Omit", "NotGiven"})


def given(value: object) -> bool:
    """False for the SDKs' "argument not given" sentinels (``omit``, ``NOT_GIVEN``)."""
    return type(value).__name__ not in _SENTINELS


#: Whether a type is a Mapping, by type: the ABC check is slow and runs for every field read.
_MAPPING_TYPES: dict[type, bool] = {dict: True}


def get(obj: object, key: str) -> object:
    """``obj[key]`` for mappings, ``obj.key`` for SDK models; None when absent."""
    kind = type(obj)
    mapping = _MAPPING_TYPES.get(kind)
    if mapping is None:
        mapping = _MAPPING_TYPES[kind] = isinstance(obj, Mapping)
    return cast(Mapping[str, object], obj).get(key) if mapping else getattr(obj, key, None)


def token_counts(fields: tuple[tuple[object, str, str], ...]) -> Pairs:
    """``(source, key, attribute)`` rows: each integer ``source.key`` as that attribute (a
    missing source or a non-integer value is skipped). The usage objects of every API."""
    for source, key, attribute in fields:
        value = get(source, key) if source is not None else None
        if isinstance(value, int) and not isinstance(value, bool):
            yield attribute, value


def text_part(text: object, capture: bool) -> dict[str, object]:
    return {"type": "text", "content": text} if capture else {"type": "text"}


def reasoning_part(text: object, capture: bool) -> dict[str, object]:
    return {"type": "reasoning", "content": text} if capture else {"type": "reasoning"}


def tool_call_part(
    call_id: object, name: object, arguments: object, capture: bool
) -> dict[str, object]:
    """A tool call; ``arguments`` given as JSON text are stored parsed when they parse."""
    part: dict[str, object] = {"type": "tool_call", "id": call_id, "name": name}
    if capture:
        part["arguments"] = _json_value(arguments)
    return part


def tool_response_part(call_id: object, response: object, capture: bool) -> dict[str, object]:
    part: dict[str, object] = {"type": "tool_call_response", "id": call_id}
    if capture:
        part["response"] = response
    return part


def _json_value(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def sequence(value: object) -> list[object] | tuple[object, ...]:
    """``value`` if it is a list or tuple, else empty: other iterables (generators) are never
    iterated, since the SDK has yet to read them."""
    return value if isinstance(value, (list, tuple)) else ()


def parameter_attributes(kwargs: Mapping[str, object], names: Mapping[str, str]) -> Pairs:
    """The GenAI ``gen_ai.request.*`` attributes of the keyword arguments named in ``names``."""
    for key, attribute in names.items():
        value = kwargs.get(key)
        if value is None or isinstance(value, bool) or not given(value):
            continue
        if attribute == A.GEN_AI_REQUEST_STOP_SEQUENCES:
            stops = [value] if isinstance(value, str) else sequence(value)
            yield attribute, tuple(str(stop) for stop in stops)
        elif isinstance(value, (int, float, str)):
            yield attribute, value


#: Keyword arguments that are not request parameters: content (recorded as messages), the
#: client's transport settings, and headers and query strings, which may carry credentials.
_NOT_PARAMETERS = frozenset(
    {"messages", "input", "system", "instructions", "tools", "timeout"}
    | {"extra_headers", "extra_query", "extra_body"}
)


def all_parameters(kwargs: Mapping[str, object], capture: bool) -> Pairs:
    """Every request parameter as one JSON object (``spyglass.request.parameters``)."""
    params: dict[str, object] = {}
    for key, value in kwargs.items():
        if key in _NOT_PARAMETERS or not given(value) or (key == "prediction" and not capture):
            continue
        params[key] = value.__name__ if isinstance(value, type) else value
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping):
        params["extra_body"] = dict(extra)
    yield A.GEN_AI_REQUEST_PARAMETERS, to_json(params)
