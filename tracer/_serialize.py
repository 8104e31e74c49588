"""Safe, bounded conversion of arbitrary Python objects into JSON text.

Spans record the inputs and outputs of traced functions, which can be anything: pydantic
models, numpy arrays, generators, self-referencing containers, objects whose ``repr`` raises.
The rules here, in order of importance:

* Never raise and never change program behaviour: iterators and generators are shown with
  ``repr`` and never iterated; duck-typed hooks (``model_dump``, ``tolist``) are looked up on
  the *type*, so proxies and mocks with a catch-all ``__getattr__`` are not called into.
* A failure loses only the one value that failed (``"<unserializable T>"``), never the document.
* Every bound is visible: ``…[truncated N chars]``, ``…[N more items]``, ``<cycle>``,
  ``<max depth>``.
* The hot path (scalars, flat dicts/lists of scalars) skips the walker entirely.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from decimal import Decimal
from itertools import islice
from pathlib import PurePath
from typing import Protocol, TypeVar, cast

__all__ = ["TRUNCATION_MARKER", "to_json", "to_jsonable"]

TRUNCATION_MARKER = "…[truncated"
CYCLE = "<cycle>"
MAX_DEPTH = "<max depth>"

_DEFAULT_MAX_ITEMS = 100
_DEFAULT_MAX_STRING = 16_384
# json refuses to print ints longer than sys.get_int_max_str_digits() (4300 by default), so
# anything this big is summarised rather than breaking the whole document.
_INT_BOUND = 10**4000
_HEX_PREVIEW_BYTES = 32
# Decoding copies the whole buffer; past this size bytes are previewed, not decoded.
_MAX_DECODE_BYTES = 1 << 20
# Sorting a set needs repr() of every member; past this size determinism is not worth it.
_SORT_LIMIT = 10_000

# One shared encoder: json.dumps() with non-default arguments builds a new one per call.
# check_circular is off because the walker's output is freshly built and acyclic.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False
)
_ASCII_ENCODER = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, check_circular=False
)

_T = TypeVar("_T")
_MISSING = object()


class _HasToList(Protocol):
    def tolist(self) -> object: ...


class _FlatIter(Protocol):
    def __getitem__(self, key: slice, /) -> _HasToList: ...


class _NDArray(_HasToList, Protocol):
    shape: tuple[int, ...]
    dtype: object
    size: int
    flat: _FlatIter


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}{TRUNCATION_MARKER} {len(text) - limit} chars]"


def _int(value: int) -> int | str:
    if -_INT_BOUND < value < _INT_BOUND:
        return value
    return f"<int with {value.bit_length()} bits>"


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _decimal(value: Decimal) -> float | str:
    if value.is_finite():
        as_float = float(value)
        if math.isfinite(as_float):  # Decimal("1e400") is finite but overflows a float
            return as_float
    return str(value)


def _qualified_name(cls: type) -> str:
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", cls.__name__)
    return qualname if module in (None, "builtins") else f"{module}.{qualname}"


def _repr(obj: object, limit: int) -> str:
    try:
        text = repr(obj)
    except Exception:
        return f"<unrepresentable {type(obj).__name__}>"
    return _cap(text, limit)


def _is_numpy(obj: object) -> bool:
    module = getattr(type(obj), "__module__", None)
    return isinstance(module, str) and (module == "numpy" or module.startswith("numpy."))


class _Walker:
    """One conversion: holds the limits and the ids of containers on the current path."""

    __slots__ = ("active", "max_depth", "max_items", "max_string")

    def __init__(self, max_depth: int, max_items: int, max_string: int) -> None:
        self.max_depth = max(0, max_depth)
        self.max_items = max(0, max_items)
        self.max_string = max(0, max_string)
        self.active: set[int] = set()

    def convert(self, obj: object, depth: int) -> object:
        try:
            return self._convert(obj, depth)
        except Exception:
            return f"<unserializable {type(obj).__name__}>"

    def _convert(self, obj: object, depth: int) -> object:
        # Exact type checks first: cheapest, and they keep subclasses (IntEnum, np.float64,
        # str subclasses) out of the fast branches so those are normalised below.
        if obj is None or type(obj) is bool:
            return obj
        if type(obj) is str:
            return _cap(obj, self.max_string)
        if type(obj) is int:
            return _int(obj)
        if type(obj) is float:
            return _float(obj)
        if type(obj) is dict:
            return self._enter(obj, depth, self._mapping)
        if type(obj) is list or type(obj) is tuple:
            return self._enter(obj, depth, self._sequence)
        return self._other(obj, depth)

    def _enter(self, obj: _T, depth: int, expand: Callable[[_T, int], object]) -> object:
        key = id(obj)
        if key in self.active:
            return CYCLE
        if depth >= self.max_depth:
            return MAX_DEPTH
        self.active.add(key)
        try:
            return expand(obj, depth + 1)
        finally:
            self.active.discard(key)

    def _other(self, obj: object, depth: int) -> object:
        if isinstance(obj, enum.Enum):  # before str/int: mixin enums are also str/int
            return self._enum(obj, depth)
        if isinstance(obj, str):
            return _cap(str.__str__(obj), self.max_string)  # exact str, ignores overrides
        if isinstance(obj, int):
            return _int(int.__int__(obj))
        if isinstance(obj, float):
            return _float(float.__float__(obj))
        if isinstance(obj, (bytes, bytearray, memoryview)):
            return self._bytes(obj)
        if _is_numpy(obj):
            return self._numpy(obj, depth)
        if isinstance(obj, Mapping):
            return self._enter(obj, depth, self._mapping)
        if isinstance(obj, tuple) and hasattr(type(obj), "_fields"):
            return self._enter(obj, depth, self._namedtuple)
        if isinstance(obj, (list, tuple, deque)):
            return self._enter(obj, depth, self._sequence)
        if isinstance(obj, (set, frozenset)):
            return self._enter(obj, depth, self._set)
        return self._leaf_or_object(obj, depth)

    def _leaf_or_object(self, obj: object, depth: int) -> object:
        if isinstance(obj, BaseException):
            try:
                message = _cap(str(obj), self.max_string)
            except Exception:
                message = _repr(obj, self.max_string)
            return {"type": _qualified_name(type(obj)), "message": message}
        if isinstance(obj, (_dt.date, _dt.time)):
            return obj.isoformat()
        if isinstance(obj, Decimal):
            return _decimal(obj)
        if isinstance(obj, (uuid.UUID, PurePath)):
            return str(obj)
        if not isinstance(obj, type):  # classes carry the same hooks, unbound
            model = self._model(obj, depth)
            if model is not _MISSING:
                return model
            if dataclasses.is_dataclass(obj):
                return self._enter(obj, depth, self._dataclass)
        return _repr(obj, self.max_string)

    def _items(self, values: Iterable[object], total: int, depth: int) -> list[object]:
        out = [self.convert(value, depth) for value in islice(values, self.max_items)]
        if total > self.max_items:
            out.append(f"…[{total - self.max_items} more items]")
        return out

    def _sequence(self, obj: Collection[object], depth: int) -> list[object]:
        return self._items(obj, len(obj), depth)

    def _set(self, obj: Collection[object], depth: int) -> list[object]:
        members: Iterable[object] = obj
        if len(obj) <= _SORT_LIMIT:
            try:
                members = sorted(obj, key=repr)  # set order varies run to run (str hashing)
            except Exception:
                members = obj
        return self._items(members, len(obj), depth)

    def _mapping(self, obj: Mapping[object, object], depth: int) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in islice(obj.items(), self.max_items):
            out[self._key(key)] = self.convert(value, depth)
        if len(obj) > self.max_items:
            out["…"] = f"[{len(obj) - self.max_items} more items]"
        return out

    def _key(self, key: object) -> str:
        if type(key) is str:
            return _cap(key, self.max_string)
        try:
            return _cap(str(key), self.max_string)
        except Exception:
            return "<unrepresentable key>"

    def _namedtuple(self, obj: tuple[object, ...], depth: int) -> dict[str, object]:
        fields = cast("tuple[str, ...]", type(obj)._fields)  # type: ignore[attr-defined]
        return {
            str(name): self.convert(value, depth) for name, value in zip(fields, obj, strict=False)
        }

    def _dataclass(self, obj: object, depth: int) -> dict[str, object]:
        # Not dataclasses.asdict(): it deep-copies every value and loops forever on cycles.
        out: dict[str, object] = {}
        for field in dataclasses.fields(obj):  # type: ignore[arg-type]
            try:
                value = getattr(obj, field.name)
            except Exception:
                out[field.name] = "<unavailable>"
                continue
            out[field.name] = self.convert(value, depth)
        return out

    def _enum(self, obj: enum.Enum, depth: int) -> object:
        try:
            value = obj.value
        except Exception:
            return str(obj.name)
        return self.convert(value, depth)

    def _bytes(self, obj: bytes | bytearray | memoryview) -> str:
        size = obj.nbytes if isinstance(obj, memoryview) else len(obj)
        if size <= _MAX_DECODE_BYTES:
            data = obj.tobytes() if isinstance(obj, memoryview) else obj
            try:
                return _cap(data.decode("utf-8"), self.max_string)
            except UnicodeDecodeError:
                pass
            head = bytes(data[:_HEX_PREVIEW_BYTES])
        else:
            try:
                head = memoryview(obj).cast("B")[:_HEX_PREVIEW_BYTES].tobytes()
            except Exception:  # non-contiguous views cannot be cast
                head = b""
        more = "..." if size > len(head) else ""
        return f"<bytes len={size}: {head.hex()}{more}>"

    def _numpy(self, obj: object, depth: int) -> object:
        if all(hasattr(obj, name) for name in ("tolist", "shape", "dtype", "size")):
            array = cast(_NDArray, obj)
            if array.size <= self.max_items:
                # tolist() gives builtin scalars; it may also return the same object arrays
                # again, which the depth bound terminates.
                return self.convert(array.tolist(), depth)
            head = array.flat[: self.max_items].tolist()  # copies only the head
            summary = {
                "shape": [int(n) for n in array.shape],
                "dtype": str(array.dtype),
                "head": self.convert(head, depth),
            }
            return {"__ndarray__": summary}
        item = getattr(obj, "item", None)
        if callable(item):
            value = item()
            if type(value) is not type(obj):
                return self.convert(value, depth)
        return _repr(obj, self.max_string)

    def _model(self, obj: object, depth: int) -> object:
        cls = type(obj)
        dump = getattr(cls, "model_dump", None)  # pydantic v2
        if callable(dump):
            return self._enter(
                obj, depth, lambda o, d: self._dumped(o, lambda: dump(o, mode="python"), d)
            )
        legacy = getattr(cls, "dict", None)  # pydantic v1
        if callable(legacy) and hasattr(cls, "__fields__"):
            return self._enter(obj, depth, lambda o, d: self._dumped(o, lambda: legacy(o), d))
        return _MISSING

    def _dumped(self, obj: object, dump: Callable[[], object], depth: int) -> object:
        try:
            data = dump()
        except Exception:  # e.g. pydantic's own "Circular reference detected"
            return _repr(obj, self.max_string)
        if isinstance(data, Mapping):
            return self._mapping(data, depth)
        return self.convert(data, depth)


def to_jsonable(
    obj: object,
    *,
    max_depth: int = 8,
    max_items: int = _DEFAULT_MAX_ITEMS,
    max_string: int = _DEFAULT_MAX_STRING,
) -> object:
    """Return a JSON-compatible copy of ``obj`` (dict/list/str/int/float/bool/None only).

    Containers nested ``max_depth`` deep become ``"<max depth>"``; never raises.
    """
    return _Walker(max_depth, max_items, max_string).convert(obj, 0)


def _is_simple(value: object) -> bool:
    if type(value) is str:
        return len(value) <= _DEFAULT_MAX_STRING
    if type(value) is int:
        return -_INT_BOUND < value < _INT_BOUND
    if type(value) is float:
        return math.isfinite(value)
    return value is None or type(value) is bool


def _is_flat_simple(obj: object) -> bool:
    """True when ``obj`` is already JSON data the walker would return unchanged."""
    if type(obj) is dict:
        if len(obj) > _DEFAULT_MAX_ITEMS:
            return False
        for key, value in obj.items():
            if type(key) is not str or len(key) > _DEFAULT_MAX_STRING or not _is_simple(value):
                return False
        return True
    if type(obj) is list:
        return len(obj) <= _DEFAULT_MAX_ITEMS and all(_is_simple(value) for value in obj)
    return _is_simple(obj)


def _dumps(data: object) -> str:
    text = _ENCODER.encode(data)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (os.fsdecode, broken decoders) cannot be stored as UTF-8;
            # \u-escaping them keeps the JSON valid and storable.
            text = _ASCII_ENCODER.encode(data)
    return text


def to_json(obj: object, *, max_chars: int = 65_536) -> str:
    """Serialize ``obj`` to compact JSON text; always valid JSON, never raises.

    Text longer than ``max_chars`` is replaced by a JSON *string* holding its first
    ``max_chars`` characters followed by ``…[truncated N chars]``.
    """
    try:
        text = _dumps(obj if _is_flat_simple(obj) else to_jsonable(obj))
        limit = max(0, max_chars)
        if len(text) > limit:
            text = _dumps(f"{text[:limit]}{TRUNCATION_MARKER} {len(text) - limit} chars]")
        return text
    except Exception:
        try:
            return _dumps(f"<unserializable {type(obj).__name__}>")
        except Exception:
            return '"<unserializable>"'
