"""The progress bar of ``evaluate``: rich on stderr when it is a terminal, else nothing.

Only the calling thread touches it (the run advances it as worker results come back), so it
needs no lock; rich is imported only when a bar is actually shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def phase(self, description: str, total: int) -> None: ...

    def advance(self) -> None: ...


class Quiet:
    def phase(self, description: str, total: int) -> None:
        return

    def advance(self) -> None:
        return


class _RichReporter:
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: object = None

    def phase(self, description: str, total: int) -> None:
        self._task = self.progress.add_task(description, total=total)

    def advance(self) -> None:
        if self._task is not None:
            self.progress.advance(self._task)  # type: ignore[arg-type]


@contextmanager
def reporter(enabled: bool | None) -> Iterator[Reporter]:
    """``enabled=None``: a bar only when stderr is a terminal."""
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        yield Quiet()
        return
    bar = _RichReporter()
    with bar.progress:
        yield bar
