"""Rich views of the registry for the CLI: list, log, show, and the diff.

Pure functions from registry records to rich renderables. Prompt text is untrusted (it may hold
markup, ANSI escapes, other control characters): every piece goes through ``safe_text`` /
``literal`` into ``rich.text.Text``; no markup string is ever built from it.

The diff colours removed lines red and added lines green. A run of removed lines followed by a
run of added lines is paired line by line, and within each pair ``difflib`` compares words, so
the words that changed stand out (reversed) from the words that did not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from spyglass.prompts._diff import DiffLine, PromptDiff, RunStats
from spyglass.prompts._reader import PromptSummary
from spyglass.prompts._version import PromptVersion, iso_utc
from spyglass.viewer._format import ROLE_STYLE, duration
from spyglass.viewer._safe import literal, safe_text

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_LINE_STYLE = {"header": "bold", "hunk": "cyan", "context": "", "add": "green", "remove": "red"}
_NO_RUNS = (
    "no traces linked to these versions yet: call v.format(...) inside spyglass.trace(...), "
    "or run a template from v.to_langchain() with autolog on"
)


def _when(version: PromptVersion) -> str:
    return iso_utc(version.created_at)[:19].replace("T", " ")


def _aliases_of(version: int, aliases: dict[str, int]) -> str:
    return ", ".join(alias for alias, number in sorted(aliases.items()) if number == version)


# -- list, log, show -----------------------------------------------------------------------------


def list_table(summaries: Sequence[PromptSummary]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("NAME", "LATEST", "VERSIONS", "ALIASES", "UPDATED UTC"):
        table.add_column(column, no_wrap=column != "ALIASES")
    for s in summaries:
        table.add_row(
            safe_text(s.name, "bold", single_line=True),
            str(s.latest),
            str(s.versions),
            safe_text(", ".join(f"{a}→{v}" for a, v in sorted(s.aliases.items())) or "-"),
            iso_utc(s.updated_at)[:19].replace("T", " "),
        )
    return table


def log_table(versions: Sequence[PromptVersion], aliases: dict[str, int]) -> Table:
    """Newest first, like ``git log``."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("VERSION", "CREATED UTC", "HASH", "ALIASES", "MODEL", "VARIABLES", "MESSAGE"):
        table.add_column(column, no_wrap=column not in ("VARIABLES", "MESSAGE"))
    for v in sorted(versions, key=lambda item: item.version, reverse=True):
        table.add_row(
            Text(str(v.version), style="bold"),
            _when(v),
            v.hash[:12],
            Text(_aliases_of(v.version, aliases), style="yellow"),
            safe_text(v.model or "-", "magenta", single_line=True),
            safe_text(", ".join(v.variables) or "-", single_line=True),
            safe_text(v.message or "", single_line=True),
        )
    return table


def version_view(version: PromptVersion, aliases: dict[str, int]) -> RenderableType:
    """A header (ref, kind, time, hash, aliases, model, parameters, tags, variables, message)
    and the template, each chat message under its role."""
    head = Text()
    head.append_text(safe_text(version.ref, "bold", single_line=True))
    head.append(f"  {'chat' if version.is_chat else 'text'}  {_when(version)} UTC", style="dim")
    head.append(f"  {version.hash[:12]}", style="dim")
    pointing = _aliases_of(version.version, aliases)
    if pointing:
        head.append(f"  ({pointing})", style="yellow")
    facts = [
        ("message", version.message),
        ("model", version.model),
        ("parameters", json.dumps(dict(version.parameters)) if version.parameters else None),
        ("tags", ", ".join(version.tags) or None),
        ("variables", ", ".join(version.variables) or "none"),
    ]
    lines: list[RenderableType] = [head]
    for label, value in facts:
        if value:
            line = Text(f"{label}: ", style="dim")
            line.append_text(safe_text(value, single_line=True))
            lines.append(line)
    lines.append(Text(""))
    if isinstance(version.template, str):
        lines.append(safe_text(version.template))
    else:
        for message in version.template:
            lines.append(Text(f"[{message.role}]", style=ROLE_STYLE.get(message.role, "bold")))
            lines.append(safe_text(message.content))
    return Group(*lines)


# -- diff ----------------------------------------------------------------------------------------


def _words_line(sign: str, text: str, spans: list[tuple[int, int]], style: str) -> Text:
    line = Text(sign, style=style)
    for start, end, changed in _segments(text, spans):
        line.append(literal(text[start:end]), style=f"bold reverse {style}" if changed else style)
    return line


def _segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    out, at = [], 0
    for start, end in spans:
        if start > at:
            out.append((at, start, False))
        out.append((start, end, True))
        at = end
    if at < len(text):
        out.append((at, len(text), False))
    return out


def _changed_spans(old: str, new: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character ranges of the words that differ, in the old and in the new line."""
    import difflib

    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    a_at = [sum(len(t) for t in a[:i]) for i in range(len(a) + 1)]
    b_at = [sum(len(t) for t in b[:i]) for i in range(len(b) + 1)]
    old_spans, new_spans = [], []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete") and i2 > i1:
            old_spans.append((a_at[i1], a_at[i2]))
        if tag in ("replace", "insert") and j2 > j1:
            new_spans.append((b_at[j1], b_at[j2]))
    return old_spans, new_spans


def _changed_block(removed: list[str], added: list[str]) -> list[Text]:
    """Removed then added lines; pairs get word-level highlighting, leftovers are plain."""
    pairs = min(len(removed), len(added))
    spans = [_changed_spans(removed[i][1:], added[i][1:]) for i in range(pairs)]
    out = []
    for i, text in enumerate(removed):
        marked = spans[i][0] if i < pairs else []
        out.append(_words_line("-", text[1:], marked, "red"))
    for i, text in enumerate(added):
        marked = spans[i][1] if i < pairs else []
        out.append(_words_line("+", text[1:], marked, "green"))
    return out


def diff_lines(lines: Sequence[DiffLine]) -> list[Text]:
    """The unified diff as coloured lines, changed words highlighted."""
    out: list[Text] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed or added:
            out.extend(_changed_block(removed, added))
            removed.clear()
            added.clear()

    for line in lines:
        if line.kind == "remove":
            if added:  # a removal after additions starts a new block
                flush()
            removed.append(line.text)
        elif line.kind == "add":
            added.append(line.text)
        else:
            flush()
            out.append(safe_text(line.text, _LINE_STYLE[line.kind]))
    flush()
    return out


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _latency(value: float | None) -> str:
    return "-" if value is None else duration(value)


def _delta(a: float | None, b: float | None, *, worse_up: bool, points: bool = False) -> Text:
    if a is None or b is None or (a == 0 and not points):
        return Text("")
    change = (b - a) * 100 if points else (b - a) / a * 100
    unit = " pp" if points else "%"
    style = "" if change == 0 else ("red" if (change > 0) == worse_up else "green")
    return Text(f"{change:+.1f}{unit}", style=style)


def runs_table(runs: tuple[RunStats, RunStats]) -> Table:
    """What the traces linked to each version show, side by side."""
    a, b = runs
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("LINKED TRACES")
    table.add_column(a.ref, justify="right")
    table.add_column(b.ref, justify="right")
    table.add_column("CHANGE", justify="right")
    rows: list[tuple[str, Callable[[RunStats], str], Text]] = [
        ("runs", lambda r: str(r.runs), Text("")),
        (
            "error rate",
            lambda r: _percent(r.error_rate),
            _delta(a.error_rate, b.error_rate, worse_up=True, points=True),
        ),
        (
            "median latency",
            lambda r: _latency(r.median_latency_ms),
            _delta(a.median_latency_ms, b.median_latency_ms, worse_up=True),
        ),
        (
            "mean input tokens",
            lambda r: _number(r.mean_input_tokens),
            _delta(a.mean_input_tokens, b.mean_input_tokens, worse_up=True),
        ),
        (
            "mean output tokens",
            lambda r: _number(r.mean_output_tokens),
            _delta(a.mean_output_tokens, b.mean_output_tokens, worse_up=True),
        ),
    ]
    for label, cell, change in rows:
        table.add_row(label, cell(a), cell(b), change)
    scores_a, scores_b = dict(a.mean_scores), dict(b.mean_scores)
    for name in sorted(set(scores_a) | set(scores_b)):  # higher is better for a score
        before, after = scores_a.get(name), scores_b.get(name)
        table.add_row(
            safe_text(f"mean {name}", single_line=True),
            _score(before),
            _score(after),
            _delta(before, after, worse_up=False),
        )
    return table


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _changes(diff: PromptDiff) -> list[Text]:
    out = []
    for name in diff.variables_added:
        out.append(Text("+ variable ", style="green").append_text(safe_text(name, "bold green")))
    for name in diff.variables_removed:
        out.append(Text("- variable ", style="red").append_text(safe_text(name, "bold red")))
    if diff.model_change is not None:
        before, after = diff.model_change
        line = Text("model: ", style="bold")
        line.append_text(safe_text(before or "(none)", "red", single_line=True))
        line.append(" → ")
        line.append_text(safe_text(after or "(none)", "green", single_line=True))
        out.append(line)
    for change in diff.parameter_changes:
        line = Text(f"parameter {change.kind}: ", style="bold")
        line.append_text(safe_text(change.key, single_line=True))
        line.append(" ")
        before = "" if change.kind == "added" else json.dumps(change.before)
        after = "" if change.kind == "removed" else json.dumps(change.after)
        line.append_text(safe_text(before, "red", single_line=True))
        line.append(" → " if before and after else "")
        line.append_text(safe_text(after, "green", single_line=True))
        out.append(line)
    return out


def diff_view(diff: PromptDiff) -> RenderableType:
    """Title, the template diff, variable / model / parameter changes, linked-trace table."""
    title = safe_text(f"{diff.a.ref} → {diff.b.ref}", "bold", single_line=True)
    parts: list[RenderableType] = [title, Text("")]
    if diff.template_changed:
        parts.extend(diff_lines(diff.lines))
    else:
        parts.append(Text("templates are identical", style="dim"))
    changes = _changes(diff)
    if changes:
        parts.append(Text(""))
        parts.extend(changes)
    parts.append(Text(""))
    parts.append(runs_table(diff.runs))
    if diff.runs_by_index:  # more than one index answered: was it the prompt or the index?
        from spyglass.viewer._index_view import runs_by_index_table

        parts += [Text(""), runs_by_index_table((diff.a.ref, diff.b.ref), diff.runs_by_index)]
    if not diff.runs[0].runs and not diff.runs[1].runs:
        parts.append(Text(_NO_RUNS, style="dim"))
    return Group(*parts)
