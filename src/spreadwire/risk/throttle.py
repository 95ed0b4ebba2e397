"""Token buckets on the injected clock (exact integer arithmetic, no floats).

A bucket holds up to ``limit`` tokens and refills ``limit`` tokens per ``interval_ns``.
The level is kept in units of ``1 / interval_ns`` token so that refill is an integer
multiply: one token is ``interval_ns`` units and ``elapsed_ns`` adds ``elapsed_ns * limit``.
"""

from __future__ import annotations

from typing import final


@final
class TokenBucket:
    __slots__ = ("_capacity", "_cost", "_last_ns", "_level", "_rate", "interval_ns", "limit")

    def __init__(self, limit: int, interval_ns: int, now_ns: int = 0) -> None:
        if limit <= 0:
            raise ValueError(f"limit: must be > 0, got {limit}")
        if interval_ns <= 0:
            raise ValueError(f"interval_ns: must be > 0, got {interval_ns}")
        self.limit = limit
        self.interval_ns = interval_ns
        self._rate = limit
        self._cost = interval_ns
        self._capacity = limit * interval_ns
        self._level = self._capacity
        self._last_ns = now_ns

    def _refill(self, now_ns: int) -> int:
        elapsed = now_ns - self._last_ns
        level = self._level
        if elapsed > 0:
            level += elapsed * self._rate
            if level > self._capacity:
                level = self._capacity
            self._level = level
            self._last_ns = now_ns
        return level

    def available(self, now_ns: int) -> bool:
        """True when one token can be taken at ``now_ns`` (takes nothing)."""
        return self._refill(now_ns) >= self._cost

    def take(self) -> None:
        """Take one token that :meth:`available` has just reported (may go negative)."""
        self._level -= self._cost

    def take_back(self) -> None:
        """Return a token taken for an order that was rolled back."""
        self._level = min(self._capacity, self._level + self._cost)

    def try_take(self, now_ns: int) -> bool:
        if self._refill(now_ns) >= self._cost:
            self._level -= self._cost
            return True
        return False

    def tokens(self, now_ns: int) -> int:
        """Whole tokens available at ``now_ns``."""
        return max(0, self._refill(now_ns)) // self._cost

    def next_token_ns(self, now_ns: int) -> int:
        """The earliest time at which one token is available."""
        missing = self._cost - self._refill(now_ns)
        if missing <= 0:
            return now_ns
        return now_ns + -(-missing // self._rate)
