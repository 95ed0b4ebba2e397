"""A one-way, in-order message link with a latency model (constant + seeded jitter)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Generic, TypeVar, final

import numpy as np

from spreadwire.core.clock import Clock
from spreadwire.core.scheduler import Scheduler

T = TypeVar("T")
_JITTER_BLOCK: Final = 1024


@final
class DelayLink(Generic[T]):
    """Delivers pushed messages to ``deliver`` after ``latency_ns`` plus uniform jitter.

    Order is preserved (a message never overtakes an earlier one), and messages pushed at
    the same instant travel together as one batch (one scheduler event). ``deliver`` may
    be replaced later (``connect``); while it is None, delivered messages are dropped.
    """

    __slots__ = (
        "_batch",
        "_batch_ts",
        "_clock",
        "_jitter",
        "_jitter_index",
        "_jitter_ns",
        "_last_due",
        "_latency_ns",
        "_rng",
        "_scheduler",
        "deliver",
        "delivered",
        "dropped",
    )

    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        rng: np.random.Generator,
        *,
        latency_ns: int,
        jitter_ns: int,
        deliver: Callable[[T], None] | None = None,
    ) -> None:
        if latency_ns < 0 or jitter_ns < 0:
            raise ValueError("latency_ns, jitter_ns: must be >= 0")
        self._clock = clock
        self._scheduler = scheduler
        self._rng = rng
        self._latency_ns = latency_ns
        self._jitter_ns = jitter_ns
        self._jitter: list[int] = []
        self._jitter_index = 0
        self._batch: list[T] | None = None
        self._batch_ts = -1
        self._last_due = 0
        self.deliver = deliver
        self.delivered = 0
        self.dropped = 0

    def push(self, message: T) -> None:
        now = self._clock.timestamp_ns()
        batch = self._batch
        if batch is not None and self._batch_ts == now:
            batch.append(message)
            return
        new_batch = [message]
        self._batch = new_batch
        self._batch_ts = now
        due = now + self._latency_ns + self._next_jitter()
        if due < self._last_due:
            due = self._last_due
        self._last_due = due
        self._scheduler.at(due, lambda: self._flush(new_batch))

    def _next_jitter(self) -> int:
        if not self._jitter_ns:
            return 0
        if self._jitter_index >= len(self._jitter):
            block = self._rng.integers(0, self._jitter_ns + 1, size=_JITTER_BLOCK)
            self._jitter = [int(x) for x in block.tolist()]
            self._jitter_index = 0
        value = self._jitter[self._jitter_index]
        self._jitter_index += 1
        return value

    def _flush(self, batch: list[T]) -> None:
        if self._batch is batch:
            self._batch = None
        deliver = self.deliver
        if deliver is None:
            self.dropped += len(batch)
            return
        self.delivered += len(batch)
        for message in batch:
            deliver(message)
