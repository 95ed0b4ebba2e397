"""Clocks. The only module that reads operating-system time.

Engines receive a :class:`Clock` and never read time themselves, so the same code runs
live, in the simulator and in backtests, and a seeded run replays bit for bit.
"""

from __future__ import annotations

import time
from typing import final

#: Monotonic high-resolution counter for measuring processing latency (not wall time).
perf_counter_ns = time.perf_counter_ns


class Clock:
    """Source of the current time in integer nanoseconds since the Unix epoch.

    A base class rather than a protocol: the compiled engines call ``timestamp_ns``
    through it natively (a protocol call is a Python method call)."""

    __slots__ = ()

    def timestamp_ns(self) -> int:
        raise NotImplementedError


@final
class LiveClock(Clock):
    """Wall-clock time from the operating system."""

    __slots__ = ()

    def timestamp_ns(self) -> int:
        return time.time_ns()


@final
class SimClock(Clock):
    """A clock that only moves when told to; time never goes backwards."""

    __slots__ = ("_now_ns",)

    def __init__(self, start_ns: int = 0) -> None:
        if start_ns < 0:
            raise ValueError(f"start_ns: must be >= 0, got {start_ns}")
        self._now_ns = start_ns

    def timestamp_ns(self) -> int:
        return self._now_ns

    def set_time(self, ts_ns: int) -> None:
        """Move the clock to ``ts_ns``; moving backwards is an error."""
        if ts_ns < self._now_ns:
            raise ValueError(f"ts_ns: {ts_ns} is before the current time {self._now_ns}")
        self._now_ns = ts_ns

    def advance(self, delta_ns: int) -> None:
        if delta_ns < 0:
            raise ValueError(f"delta_ns: must be >= 0, got {delta_ns}")
        self._now_ns += delta_ns


def sleep_until_perf(deadline_ns: int) -> None:
    """Block the thread until ``perf_counter_ns()`` reaches ``deadline_ns``."""
    remaining = deadline_ns - time.perf_counter_ns()
    if remaining > 0:
        time.sleep(remaining / 1e9)
