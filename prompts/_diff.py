"""``PromptDiff``: what changed between two versions, and what each version's traces did.

The template diff is a list of ``DiffLine(kind, text)``; ``str()`` joins it into a unified
diff. Text prompts diff line by line (``difflib.unified_diff``). Chat prompts diff message by
message: identical messages anchor the alignment (``SequenceMatcher``), and between anchors each
old message pairs with the most similar new one (``_pair``), so inserting a system message does
not make every later message look changed. Unchanged messages are left out, a changed message
gets a unified diff of its content under an ``@@ message N (role) ... @@`` header, and added or
removed messages are shown whole. A text prompt compared with a chat prompt is treated as one
message with role ``text``.

``RunStats`` summarises the traces linked to a version (see ``_link``): runs, error rate,
median latency and mean tokens, computed from the ``traces`` roll-up rows. A run is an error
when any span of its trace failed (``error_count > 0``), not only its root: a tool call that
failed and was recovered from is a cost of the version too, and ``spyglass stats`` counts the
same way.
"""

from __future__ import annotations

import difflib
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

from spyglass.prompts._template import Message, Template, to_jsonable
from spyglass.prompts._version import PromptVersion

if TYPE_CHECKING:
    from spyglass.prompts._index_runs import IndexRunStats

DiffKind = Literal["header", "hunk", "context", "add", "remove"]
_MISSING = object()


class DiffLine(NamedTuple):
    kind: DiffKind
    text: str


@dataclass(frozen=True)
class RunStats:
    """What the traces linked to one version show: runs, error runs (a span of the trace
    failed, the root or any other), median trace duration, mean tokens per run that reported
    usage."""

    ref: str
    runs: int
    errors: int
    median_latency_ms: float | None
    mean_input_tokens: float | None
    mean_output_tokens: float | None
    mean_scores: tuple[tuple[str, float], ...] = ()
    """Mean of each score name over the linked traces (number and bool scores)."""

    @property
    def error_rate(self) -> float | None:
        """Share of runs in whose trace any span failed; None without runs."""
        return self.errors / self.runs if self.runs else None

    @classmethod
    def from_rows(cls, ref: str, rows: Sequence[tuple[object, int, int, int]]) -> RunStats:
        """``rows``: ``(failed, duration_ns, input_tokens, output_tokens)`` per trace,
        ``failed`` true when any of its spans failed. Token means count the runs that
        reported usage: a call that failed before answering has no token counts, and
        counting it as zero would understate what a call costs."""
        if not rows:
            return cls(ref, 0, 0, None, None, None)
        used = [row for row in rows if row[2] or row[3]]
        return cls(
            ref=ref,
            runs=len(rows),
            errors=sum(1 for row in rows if row[0]),
            median_latency_ms=statistics.median(row[1] for row in rows) / 1e6,
            mean_input_tokens=statistics.fmean(row[2] for row in used) if used else None,
            mean_output_tokens=statistics.fmean(row[3] for row in used) if used else None,
        )

    def to_dict(self) -> dict[str, object]:
        def rounded(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "ref": self.ref,
            "runs": self.runs,
            "errors": self.errors,
            "error_rate": rounded(self.error_rate, 4),
            "median_latency_ms": rounded(self.median_latency_ms, 3),
            "mean_input_tokens": rounded(self.mean_input_tokens, 2),
            "mean_output_tokens": rounded(self.mean_output_tokens, 2),
            "mean_scores": {name: round(value, 4) for name, value in self.mean_scores},
        }


@dataclass(frozen=True)
class ParameterChange:
    key: str
    kind: Literal["added", "removed", "changed"]
    before: object
    after: object

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "change": self.kind, "a": self.before, "b": self.after}


def _kind(text: str) -> DiffKind:
    if text.startswith("@@"):
        return "hunk"
    if text.startswith("+"):
        return "add"
    return "remove" if text.startswith("-") else "context"


def _hunks(before: str, after: str, context: int) -> list[DiffLine]:
    """Unified diff body lines (``@@`` hunks and their lines), without the file headers."""
    # split("\n"), not splitlines(): a trailing newline added or removed must show.
    raw = difflib.unified_diff(before.split("\n"), after.split("\n"), lineterm="", n=context)
    lines: list[DiffLine] = []
    for number, text in enumerate(raw):
        if number < 2:  # the ---/+++ pair; the caller writes its own headers
            continue
        lines.append(DiffLine(_kind(text), text))
    return lines


def _role_label(a: Message, b: Message) -> str:
    return a.role if a.role == b.role else f"{a.role} → {b.role}"


def _changed_message(i: int, a: Message, j: int, b: Message, context: int) -> list[DiffLine]:
    where = f"message {i + 1}" if i == j else f"message {i + 1} → {j + 1}"
    label = f"{where} ({_role_label(a, b)})"
    body = _hunks(a.content, b.content, context)
    if not body:  # only the role changed
        return [DiffLine("hunk", f"@@ {label} @@")]
    return [
        DiffLine("hunk", f"@@ {label} {line.text[3:]}") if line.kind == "hunk" else line
        for line in body
    ]


def _whole_message(index: int, msg: Message, kind: Literal["add", "remove"]) -> list[DiffLine]:
    sign, verb = ("+", "added") if kind == "add" else ("-", "removed")
    lines = [DiffLine("hunk", f"@@ message {index + 1} ({msg.role}) {verb} @@")]
    lines.extend(DiffLine(kind, sign + text) for text in msg.content.split("\n"))
    return lines


def _as_messages(template: Template) -> tuple[Message, ...]:
    return (Message("text", template),) if isinstance(template, str) else template


def template_lines(a: PromptVersion, b: PromptVersion, context: int = 3) -> list[DiffLine]:
    """The unified diff of two versions' templates; empty when they are the same."""
    if to_jsonable(a.template) == to_jsonable(b.template):
        return []
    lines = [DiffLine("header", f"--- {a.ref}"), DiffLine("header", f"+++ {b.ref}")]
    if isinstance(a.template, str) and isinstance(b.template, str):
        return lines + _hunks(a.template, b.template, context)
    left, right = _as_messages(a.template), _as_messages(b.template)
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i, j in _pair(left[i1:i2], right[j1:j2]):
            if i is not None and j is not None:
                lines += _changed_message(i1 + i, left[i1 + i], j1 + j, right[j1 + j], context)
            elif i is not None:
                lines += _whole_message(i1 + i, left[i1 + i], "remove")
            elif j is not None:
                lines += _whole_message(j1 + j, right[j1 + j], "add")
    return lines


def _pair(left: Sequence[Message], right: Sequence[Message]) -> list[tuple[int | None, int | None]]:
    """Order-keeping pairs of similar messages within a changed block; ``None``: unpaired.

    Each old message pairs with the most similar later new message (content at least half
    the same), so an inserted message shows as added instead of shifting every pair."""
    pairs: list[tuple[int | None, int | None]] = []
    start = 0
    for i, old in enumerate(left):
        best, best_score = None, 0.5
        for j in range(start, len(right)):
            score = difflib.SequenceMatcher(None, old.content, right[j].content).ratio()
            if score > best_score:
                best, best_score = j, score
        if best is None:
            pairs.append((i, None))
            continue
        pairs.extend((None, j) for j in range(start, best))
        pairs.append((i, best))
        start = best + 1
    pairs.extend((None, j) for j in range(start, len(right)))
    return pairs


def parameter_changes(
    a: Mapping[str, object], b: Mapping[str, object]
) -> tuple[ParameterChange, ...]:
    changes = []
    for key in sorted(set(a) | set(b)):
        before, after = a.get(key, _MISSING), b.get(key, _MISSING)
        if before is _MISSING:
            changes.append(ParameterChange(key, "added", None, after))
        elif after is _MISSING:
            changes.append(ParameterChange(key, "removed", before, None))
        elif before != after:
            changes.append(ParameterChange(key, "changed", before, after))
    return tuple(changes)


@dataclass(frozen=True)
class PromptDiff:
    """``registry.diff(name, a, b)``: ``str()`` is a unified diff of the templates."""

    a: PromptVersion
    b: PromptVersion
    lines: tuple[DiffLine, ...]
    variables_added: tuple[str, ...]
    variables_removed: tuple[str, ...]
    model_change: tuple[str | None, str | None] | None
    parameter_changes: tuple[ParameterChange, ...]
    runs: tuple[RunStats, RunStats]
    runs_by_index: tuple[IndexRunStats, ...] = ()
    """The runs split by the index that answered them, when more than one did."""

    @classmethod
    def between(
        cls,
        a: PromptVersion,
        b: PromptVersion,
        runs: tuple[RunStats, RunStats],
        runs_by_index: tuple[IndexRunStats, ...] = (),
    ) -> PromptDiff:
        return cls(
            a=a,
            b=b,
            lines=tuple(template_lines(a, b)),
            variables_added=tuple(v for v in b.variables if v not in a.variables),
            variables_removed=tuple(v for v in a.variables if v not in b.variables),
            model_change=None if a.model == b.model else (a.model, b.model),
            parameter_changes=parameter_changes(a.parameters, b.parameters),
            runs=runs,
            runs_by_index=runs_by_index,
        )

    @property
    def name(self) -> str:
        return self.a.name

    @property
    def template_changed(self) -> bool:
        return bool(self.lines)

    def __str__(self) -> str:
        return "".join(line.text + "\n" for line in self.lines)

    def to_dict(self) -> dict[str, object]:
        """The documented JSON form (``spyglass prompts diff --json``)."""
        return {
            "name": self.name,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "diff": str(self),
            "variables_added": list(self.variables_added),
            "variables_removed": list(self.variables_removed),
            "model": (
                None
                if self.model_change is None
                else {"a": self.model_change[0], "b": self.model_change[1]}
            ),
            "parameters": [change.to_dict() for change in self.parameter_changes],
            "runs": {"a": self.runs[0].to_dict(), "b": self.runs[1].to_dict()},
            "runs_by_index": [index.to_dict() for index in self.runs_by_index],
        }
