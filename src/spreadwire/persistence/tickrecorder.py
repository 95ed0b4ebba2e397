"""Record a running node's ticks to Parquet without slowing its dispatch loop.

The node's bus hands each :class:`QuoteTick` / :class:`TradeTick` to
:meth:`TickRecorder.record`, which only appends to a list; every ``handoff`` ticks, or
once the oldest tick in the list is ``max_delay_ns`` of tick time older than the newest,
the list goes to a writer thread through a bounded queue (a full queue makes the producer
wait: ticks are never dropped), and the thread writes Arrow batches with
:class:`~spreadwire.persistence.ticks.TickWriter`. The writer also flushes what it holds
once ``flush_s`` of wall time passed since its last write, so a process killed without
``close`` loses at most about ``max_delay_ns`` + ``flush_s`` of ticks (12 s by default),
not a whole batch. Each timed flush writes one Parquet file per partition that has rows,
so a shorter ``flush_s`` means more, smaller files.

When the feed goes quiet no tick comes to trigger the hand-off: the node's timer calls
:meth:`TickRecorder.expire` with its clock (on the dispatch thread, like ``record``), and
a list older than ``max_delay_ns`` goes then.

If the writer fails (a full disk, say), the history stops there, and trading does not:
the failure is logged once, ``record`` and ``expire`` go on taking ticks without raising
into the dispatch loop and count them in ``dropped``, the writer thread keeps draining the
queue so that no producer ever blocks on it, and ``close`` raises
:class:`~spreadwire.errors.StoreError` with the cause and the count.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import final

from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.errors import StoreError
from spreadwire.persistence.ticks import TickWriter

Tick = QuoteTick | TradeTick

_log = logging.getLogger("spreadwire.persistence.tickrecorder")


@final
class TickRecorder:
    __slots__ = (
        "_buffer",
        "_dropped",
        "_due",
        "_error",
        "_flush_s",
        "_handoff",
        "_lost",
        "_max_delay_ns",
        "_queue",
        "_thread",
        "_writer",
        "recorded",
    )

    def __init__(
        self,
        root: str | Path,
        *,
        batch_rows: int = 10_000,
        handoff: int = 1_000,
        max_pending_batches: int = 64,
        max_delay_ns: int = 2_000_000_000,
        flush_s: float = 10.0,
    ) -> None:
        if handoff < 1:
            raise ValueError(f"handoff: must be >= 1, got {handoff}")
        if max_delay_ns <= 0:
            raise ValueError(f"max_delay_ns: must be > 0, got {max_delay_ns}")
        if flush_s <= 0:
            raise ValueError(f"flush_s: must be > 0, got {flush_s}")
        self._writer = TickWriter(root, batch_rows=batch_rows)
        self._handoff = handoff
        self._max_delay_ns = max_delay_ns
        self._flush_s = flush_s
        #: tick time at which the buffer goes to the writer whatever its size
        self._due = 0
        self._buffer: list[Tick] = []
        self._queue: queue.Queue[list[Tick] | None] = queue.Queue(max_pending_batches)
        self._error: BaseException | None = None
        self.recorded = 0
        #: ticks taken after the writer failed (counted by the producer)
        self._dropped = 0
        #: ticks handed over but not written because the writer had failed (counted by
        #: the writer thread: each counter has one writer)
        self._lost = 0
        self._thread = threading.Thread(target=self._run, name="tick-recorder", daemon=True)
        self._thread.start()

    def record(self, tick: Tick) -> None:
        """Take one tick (called on the dispatch thread)."""
        buffer = self._buffer
        buffer.append(tick)
        size = len(buffer)
        if size >= self._handoff:
            self._hand_off()
        elif size == 1:
            self._due = tick.ts_init + self._max_delay_ns
        elif tick.ts_init >= self._due:
            self._hand_off()

    def expire(self, now_ns: int) -> None:
        """Hand the list to the writer if its oldest tick is ``max_delay_ns`` older than
        ``now_ns`` (the node's clock; called on the dispatch thread by its timer)."""
        if self._buffer and now_ns >= self._due:
            self._hand_off()

    @property
    def dropped(self) -> int:
        """Ticks taken after the writer failed (not written)."""
        return self._dropped + self._lost

    def _hand_off(self) -> None:
        batch, self._buffer = self._buffer, []
        if self._error is not None:
            self._dropped += len(batch)
            return
        self.recorded += len(batch)
        self._queue.put(batch)

    def _run(self) -> None:
        writer, flush_s = self._writer, self._flush_s
        written = time.monotonic()
        pending = False
        while True:
            try:
                batch = self._queue.get(timeout=flush_s if pending else None)
            except queue.Empty:
                batch = []
            if batch is None:
                return
            try:
                writer.record_many(batch)
                pending = pending or bool(batch)
                if pending and time.monotonic() - written >= flush_s:
                    writer.flush()
                    written = time.monotonic()
                    pending = False
            except BaseException as error:  # reported by close(); trading goes on
                _log.error("tick history stopped, ticks are no longer written: %s", error)
                self._error = error
                self._drain()
                return

    def _drain(self) -> None:
        """After a failure: take what is handed over until ``close``, so that no producer
        waits on a full queue (those ticks cannot be written: counted in ``dropped``)."""
        while (batch := self._queue.get()) is not None:
            self._lost += len(batch)

    def close(self) -> int:
        """Write everything recorded so far; return the number of ticks handed to the
        writer (a failure raises, with the count of ticks not written)."""
        if self._buffer:
            self._hand_off()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            # everything taken that is not in a file: what the writer held or was given
            # when it failed, and what came after (the thread has ended: counts are final)
            unwritten = self.recorded + self._dropped - self._writer.stats().written_rows
            raise StoreError(
                f"tick history failed: {self._error}; {unwritten} ticks were not written"
            ) from self._error
        self._writer.close()
        return self.recorded
