"""Sliding windows behind the breaker trips."""

from __future__ import annotations

from spreadwire.risk.monitors import BurstWindow, LatencyWindow, RateWindow

SECOND = 1_000_000_000


def test_rate_window_counts_within_the_window_only() -> None:
    window = RateWindow(10 * SECOND, buckets=10)
    window.record(0, True)
    window.record(SECOND, False)

    at_end = window.counts(9 * SECOND)
    later = window.counts(11 * SECOND)

    assert at_end == (1, 2)
    assert later == (0, 0)


def test_rate_window_breach_needs_min_count_and_ratio() -> None:
    window = RateWindow(SECOND)
    for bad in (True, True, False):
        window.record(0, bad)

    assert window.breached(50, 3)
    assert not window.breached(50, 4)
    assert not window.breached(70, 3)


def test_burst_window_trips_on_count_within_window() -> None:
    burst = BurstWindow(3, SECOND)

    results = [burst.record(t) for t in (0, SECOND // 2, 2 * SECOND, 2 * SECOND + 1)]

    assert results == [False, False, False, False]
    assert burst.record(2 * SECOND + 2)


def test_latency_window_reports_breach_once_per_window() -> None:
    window = LatencyWindow(SECOND, p99_ns=1_000, min_count=5)
    for _ in range(10):
        window.record(5_000, 0)

    breach = window.close_if_due(SECOND)
    next_window = window.close_if_due(2 * SECOND)

    assert breach > 1_000
    assert next_window == 0
