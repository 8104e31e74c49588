"""Datasets for ``spyglass.evaluate``: a list of dicts, a ``.jsonl`` or ``.csv`` file, a DataFrame.

Every source becomes a ``Dataset`` of ``Example`` records with the same rule: an example dict
holds ``inputs`` and optionally ``expected`` (the reference answer), ``expected_doc_ids`` (the
documents retrieval should find) and ``metadata``. A dict without an ``inputs`` key takes every
other key as its inputs, so ``{"question": "...", "expected": "..."}`` works as is, and so does
a CSV with a ``question`` column. In a CSV, ``inputs`` / ``expected`` / ``metadata`` cells
holding JSON are decoded, and ``expected_doc_ids`` is a JSON list or ids separated by ``|``,
``;`` or ``,``.

pandas is never imported here: a DataFrame is recognised by its ``to_dict`` and ``columns``
and read with ``to_dict(orient="records")``. The dataset hash (SHA-256 over the canonical JSON
of the examples) tells two runs over the same data apart from runs over edited data; each
example's key (a hash of its inputs) pairs examples across runs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from spyglass.errors import EvaluationError

RESERVED = ("inputs", "expected", "expected_doc_ids", "metadata")
_ID_SEPARATORS = re.compile(r"\s*[|;,]\s*")


def canonical_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)


def _digest(text: str, size: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:size]


@dataclass(frozen=True)
class Example:
    """One example: what the target is given, and what the evaluators compare against."""

    position: int
    inputs: object
    expected: object = None
    expected_doc_ids: tuple[str, ...] | None = None
    metadata: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """A hash of the inputs: the same question in two runs has the same key."""
        return _digest(canonical_json(self.inputs), 16)

    def to_dict(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "expected": self.expected,
            "expected_doc_ids": (
                None if self.expected_doc_ids is None else list(self.expected_doc_ids)
            ),
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Dataset:
    name: str
    examples: tuple[Example, ...]

    @property
    def hash(self) -> str:
        body = canonical_json([example.to_dict() for example in self.examples])
        return _digest(body, 16)


def _doc_ids(raw: object, where: str) -> tuple[str, ...] | None:
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):  # an empty pandas cell
        return None
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            return _doc_ids(_json_cell(text, where), where)
        return tuple(part for part in _ID_SEPARATORS.split(text) if part)
    if isinstance(raw, (list, tuple)) and all(isinstance(i, (str, int)) for i in raw):
        return tuple(str(item) for item in raw)
    raise EvaluationError(f"{where}: expected_doc_ids must be a list of ids, got {raw!r}")


def _json_cell(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EvaluationError(f"{where}: not valid JSON ({exc})") from None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def example_from(record: object, position: int, where: str) -> Example:
    """One ``Example`` from one dict (see the module docstring for the rule)."""
    if not isinstance(record, Mapping):
        raise EvaluationError(
            f"{where}: an example must be a dict with 'inputs', got {type(record).__name__}"
        )
    if "inputs" in record:
        inputs = record["inputs"]
    else:
        inputs = {str(k): v for k, v in record.items() if k not in RESERVED}
    if _blank(inputs) or inputs == {}:
        raise EvaluationError(f"{where}: the example has no inputs")
    metadata = record.get("metadata")
    if _blank(metadata):
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise EvaluationError(f"{where}: metadata must be a dict, got {metadata!r}")
    expected = record.get("expected")
    return Example(
        position=position,
        inputs=inputs,
        expected=None if _blank(expected) else expected,
        expected_doc_ids=_doc_ids(record.get("expected_doc_ids"), where),
        metadata=MappingProxyType(dict(metadata)),
    )


def _from_records(records: Iterable[object], name: str) -> Dataset:
    examples = tuple(
        example_from(record, i, f"{name}: example {i + 1}") for i, record in enumerate(records)
    )
    if not examples:
        raise EvaluationError(f"{name}: the dataset is empty")
    return Dataset(name, examples)


def _read_jsonl(path: Path) -> list[object]:
    records: list[object] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise EvaluationError(f"{path}:{number}: not valid JSON ({exc})") from None
    return records


def _decode_cells(row: dict[str, str], where: str) -> dict[str, object]:
    """CSV cells are text: JSON-decode the structured columns, drop empty optional ones."""
    out: dict[str, object] = {}
    for key, cell in row.items():
        if key is None:
            raise EvaluationError(f"{where}: more cells than column names")
        if key in ("inputs", "expected", "metadata") and cell[:1] in ("{", "["):
            out[key] = _json_cell(cell, f"{where}, column {key}")
        elif key in ("expected", "expected_doc_ids", "metadata") and cell == "":
            continue
        else:
            out[key] = cell
    return out


def _read_csv(path: Path) -> list[object]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise EvaluationError(f"{path}: the CSV file has no header row")
        return [_decode_cells(row, f"{path}:{number + 2}") for number, row in enumerate(reader)]


def _read_file(path: Path) -> list[object]:
    if not path.is_file():
        raise EvaluationError(f"no dataset file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            return _read_jsonl(path)
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise EvaluationError(f"{path}: a JSON dataset must be a list of examples")
            return data
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from None
    except ValueError as exc:
        if isinstance(exc, EvaluationError):
            raise
        raise EvaluationError(f"{path}: not valid JSON ({exc})") from None
    raise EvaluationError(f"{path}: a dataset must be a .jsonl, .csv or .json file")


def _is_dataframe(data: object) -> bool:
    return hasattr(data, "to_dict") and hasattr(data, "columns") and hasattr(data, "iloc")


def load_dataset(data: object, name: str | None = None) -> Dataset:
    """A ``Dataset`` from a list of dicts, a path (``.jsonl``, ``.csv``, ``.json``) or a
    pandas DataFrame; ``name`` defaults to the file's stem, else ``dataset``."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        return _from_records(_read_file(path), name or path.stem)
    if _is_dataframe(data):
        records = data.to_dict(orient="records")  # type: ignore[attr-defined]
        return _from_records(records, name or "dataframe")
    if isinstance(data, (list, tuple)):
        return _from_records(data, name or "dataset")
    raise EvaluationError(
        "data must be a list of dicts, a .jsonl / .csv path or a pandas DataFrame; "
        f"got {type(data).__name__}"
    )
