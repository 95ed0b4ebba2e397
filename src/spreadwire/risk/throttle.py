"""Token buckets on the injected clock, as GCRA (integer nanoseconds, no floats).

A bucket allows bursts of up to ``limit`` messages and refills ``limit`` per
``interval_ns``. It is kept as a *theoretical arrival time* (the generic cell rate
algorithm): one token costs ``emission`` ns (``interval_ns / limit`` rounded up, so the
bucket is never more permissive than configured), a full burst is tolerated by
``tau = emission * (limit - 1)``, and the test on the hot path is a single comparison,
``now >= allow_at``, with no refill step.
"""

from __future__ import annotations

from typing import final


@final
class TokenBucket:
    __slots__ = ("allow_at", "emission", "interval_ns", "limit", "tau")

    def __init__(self, limit: int, interval_ns: int, now_ns: int = 0) -> None:
        if limit <= 0:
            raise ValueError(f"limit: must be > 0, got {limit}")
        if interval_ns <= 0:
            raise ValueError(f"interval_ns: must be > 0, got {interval_ns}")
        self.limit = limit
        self.interval_ns = interval_ns
        self.emission = -(-interval_ns // limit)
        self.tau = self.emission * (limit - 1)
        # allow_at = theoretical arrival time - tau: a token is free once now reaches it
        self.allow_at = now_ns - self.tau

    def available(self, now_ns: int) -> bool:
        """True when one token can be taken at ``now_ns`` (takes nothing)."""
        return now_ns >= self.allow_at

    def take(self, now_ns: int) -> None:
        """Take one token (callers check :meth:`available` first)."""
        floor = now_ns - self.tau
        allow_at = self.allow_at
        self.allow_at = (allow_at if allow_at > floor else floor) + self.emission

    def take_back(self) -> None:
        """Return a token taken for an order that was rolled back."""
        self.allow_at -= self.emission

    def try_take(self, now_ns: int) -> bool:
        if now_ns >= self.allow_at:
            self.take(now_ns)
            return True
        return False

    def tokens(self, now_ns: int) -> int:
        """Whole tokens available at ``now_ns``."""
        free = now_ns - self.allow_at + self.emission
        return max(0, min(self.limit, free // self.emission))

    def next_token_ns(self, now_ns: int) -> int:
        """The earliest time at which one token is available."""
        return max(now_ns, self.allow_at)
