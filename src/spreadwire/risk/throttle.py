"""Token buckets on the injected clock, as GCRA (exact integer arithmetic, no floats).

A bucket allows bursts of up to ``limit`` messages and refills ``limit`` per
``interval_ns``. It is kept as a *theoretical arrival time* (the generic cell rate
algorithm) in units of ``1 / limit`` ns, so the availability test on the hot path is a
single multiply and compare (``now * limit >= allow_at``) and needs no refill step.
"""

from __future__ import annotations

from typing import final


@final
class TokenBucket:
    __slots__ = ("allow_at", "interval_ns", "limit", "tau")

    def __init__(self, limit: int, interval_ns: int, now_ns: int = 0) -> None:
        if limit <= 0:
            raise ValueError(f"limit: must be > 0, got {limit}")
        if interval_ns <= 0:
            raise ValueError(f"interval_ns: must be > 0, got {interval_ns}")
        self.limit = limit
        self.interval_ns = interval_ns
        # one token costs interval_ns scaled units; a full burst is limit tokens
        self.tau = interval_ns * (limit - 1)
        # allow_at = theoretical arrival time - tau (burst tolerance), kept alone
        self.allow_at = now_ns * limit - self.tau

    def available(self, now_ns: int) -> bool:
        """True when one token can be taken at ``now_ns`` (takes nothing)."""
        return now_ns * self.limit >= self.allow_at

    def take(self, now_ns: int) -> None:
        """Take one token (callers check :meth:`available` first)."""
        floor = now_ns * self.limit - self.tau
        allow_at = self.allow_at
        self.allow_at = (allow_at if allow_at > floor else floor) + self.interval_ns

    def take_back(self) -> None:
        """Return a token taken for an order that was rolled back."""
        self.allow_at -= self.interval_ns

    def try_take(self, now_ns: int) -> bool:
        if now_ns * self.limit >= self.allow_at:
            self.take(now_ns)
            return True
        return False

    def tokens(self, now_ns: int) -> int:
        """Whole tokens available at ``now_ns``."""
        tat = self.allow_at + self.tau
        free = now_ns * self.limit - tat + self.limit * self.interval_ns
        return max(0, min(self.limit, free // self.interval_ns))

    def next_token_ns(self, now_ns: int) -> int:
        """The earliest time at which one token is available."""
        if self.available(now_ns):
            return now_ns
        return -(-self.allow_at // self.limit)
