"""Aligned columns of one-line cells, laid out for the width they are printed at.

``rich.table.Table`` measures and renders every cell as a renderable of its own: a thousand-
span waterfall (8,000 cells) takes about a second to print. Every cell of spyglass's lists is
one line of ``Text``, so ``Grid`` measures cells by their length and builds each row as one
line of segments: the same output in a small fraction of the time.

Layout, at render time: each column takes its widest cell (up to ``max_width``, or exactly
``width``); the ``stretch`` column takes what is left, down to ``MIN_STRETCH``; below that the
``optional`` columns are left out, first named first. Long cells end in "…".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

MIN_STRETCH = 16
GAP = 2


@dataclass(frozen=True)
class Column:
    header: str
    justify: Literal["left", "right"] = "left"
    max_width: int | None = None
    width: int | None = None


class Grid:
    """Rows of ``Text`` cells under bold headers; see the module docstring for the layout."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        stretch: str | None = None,
        optional: Sequence[str] = (),
        header: bool = True,
    ) -> None:
        self.columns = list(columns)
        self.stretch = stretch
        self.optional = optional
        self.header = header
        self.rows: list[list[_Cell]] = []
        self._widest = [len(c.header) for c in self.columns]

    def add_row(self, *cells: Text | str | tuple[str, str]) -> None:
        """Cells as ``Text``, plain ``str``, or ``(str, style)`` (cheapest for one style)."""
        row = [_cell(c) for c in cells]
        self.rows.append(row)
        self._widest = [max(w, cell.width) for w, cell in zip(self._widest, row, strict=True)]

    def _natural(self, index: int) -> int:
        column = self.columns[index]
        if column.width is not None:
            return column.width
        return min(self._widest[index], column.max_width or self._widest[index])

    def layout(self, max_width: int) -> list[tuple[int, int]]:
        """``(column index, width)`` of the columns shown at ``max_width``."""
        natural = [self._natural(i) for i in range(len(self.columns))]
        shown = list(range(len(self.columns)))
        dropping = list(self.optional)
        while True:
            fixed = sum(natural[i] for i in shown if self.columns[i].header != self.stretch)
            room = max_width - fixed - GAP * (len(shown) - 1)
            if room >= MIN_STRETCH or not dropping:
                break
            name = dropping.pop(0)
            shown = [i for i in shown if self.columns[i].header != name]
        out = []
        for i in shown:
            width = natural[i]
            if self.columns[i].header == self.stretch:
                width = max(min(MIN_STRETCH, width), min(width, room))
            out.append((i, width))
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        layout = self.layout(options.max_width)
        rows = self.rows
        if self.header:
            rows = [[_cell(Text(c.header, style="bold")) for c in self.columns], *rows]
        styles: dict[str | Style, Style] = {}

        def style(name: str | Style) -> Style:
            found = styles.get(name)
            if found is None:
                found = styles[name] = (
                    name if isinstance(name, Style) else console.get_style(name, default="")
                )
            return found

        # Segments straight from the fitted cells (a Text per cell, rendered by rich, costs
        # about a hundred times more), neighbours of one style merged: rich handles each
        # segment several times over, and a thousand-span trace has tens of thousands.
        gap = Segment(" " * GAP)
        for row in rows:
            line: list[Segment] = []
            for n, (i, width) in enumerate(layout):
                if n:
                    line.append(gap)
                line.extend(_segments(row[i], width, self.columns[i].justify, style))
            yield from _merged(line)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widths = [w for _, w in self.layout(options.max_width)]
        total = sum(widths) + GAP * (len(widths) - 1)
        return Measurement(min(total, options.max_width), min(total, options.max_width))


class _Cell(NamedTuple):
    plain: str
    style: str | Style
    spans: list[Span]
    width: int


def _cell(value: Text | str | tuple[str, str]) -> _Cell:
    if isinstance(value, str):
        return _Cell(value, "", [], _width(value))
    if isinstance(value, tuple):
        return _Cell(value[0], value[1], [], _width(value[0]))
    return _Cell(value.plain, value.style, value.spans, _width(value.plain))


def _width(plain: str) -> int:
    return len(plain) if plain.isascii() else cell_len(plain)


def _fit(cell: _Cell, width: int, justify: str) -> tuple[str, int, int]:
    """The cell's text cut (with "…") or padded to ``width`` cells, and where its text lies."""
    if cell.width > width:
        cut = set_cell_size(cell.plain, max(0, width - 1)) + "…" if width else ""
        return cut, 0, len(cut)
    pad = " " * (width - cell.width)
    if justify == "right":
        return pad + cell.plain, len(pad), len(pad) + len(cell.plain)
    return cell.plain + pad, 0, len(cell.plain)


def _segments(
    cell: _Cell, width: int, justify: str, style: Callable[[str | Style], Style]
) -> Iterator[Segment]:
    """The cell fitted to ``width``, with its styles."""
    plain, start, end = _fit(cell, width, justify)
    if start:
        yield Segment(plain[:start])
    base = style(cell.style)
    spans = [s for s in cell.spans if s.start < end - start]
    if not spans:
        yield Segment(plain[start:end], base)
    else:
        size = end - start
        edges = {min(s.start, size) for s in spans} | {min(s.end, size) for s in spans}
        cuts = sorted({0, size} | edges)
        for a, b in pairwise(cuts):
            if b > a:
                covering = [style(s.style) for s in spans if s.start <= a and s.end >= b]
                yield Segment(plain[start + a : start + b], Style.chain(base, *covering))
    if end < len(plain):
        yield Segment(plain[end:])


def _merged(segments: list[Segment]) -> Iterator[Segment]:
    """Runs of segments in one style as one segment."""
    text: list[str] = []
    current: Style | None = None
    for segment in segments:
        if text and segment.style is not current and segment.style != current:
            yield Segment("".join(text), current)
            text = []
        current = segment.style
        text.append(segment.text)
    if text:
        yield Segment("".join(text), current)
