"""Token buckets (GCRA) on an injected clock."""

from __future__ import annotations

from spreadwire.api.config import RateLimit
from spreadwire.api.ratelimit import RateLimiter, retry_after_seconds
from spreadwire.core.clock import SimClock

SECOND = 1_000_000_000


def make_limiter(
    limit: int, burst: int | None = None, max_clients: int = 100
) -> tuple[RateLimiter, SimClock]:
    clock = SimClock(start_ns=10 * SECOND)
    rate = RateLimit(limit=limit, interval_ns=SECOND, burst=burst)
    return RateLimiter(rate, clock.timestamp_ns, max_clients=max_clients), clock


def test_limiter_within_burst_admits_every_request() -> None:
    limiter, _ = make_limiter(limit=5, burst=5)

    waits = [limiter.acquire("k") for _ in range(5)]

    assert waits == [0, 0, 0, 0, 0]


def test_limiter_past_burst_rejects_with_time_to_next_token() -> None:
    limiter, _ = make_limiter(limit=5, burst=5)
    for _ in range(5):
        limiter.acquire("k")

    wait = limiter.acquire("k")

    assert wait == SECOND // 5
    assert limiter.rejected == 1


def test_limiter_after_refill_interval_admits_again() -> None:
    limiter, clock = make_limiter(limit=5, burst=5)
    for _ in range(6):
        limiter.acquire("k")

    clock.advance(SECOND // 5)

    assert limiter.acquire("k") == 0


def test_limiter_clients_have_independent_buckets() -> None:
    limiter, _ = make_limiter(limit=1, burst=1)
    limiter.acquire("a")

    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0


def test_limiter_full_table_forgets_oldest_client() -> None:
    limiter, _ = make_limiter(limit=1, burst=1, max_clients=2)
    limiter.acquire("a")
    limiter.acquire("b")

    limiter.acquire("c")

    assert len(limiter) == 2
    assert limiter.acquire("a") == 0  # forgotten: a full bucket again


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    assert retry_after_seconds(1) == 1
    assert retry_after_seconds(SECOND) == 1
    assert retry_after_seconds(SECOND + 1) == 2
