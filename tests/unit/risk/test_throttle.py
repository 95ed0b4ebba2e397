"""Token bucket on injected time."""

from __future__ import annotations

from spreadwire.risk.throttle import TokenBucket

SECOND = 1_000_000_000


def test_token_bucket_full_bucket_allows_limit_takes_then_refuses() -> None:
    bucket = TokenBucket(3, SECOND, now_ns=0)

    taken = [bucket.try_take(0) for _ in range(4)]

    assert taken == [True, True, True, False]


def test_token_bucket_refills_one_token_per_interval_over_limit() -> None:
    bucket = TokenBucket(4, SECOND, now_ns=0)
    for _ in range(4):
        bucket.try_take(0)

    early = bucket.try_take(SECOND // 4 - 1)
    on_time = bucket.try_take(SECOND // 4)

    assert (early, on_time) == (False, True)


def test_token_bucket_never_holds_more_than_limit() -> None:
    bucket = TokenBucket(2, SECOND, now_ns=0)

    tokens = bucket.tokens(100 * SECOND)

    assert tokens == 2


def test_token_bucket_next_token_time_is_exact() -> None:
    bucket = TokenBucket(10, SECOND, now_ns=0)
    for _ in range(10):
        bucket.try_take(0)

    assert bucket.next_token_ns(0) == SECOND // 10


def test_token_bucket_take_back_returns_a_token() -> None:
    bucket = TokenBucket(1, SECOND, now_ns=0)
    bucket.try_take(0)

    bucket.take_back()

    assert bucket.available(0)
