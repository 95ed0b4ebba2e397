"""Live tail: follow the log from a position, woken by each commit (no polling).

A :class:`Subscription` reads what is already stored above its position, then blocks on
the recorder's in-process commit signal until something newer is committed. Commits by
other processes are seen at the next wake-up or after ``idle_timeout_s``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import final

from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.records import Entry


@final
class Subscription:
    __slots__ = ("_batch", "_closed", "_idle_timeout_s", "_position", "_recorder")

    def __init__(
        self,
        recorder: Recorder,
        *,
        after: int = 0,
        batch: int = 1_000,
        idle_timeout_s: float = 0.5,
    ) -> None:
        self._recorder = recorder
        self._position = after
        self._batch = batch
        self._idle_timeout_s = idle_timeout_s
        self._closed = threading.Event()

    @property
    def position(self) -> int:
        """The position of the last entry handed out."""
        return self._position

    def poll(self, timeout_s: float | None) -> list[Entry]:
        """Entries above the position; waits up to ``timeout_s`` when there are none."""
        entries = self._next(timeout_s)
        if entries:
            self._position = entries[-1].position
        return entries

    def _next(self, timeout_s: float | None) -> list[Entry]:
        """The next batch above the position (waiting as :meth:`poll`), the position
        left where it is."""
        entries = list(self._recorder.read(self._position, self._batch))
        if not entries and not self._closed.is_set():
            self._recorder.wait_for(self._position, timeout_s)
            entries = list(self._recorder.read(self._position, self._batch))
        return entries

    def __iter__(self) -> Iterator[Entry]:
        # The position moves with each entry as it is handed out, not to the end of its
        # batch: a consumer that stops (``break``, an exception) mid-batch and resumes
        # from :attr:`position` must not skip the rest of the batch.
        while not self._closed.is_set():
            for entry in self._next(self._idle_timeout_s):
                self._position = entry.position
                yield entry

    def close(self) -> None:
        """Stop iterating (a waiting iterator returns after its current wait)."""
        self._closed.set()
