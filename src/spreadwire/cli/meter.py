"""How far a long pass over the event log is (``events verify``, ``projections rebuild``).

Progress goes to standard error, so standard output stays what scripts read: a rich
progress bar on a terminal (gone when the pass ends), a plain line every few seconds
otherwise. A pass that ends within the first interval prints nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO, final

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

#: Seconds between two plain progress lines (and before the first).
INTERVAL_S = 5.0


@final
class Meter:
    """Reports ``update(label, done, total)`` calls: one bar (or line) per label."""

    __slots__ = (
        "_bar",
        "_last",
        "_now",
        "_started",
        "_stream",
        "_tasks",
        "interval_s",
    )

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        interval_s: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._now = now
        self.interval_s = INTERVAL_S if interval_s is None else interval_s
        self._started: dict[str, tuple[float, int]] = {}
        self._last = now()
        self._tasks: dict[str, TaskID] = {}
        use_bar = self._stream.isatty() if live is None else live
        self._bar: Progress | None = None
        if use_bar:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(file=self._stream, force_terminal=True),
                transient=True,
                # standard output is the command's answer: rich would otherwise send it
                # through this console (standard error) while the bar is shown
                redirect_stdout=False,
            )
            self._bar.start()

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def stage(self, label: str, total: int) -> Callable[[int], None]:
        """A callback reporting ``done`` out of ``total`` under ``label``."""
        return lambda done: self.update(label, done, total)

    def update(self, label: str, done: int, total: int) -> None:
        now = self._now()
        start = self._started.setdefault(label, (now, done))
        if self._bar is not None:
            task = self._tasks.get(label)
            if task is None:
                task = self._tasks[label] = self._bar.add_task(label, total=max(total, 1))
            self._bar.update(task, completed=done, total=max(total, 1))
            return
        if now - self._last < self.interval_s:
            return
        self._last = now
        elapsed = now - start[0]
        rate = (done - start[1]) / elapsed if elapsed > 0 else 0.0
        share = f" ({100 * done / total:.0f}%)" if total > 0 else ""
        self._stream.write(f"{label}: {done:,} of {total:,}{share}, {rate:,.0f}/s\n")
        self._stream.flush()
