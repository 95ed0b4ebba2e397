"""Record a running node's ticks to Parquet without slowing its dispatch loop.

The node's bus hands each :class:`QuoteTick` / :class:`TradeTick` to
:meth:`TickRecorder.record`, which only appends to a list; every ``handoff`` ticks the
list goes to a writer thread through a bounded queue (a full queue makes the producer
wait: ticks are never dropped), and the thread writes Arrow batches with
:class:`~spreadwire.persistence.ticks.TickWriter`.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import final

from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.errors import StoreError
from spreadwire.persistence.ticks import TickWriter

Tick = QuoteTick | TradeTick


@final
class TickRecorder:
    __slots__ = ("_buffer", "_error", "_handoff", "_queue", "_thread", "_writer", "recorded")

    def __init__(
        self,
        root: str | Path,
        *,
        batch_rows: int = 10_000,
        handoff: int = 1_000,
        max_pending_batches: int = 64,
    ) -> None:
        if handoff < 1:
            raise ValueError(f"handoff: must be >= 1, got {handoff}")
        self._writer = TickWriter(root, batch_rows=batch_rows)
        self._handoff = handoff
        self._buffer: list[Tick] = []
        self._queue: queue.Queue[list[Tick] | None] = queue.Queue(max_pending_batches)
        self._error: BaseException | None = None
        self.recorded = 0
        self._thread = threading.Thread(target=self._run, name="tick-recorder", daemon=True)
        self._thread.start()

    def record(self, tick: Tick) -> None:
        """Take one tick (called on the dispatch thread)."""
        buffer = self._buffer
        buffer.append(tick)
        if len(buffer) >= self._handoff:
            self._hand_off()

    def _hand_off(self) -> None:
        if self._error is not None:
            raise StoreError(f"tick recorder failed: {self._error}") from self._error
        batch, self._buffer = self._buffer, []
        self.recorded += len(batch)
        self._queue.put(batch)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            try:
                self._writer.record_many(batch)
            except BaseException as error:  # surfaced to the producer on its next handoff
                self._error = error
                return

    def close(self) -> int:
        """Write everything recorded so far; return the number of ticks."""
        if self._buffer:
            self._hand_off()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise StoreError(f"tick recorder failed: {self._error}") from self._error
        self._writer.close()
        return self.recorded
