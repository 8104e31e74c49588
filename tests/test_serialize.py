"""to_jsonable / to_json: every conversion rule, every bound, and the never-raise promise."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np
import pydantic
import pytest

from spyglass.tracer._serialize import TRUNCATION_MARKER, to_json, to_jsonable


def strict_loads(text: str) -> object:
    """json.loads that rejects NaN/Infinity, which are not JSON."""

    def reject(constant: str) -> object:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=reject)


# --- scalars and strings ---------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -7, 1.5, True, False, None, "", "héllo ✓"])
def test_json_scalars_pass_through_unchanged(value: object) -> None:
    out = to_jsonable(value)
    assert out == value
    assert type(out) is type(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")],
)
def test_non_finite_floats_become_strings(value: float, expected: str) -> None:
    assert to_jsonable(value) == expected
    assert strict_loads(to_json({"x": value})) == {"x": expected}
    assert strict_loads(to_json([value])) == [expected]


def test_long_string_is_cut_with_visible_marker_and_count() -> None:
    out = to_jsonable("a" * 20_000 + "b")
    assert isinstance(out, str)
    assert out.startswith("a" * 16_384 + TRUNCATION_MARKER)
    assert out.endswith("…[truncated 3617 chars]")
    assert to_jsonable("xyz" * 10, max_string=5) == "xyzxy…[truncated 25 chars]"


def test_string_exactly_at_limit_is_untouched() -> None:
    assert to_jsonable("q" * 16_384) == "q" * 16_384


def test_subclasses_of_builtins_are_normalised_to_the_builtin() -> None:
    class Name(str):
        def __str__(self) -> str:
            return "overridden"

    class Count(int):
        pass

    name, count = to_jsonable(Name("ada")), to_jsonable(Count(3))
    assert (name, type(name)) == ("ada", str)
    assert (count, type(count)) == (3, int)


def test_huge_int_is_summarised_instead_of_breaking_json() -> None:
    big = 10**5000
    out = to_jsonable({"n": big, "ok": 1})
    assert out == {"n": f"<int with {big.bit_length()} bits>", "ok": 1}
    assert strict_loads(to_json([big]))[0].startswith("<int with")  # type: ignore[index]


# --- bytes -----------------------------------------------------------------------------


def test_utf8_bytes_are_decoded() -> None:
    assert to_jsonable("héllo".encode()) == "héllo"
    assert to_jsonable(bytearray(b"abc")) == "abc"
    assert to_jsonable(memoryview(b"view")) == "view"


def test_binary_bytes_get_length_and_hex_preview_of_first_32_bytes() -> None:
    data = bytes(range(256)) * 2
    out = to_jsonable(data)
    assert out == f"<bytes len=512: {bytes(range(32)).hex()}...>"
    assert to_jsonable(b"\xff\x00") == "<bytes len=2: ff00>"


# --- containers ------------------------------------------------------------------------


def test_dict_keys_are_stringified() -> None:
    assert to_jsonable({1: "a", (2, 3): "b", None: "c"}) == {"1": "a", "(2, 3)": "b", "None": "c"}


def test_dict_is_capped_with_a_count_entry() -> None:
    out = to_jsonable({f"k{i}": i for i in range(250)})
    assert isinstance(out, dict)
    assert len(out) == 101
    assert out["k99"] == 99 and "k100" not in out
    assert out["…"] == "[150 more items]"


def test_mapping_that_is_not_a_dict_is_walked() -> None:
    assert to_jsonable(OrderedDict(b=1, a=[2])) == {"b": 1, "a": [2]}


def test_list_is_capped_with_a_marker_element() -> None:
    out = to_jsonable(list(range(250)))
    assert isinstance(out, list)
    assert out[:100] == list(range(100))
    assert out[100:] == ["…[150 more items]"]
    assert to_jsonable(list(range(5)), max_items=2) == [0, 1, "…[3 more items]"]


def test_tuples_and_deques_become_lists() -> None:
    assert to_jsonable((1, "a", (2,))) == [1, "a", [2]]
    assert to_jsonable(deque([1, 2, 3])) == [1, 2, 3]


def test_sets_are_sorted_by_repr_for_stable_output() -> None:
    assert to_jsonable({3, 1, 2}) == [1, 2, 3]
    assert to_jsonable(frozenset({"pear", "apple", "fig"})) == ["apple", "fig", "pear"]


def test_namedtuple_becomes_a_dict_of_fields() -> None:
    class Point(NamedTuple):
        x: int
        y: int

    assert to_jsonable(Point(1, 2)) == {"x": 1, "y": 2}


def test_generator_is_not_consumed() -> None:
    def numbers() -> Iterator[int]:
        yield from (1, 2, 3)

    gen = numbers()
    out = to_jsonable(gen)
    assert isinstance(out, str) and out.startswith("<generator object")
    assert list(gen) == [1, 2, 3]

    iterator = iter([4, 5])
    assert isinstance(to_json({"it": iterator}), str)
    assert list(iterator) == [4, 5]


# --- cycles and depth ------------------------------------------------------------------


def test_dict_self_cycle() -> None:
    d: dict[str, object] = {"name": "root"}
    d["self"] = d
    assert to_jsonable(d) == {"name": "root", "self": "<cycle>"}
    assert strict_loads(to_json(d)) == {"name": "root", "self": "<cycle>"}


def test_list_self_cycle() -> None:
    items: list[object] = [1]
    items.append(items)
    assert to_jsonable(items) == [1, "<cycle>"]


def test_shared_reference_is_not_a_cycle() -> None:
    shared = [1, 2]
    assert to_jsonable({"a": shared, "b": shared}) == {"a": [1, 2], "b": [1, 2]}


def test_deep_nesting_stops_at_max_depth() -> None:
    deep: list[object] = ["leaf"]
    for _ in range(20):
        deep = [deep]
    out = to_jsonable(deep)
    for _ in range(8):  # containers at depth 0..7 are expanded
        assert isinstance(out, list)
        out = out[0]
    assert out == "<max depth>"
    assert to_jsonable([[1]], max_depth=1) == ["<max depth>"]
    assert to_jsonable({"a": 1}, max_depth=0) == "<max depth>"


# --- structured objects ----------------------------------------------------------------


class Address(pydantic.BaseModel):
    city: str
    zip_code: str | None = None


class User(pydantic.BaseModel):
    name: str
    joined: dt.date
    address: Address
    tags: list[str] = []


def test_pydantic_v2_model_is_dumped_and_walked() -> None:
    user = User(name="Ada", joined=dt.date(2024, 1, 31), address=Address(city="London"))
    assert to_jsonable(user) == {
        "name": "Ada",
        "joined": "2024-01-31",
        "address": {"city": "London", "zip_code": None},
        "tags": [],
    }
    assert strict_loads(to_json([user]))[0]["address"]["city"] == "London"  # type: ignore[index]


def test_pydantic_model_class_is_not_dumped() -> None:
    assert to_jsonable(User) == repr(User)


def test_pydantic_v1_model_uses_dict() -> None:
    from pydantic import v1

    class Legacy(v1.BaseModel):
        id: int
        label: str

    assert to_jsonable(Legacy(id=1, label="x")) == {"id": 1, "label": "x"}


def test_model_dump_failure_falls_back_to_repr() -> None:
    class Broken(pydantic.BaseModel):
        x: int = 1

        def model_dump(self, **kwargs: object) -> dict[str, object]:
            raise RuntimeError("nope")

    assert to_jsonable({"m": Broken()}) == {"m": "Broken(x=1)"}


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None


def test_dataclass_fields_are_walked_without_a_type_key() -> None:
    assert to_jsonable(Node("solo")) == {"name": "solo", "children": [], "parent": None}


def test_nested_dataclass_cycle_through_a_list() -> None:
    root = Node("root")
    child = Node("child", parent=root)
    root.children.append(child)
    assert to_jsonable(root) == {
        "name": "root",
        "children": [{"name": "child", "children": [], "parent": "<cycle>"}],
        "parent": None,
    }
    assert strict_loads(to_json(root))["children"][0]["parent"] == "<cycle>"  # type: ignore[index]


def test_dataclass_class_is_not_walked() -> None:
    assert to_jsonable(Node) == repr(Node)


# --- numpy -----------------------------------------------------------------------------


def test_small_numpy_array_becomes_nested_lists() -> None:
    assert to_jsonable(np.arange(4, dtype=np.int64)) == [0, 1, 2, 3]
    assert to_jsonable(np.eye(2)) == [[1.0, 0.0], [0.0, 1.0]]
    out = to_jsonable(np.array([1.0, np.nan], dtype=np.float32))
    assert out == [1.0, "NaN"]


def test_big_numpy_array_is_summarised_with_head() -> None:
    array = np.arange(1000, dtype=np.float32).reshape(10, 100)
    out = to_jsonable(array)
    assert out == {
        "__ndarray__": {
            "shape": [10, 100],
            "dtype": "float32",
            "head": [float(i) for i in range(100)],
        }
    }
    assert to_jsonable(np.zeros(50), max_items=3) == {
        "__ndarray__": {"shape": [50], "dtype": "float64", "head": [0.0, 0.0, 0.0]}
    }


def test_numpy_scalars_become_python_scalars() -> None:
    for value, expected in [(np.int64(5), 5), (np.float32(1.5), 1.5), (np.bool_(True), True)]:
        out = to_jsonable(value)
        assert out == expected
        assert type(out) is type(expected)
    assert to_jsonable(np.float64("inf")) == "Infinity"
    assert strict_loads(to_json({"n": np.int32(7)})) == {"n": 7}


# --- other leaf types ------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    PAIR = (1, 2)


class Level(enum.IntEnum):
    HIGH = 3


class Mood(str, enum.Enum):
    HAPPY = "happy"


def test_enums_become_their_value() -> None:
    assert to_jsonable(Color.RED) == "red"
    assert to_jsonable(Color.PAIR) == [1, 2]
    level, mood = to_jsonable(Level.HIGH), to_jsonable(Mood.HAPPY)
    assert (level, type(level)) == (3, int)
    assert (mood, type(mood)) == ("happy", str)


def test_dates_decimals_uuids_paths() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert to_jsonable(
        [
            dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc),
            dt.date(2024, 5, 1),
            dt.time(7, 5),
            Decimal("1.25"),
            Decimal("NaN"),
            Decimal("1e400"),
            ident,
            PurePosixPath("/tmp/x.txt"),
        ]
    ) == [
        "2024-05-01T12:30:00+00:00",
        "2024-05-01",
        "07:05:00",
        1.25,
        "NaN",
        "1E+400",
        "12345678-1234-5678-1234-567812345678",
        "/tmp/x.txt",
    ]
    assert to_jsonable(Path("rel") / "p") == str(Path("rel") / "p")


class QuotaError(Exception):
    pass


def test_exceptions_become_type_and_message() -> None:
    assert to_jsonable(ValueError("bad input")) == {"type": "ValueError", "message": "bad input"}
    assert to_jsonable(QuotaError("over")) == {
        "type": f"{QuotaError.__module__}.QuotaError",
        "message": "over",
    }


# --- hostile objects -------------------------------------------------------------------


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __hash__(self) -> int:
        return 1


def test_object_whose_repr_raises() -> None:
    assert to_jsonable(Unprintable()) == "<unrepresentable Unprintable>"
    assert strict_loads(to_json([Unprintable()])) == ["<unrepresentable Unprintable>"]


def test_unrepresentable_dict_key() -> None:
    assert to_jsonable({Unprintable(): 1, "b": 2}) == {"<unrepresentable key>": 1, "b": 2}


def test_plain_object_uses_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<Thing 42>"

    assert to_jsonable({"t": Thing()}) == {"t": "<Thing 42>"}


def test_failure_in_one_value_loses_only_that_value() -> None:
    class ExplodingMapping(Mapping[str, int]):
        def __getitem__(self, key: str) -> int:
            raise KeyError(key)

        def __iter__(self) -> Iterator[str]:
            raise RuntimeError("boom")

        def __len__(self) -> int:
            return 1

    out = to_jsonable({"bad": ExplodingMapping(), "good": [1, 2]})
    assert out == {"bad": "<unserializable ExplodingMapping>", "good": [1, 2]}


def test_catch_all_getattr_objects_are_not_called_into() -> None:
    touched: list[str] = []

    class Proxy:
        def __getattr__(self, name: str) -> object:
            touched.append(name)
            return lambda *args, **kwargs: {"called": name}

        def __repr__(self) -> str:
            return "<Proxy>"

    assert to_jsonable(Proxy()) == "<Proxy>"
    assert not {"model_dump", "dict", "tolist", "item"} & set(touched)


# --- to_json ---------------------------------------------------------------------------


def test_to_json_is_compact_and_keeps_unicode() -> None:
    assert to_json({"a": [1, 2], "b": "é"}) == '{"a":[1,2],"b":"é"}'


def test_to_json_of_plain_str_is_a_json_string() -> None:
    assert to_json("hello") == '"hello"'
    assert strict_loads(to_json('he said "hi"\n')) == 'he said "hi"\n'


def test_to_json_truncates_into_a_valid_json_string_with_marker() -> None:
    value = {"rows": [{"id": i, "text": "x" * 50} for i in range(100)]}
    full = to_json(value)
    assert len(full) > 1000
    short = to_json(value, max_chars=1000)
    decoded = strict_loads(short)
    assert decoded == f"{full[:1000]}…[truncated {len(full) - 1000} chars]"
    assert TRUNCATION_MARKER in short


def test_to_json_output_is_always_valid_json() -> None:
    messy: dict[object, object] = {
        "gen": (i for i in range(3)),
        "nan": math.nan,
        "bytes": b"\x00\xff",
        "obj": Unprintable(),
        "array": np.ones(3),
        "set": {1, 2},
        ("tuple", "key"): Node("n"),
        "exc": KeyError("k"),
    }
    messy["loop"] = messy
    decoded = strict_loads(to_json(messy))
    assert isinstance(decoded, dict)
    assert decoded["loop"] == "<cycle>"
    assert decoded["array"] == [1.0, 1.0, 1.0]


def test_to_json_escapes_lone_surrogates_so_the_text_is_storable() -> None:
    text = to_json({"path": "bad\udcffname"})
    text.encode("utf-8")  # must not raise
    assert strict_loads(text) == {"path": "bad\udcffname"}


def test_fast_path_matches_the_walker() -> None:
    flat = {f"k{i}": f"value {i}" for i in range(10)}
    assert to_json(flat) == json.dumps(flat, separators=(",", ":"))
    assert to_json(flat) == json.dumps(to_jsonable(flat), separators=(",", ":"))


def test_to_jsonable_returns_a_copy() -> None:
    original = {"a": [1]}
    out = to_jsonable(original)
    assert out == original and out is not original
