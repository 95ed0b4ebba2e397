"""Sliding-window monitors feeding the circuit breaker (all on injected time).

* :class:`RateWindow` - bad/total ratio over a time window (deny and reject rate);
* :class:`BurstWindow` - N events within a time window (venue error burst);
* :class:`LatencyWindow` - p99 of samples over consecutive windows (tick-to-order).
"""

from __future__ import annotations

from collections import deque
from typing import final

from spreadwire.core.histogram import LatencyHistogram


@final
class RateWindow:
    """Counts in ``buckets`` time slices covering ``window_ns``; O(1) per record."""

    __slots__ = ("_bad", "_bucket_ns", "_epoch", "_n", "_synced", "_total", "bad", "total")

    def __init__(self, window_ns: int, buckets: int = 10) -> None:
        self._n = buckets
        self._bucket_ns = max(1, window_ns // buckets)
        self._bad = [0] * buckets
        self._total = [0] * buckets
        self._epoch = 0
        self._synced = 0
        self.bad = 0
        self.total = 0

    def _advance(self, now_ns: int) -> int:
        epoch = now_ns // self._bucket_ns
        if epoch != self._epoch:
            steps = min(epoch - self._epoch, self._n)
            for i in range(1, steps + 1):
                index = (self._epoch + i) % self._n
                self.bad -= self._bad[index]
                self.total -= self._total[index]
                self._bad[index] = 0
                self._total[index] = 0
            self._epoch = epoch
        return epoch % self._n

    def record(self, now_ns: int, bad: bool) -> None:
        index = self._advance(now_ns)
        self._total[index] += 1
        self.total += 1
        if bad:
            self._bad[index] += 1
            self.bad += 1

    def sync(self, now_ns: int, count: int) -> None:
        """Add the good outcomes counted elsewhere since the last sync (``count`` is a
        running total), so the hot path only increments an int."""
        delta = count - self._synced
        if delta > 0:
            index = self._advance(now_ns)
            self._total[index] += delta
            self.total += delta
        self._synced = count

    def record_bad(self, now_ns: int) -> None:
        """A bad outcome of something already counted (a venue reject of an approved order)."""
        index = self._advance(now_ns)
        self._bad[index] += 1
        self.bad += 1

    def counts(self, now_ns: int) -> tuple[int, int]:
        """``(bad, total)`` over the window ending at ``now_ns``."""
        self._advance(now_ns)
        return self.bad, self.total

    def breached(self, threshold_pct: int, min_count: int) -> bool:
        return self.total >= min_count and self.bad * 100 >= threshold_pct * self.total


@final
class BurstWindow:
    """True once ``count`` events fell within ``window_ns`` of each other."""

    __slots__ = ("_count", "_times", "_window_ns")

    def __init__(self, count: int, window_ns: int) -> None:
        self._count = count
        self._window_ns = window_ns
        self._times: deque[int] = deque(maxlen=count)

    def record(self, now_ns: int) -> bool:
        self._times.append(now_ns)
        return len(self._times) >= self._count and now_ns - self._times[0] <= self._window_ns

    def __len__(self) -> int:
        return len(self._times)


@final
class LatencyWindow:
    """Collects samples for ``window_ns``; :meth:`record` returns the p99 of a window
    that just closed when it exceeded the threshold with enough samples (else 0)."""

    __slots__ = ("_histogram", "_min_count", "_p99_ns", "_window_end", "_window_ns", "last_p99")

    def __init__(self, window_ns: int, p99_ns: int, min_count: int) -> None:
        self._window_ns = window_ns
        self._p99_ns = p99_ns
        self._min_count = min_count
        self._histogram = LatencyHistogram("tick_to_order")
        self._window_end: int | None = None
        self.last_p99 = 0

    def record(self, latency_ns: int, now_ns: int) -> int:
        breach = self.close_if_due(now_ns)
        self._histogram.record(latency_ns)
        return breach

    def close_if_due(self, now_ns: int) -> int:
        if self._window_end is None:
            self._window_end = now_ns + self._window_ns
            return 0
        if now_ns < self._window_end:
            return 0
        histogram = self._histogram
        breach = 0
        if histogram.count >= self._min_count:
            self.last_p99 = histogram.percentile(0.99)
            if self.last_p99 > self._p99_ns:
                breach = self.last_p99
        histogram.reset()
        self._window_end = now_ns + self._window_ns
        return breach
