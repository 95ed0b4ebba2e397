"""A discrete-event scheduler: callbacks ordered by (time, insertion order).

The simulator and backtests run on it with a :class:`SimClock`; ties keep insertion
order so a seeded run is deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import final

from spreadwire.core.clock import SimClock


@final
class Scheduler:
    __slots__ = ("_clock", "_heap", "_seq")

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._heap: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = 0

    def at(self, ts_ns: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the clock reaches ``ts_ns`` (now, if in the past)."""
        now = self._clock.timestamp_ns()
        self._seq += 1
        heapq.heappush(self._heap, (ts_ns if ts_ns > now else now, self._seq, callback))

    def after(self, delay_ns: int, callback: Callable[[], None]) -> None:
        self.at(self._clock.timestamp_ns() + delay_ns, callback)

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def run_until(self, ts_ns: int) -> int:
        """Run every callback due at or before ``ts_ns``; return how many ran."""
        heap = self._heap
        clock = self._clock
        ran = 0
        while heap and heap[0][0] <= ts_ns:
            when, _, callback = heapq.heappop(heap)
            if when > clock.timestamp_ns():
                # A callback whose time the clock already passed (moved by its owner)
                # runs late, at the current time: the clock never goes backwards.
                clock.set_time(when)
            callback()
            ran += 1
        if clock.timestamp_ns() < ts_ns:
            clock.set_time(ts_ns)
        return ran

    def __len__(self) -> int:
        return len(self._heap)
