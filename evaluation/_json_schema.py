"""A small JSON Schema check for the ``json_schema`` evaluator, with no dependency.

When ``jsonschema`` is installed it does the work (the whole specification); otherwise this
subset, which covers what answers are usually held to: ``type`` (one or a list), ``enum``,
``const``, ``properties``, ``required``, ``additionalProperties`` (bool or schema), ``items``,
``minItems`` / ``maxItems``, ``minLength`` / ``maxLength``, ``pattern``, ``minimum`` /
``maximum``, and ``anyOf``. Keywords outside the subset are ignored, never guessed at. The
first problem is returned as ``"$.path: what is wrong"``; ``None`` means valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def schema_problem(value: object, schema: Mapping[str, object]) -> str | None:
    """The first way ``value`` breaks ``schema``, or None."""
    try:
        import jsonschema
    except ImportError:
        return _check(value, schema, "$")
    try:
        jsonschema.validate(value, dict(schema))
    except jsonschema.ValidationError as exc:
        where = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in exc.path)
        return f"{where}: {exc.message}"
    return None


def _check(value: object, schema: Mapping[str, object], at: str) -> str | None:
    for check in (_type, _enum, _string, _number, _array, _object, _any_of):
        problem = check(value, schema, at)
        if problem is not None:
            return problem
    return None


def _type(value: object, schema: Mapping[str, object], at: str) -> str | None:
    wanted = schema.get("type")
    if wanted is None:
        return None
    names = [wanted] if isinstance(wanted, str) else list(wanted)  # type: ignore[call-overload]
    if any(_TYPES.get(str(name), lambda v: True)(value) for name in names):
        return None
    return f"{at}: expected {' or '.join(map(str, names))}, got {_type_name(value)}"


def _type_name(value: object) -> str:
    for name, test in _TYPES.items():
        if name != "integer" and test(value):
            return name
    return type(value).__name__


def _enum(value: object, schema: Mapping[str, object], at: str) -> str | None:
    if "const" in schema and value != schema["const"]:
        return f"{at}: must be {schema['const']!r}"
    options = schema.get("enum")
    if isinstance(options, list) and value not in options:
        return f"{at}: must be one of {options!r}"
    return None


def _string(value: object, schema: Mapping[str, object], at: str) -> str | None:
    if not isinstance(value, str):
        return None
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        return f"{at}: shorter than {low} characters"
    if isinstance(high, int) and len(value) > high:
        return f"{at}: longer than {high} characters"
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and not re.search(pattern, value):
        return f"{at}: does not match {pattern!r}"
    return None


def _number(value: object, schema: Mapping[str, object], at: str) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, (int, float)) and value < low:
        return f"{at}: less than {low}"
    if isinstance(high, (int, float)) and value > high:
        return f"{at}: more than {high}"
    return None


def _array(value: object, schema: Mapping[str, object], at: str) -> str | None:
    if not isinstance(value, list):
        return None
    low, high = schema.get("minItems"), schema.get("maxItems")
    if isinstance(low, int) and len(value) < low:
        return f"{at}: fewer than {low} items"
    if isinstance(high, int) and len(value) > high:
        return f"{at}: more than {high} items"
    items = schema.get("items")
    if isinstance(items, Mapping):
        for index, item in enumerate(value):
            problem = _check(item, items, f"{at}[{index}]")
            if problem is not None:
                return problem
    return None


def _object(value: object, schema: Mapping[str, object], at: str) -> str | None:
    if not isinstance(value, dict):
        return None
    required = schema.get("required")
    for key in required if isinstance(required, list) else ():
        if key not in value:
            return f"{at}: missing required property {key!r}"
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub = properties.get(key)
        if isinstance(sub, Mapping):
            problem = _check(item, sub, f"{at}.{key}")
        elif extra is False:
            problem = f"{at}: unexpected property {key!r}"
        elif isinstance(extra, Mapping):
            problem = _check(item, extra, f"{at}.{key}")
        else:
            problem = None
        if problem is not None:
            return problem
    return None


def _any_of(value: object, schema: Mapping[str, object], at: str) -> str | None:
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return None
    problems = [_check(value, option, at) for option in options if isinstance(option, Mapping)]
    if problems and all(problem is not None for problem in problems):
        return f"{at}: matches none of anyOf ({problems[0]})"
    return None
