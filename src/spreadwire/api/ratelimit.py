"""Per-client token buckets in GCRA form: one int per client, O(1) per request.

A bucket of ``burst`` tokens refilled at ``limit`` per ``interval_ns`` admits a request
when its *theoretical arrival time* (``tat``) is at most ``burst - 1`` emission intervals
ahead of now (the generic cell rate algorithm; equivalent to a token bucket, cheaper to
store). Time comes from an injected monotonic ``now_ns`` so tests drive it by hand.
The table is bounded: past ``max_clients`` the least recently inserted client is dropped
(it simply starts again with a full bucket).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import final

from spreadwire.api.config import RateLimit


@final
class RateLimiter:
    """Token buckets keyed by client (API key id, IP address...)."""

    __slots__ = ("_emission_ns", "_max_clients", "_now_ns", "_rejected", "_tat", "_tolerance_ns")

    def __init__(
        self, rate: RateLimit, now_ns: Callable[[], int], *, max_clients: int = 100_000
    ) -> None:
        if max_clients < 1:
            raise ValueError(f"max_clients: must be >= 1, got {max_clients}")
        self._emission_ns = max(1, rate.interval_ns // rate.limit)
        self._tolerance_ns = self._emission_ns * (rate.capacity - 1)
        self._now_ns = now_ns
        self._max_clients = max_clients
        self._tat: dict[str, int] = {}
        self._rejected = 0

    def acquire(self, client: str) -> int:
        """Take one token for ``client``: 0 when admitted, else nanoseconds to wait."""
        now = self._now_ns()
        tat = self._tat.get(client)
        if tat is None:
            if len(self._tat) >= self._max_clients:
                del self._tat[next(iter(self._tat))]
            tat = now
        elif tat < now:
            tat = now
        wait = tat - now - self._tolerance_ns
        if wait > 0:
            self._rejected += 1
            return wait
        self._tat[client] = tat + self._emission_ns
        return 0

    def forget(self, client: str) -> None:
        self._tat.pop(client, None)

    @property
    def rejected(self) -> int:
        return self._rejected

    def __len__(self) -> int:
        return len(self._tat)


def retry_after_seconds(wait_ns: int) -> int:
    """Whole seconds for a ``Retry-After`` header (at least 1)."""
    return max(1, -(-wait_ns // 1_000_000_000))
