"""Venue connection breaker: closed, open, half-open with probes."""

from __future__ import annotations

from spreadwire.risk.config import VenueBreakerConfig
from spreadwire.risk.venue_breaker import VenueBreaker, VenueState

SECOND = 1_000_000_000
CONFIG = VenueBreakerConfig(
    window_size=10, min_calls=4, failure_pct=50, open_ns=SECOND, half_open_probes=2
)


def _breaker() -> tuple[VenueBreaker, list[tuple[VenueState, VenueState]]]:
    changes: list[tuple[VenueState, VenueState]] = []
    breaker = VenueBreaker(
        "SIM", CONFIG, lambda venue, state, previous, reason, now: changes.append((previous, state))
    )
    return breaker, changes


def test_venue_breaker_opens_at_failure_rate_after_min_calls() -> None:
    breaker, _ = _breaker()
    for ok in (True, False, True):
        breaker.record(ok, 0)
    closed = breaker.state

    breaker.record(False, 0)

    assert closed is VenueState.CLOSED
    assert breaker.state is VenueState.OPEN
    assert not breaker.allow(0)


def test_venue_breaker_half_opens_after_open_interval_and_limits_probes() -> None:
    breaker, _ = _breaker()
    breaker.disconnected(0)

    allowed = [breaker.allow(SECOND) for _ in range(3)]

    assert breaker.state is VenueState.HALF_OPEN
    assert allowed == [True, True, False]


def test_venue_breaker_closes_when_all_probes_succeed() -> None:
    breaker, changes = _breaker()
    breaker.disconnected(0)
    breaker.allow(SECOND)
    breaker.allow(SECOND)

    breaker.record(True, SECOND)
    breaker.record(True, SECOND)

    assert breaker.state is VenueState.CLOSED
    assert changes == [
        (VenueState.CLOSED, VenueState.OPEN),
        (VenueState.OPEN, VenueState.HALF_OPEN),
        (VenueState.HALF_OPEN, VenueState.CLOSED),
    ]


def test_venue_breaker_reopens_when_a_probe_fails() -> None:
    breaker, _ = _breaker()
    breaker.disconnected(0)
    breaker.allow(SECOND)

    breaker.record(False, SECOND, "timeout")

    assert breaker.state is VenueState.OPEN
    assert not breaker.allow(SECOND + 1)


def test_venue_breaker_old_failures_leave_the_count_window() -> None:
    breaker, _ = _breaker()
    for _ in range(3):
        breaker.record(True, 0)
    breaker.record(False, 0)
    for _ in range(10):
        breaker.record(True, 0)

    breaker.record(False, 0)

    assert breaker.state is VenueState.CLOSED
