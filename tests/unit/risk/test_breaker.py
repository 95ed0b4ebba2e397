"""Automatic breaker trips, escalation, audited reset and the trip list."""

from __future__ import annotations

from spreadwire.domain.enums import TradingState
from spreadwire.domain.events import OrderRejected, TradingAlert
from spreadwire.domain.market import DataGap
from spreadwire.risk.config import BreakerConfig, BurstTrip, LatencyTrip, RateWindowTrip, RiskConfig
from spreadwire.risk.reasons import DenyReason
from tests.unit.risk.support import SECOND, Harness

A = TradingState.ACTIVE
R = TradingState.REDUCING
H = TradingState.HALTED


def _config(**breaker: object) -> RiskConfig:
    return RiskConfig(breaker=BreakerConfig(**breaker))  # type: ignore[arg-type]


def test_breaker_daily_loss_breach_trips_to_reducing() -> None:
    h = Harness(
        RiskConfig(daily_loss_limit="50", max_drawdown="0", breaker=BreakerConfig(price_band=None))
    )
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy, price="100.00")

    h.quote("AAA.SIM", "94.00", "94.02")

    assert h.engine.trading_state is R
    assert h.engine.breaker_trips[0]["reason"] == "DAILY_LOSS"


def test_breaker_drawdown_from_high_water_trips_to_halted() -> None:
    h = Harness(
        RiskConfig(daily_loss_limit="0", max_drawdown="50", breaker=BreakerConfig(price_band=None))
    )
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy, price="100.00")
    h.quote("AAA.SIM", "110.00", "110.02")

    h.quote("AAA.SIM", "104.00", "104.02")

    assert h.engine.trading_state is H
    assert h.engine.breaker_trips[-1]["reason"] == "DRAWDOWN"


def test_breaker_reducing_denies_increasing_and_passes_reducing_orders() -> None:
    h = Harness()
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy)
    h.engine.trip(R, "MANUAL")

    increase = h.submit(quantity="1")
    reduce = h.submit(h.order().side.opposite(), quantity="5")

    assert (increase, reduce) == (False, True)
    assert h.last_denial() == DenyReason.REDUCE_ONLY


def test_breaker_halted_denies_even_reducing_orders() -> None:
    h = Harness()
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy)
    h.engine.trip(H, "MANUAL")

    ok = h.submit(h.order().side.opposite(), quantity="5")

    assert not ok
    assert h.last_denial() == DenyReason.TRADING_HALTED


def test_breaker_deny_rate_over_window_trips() -> None:
    h = Harness(_config(deny_reject=RateWindowTrip(threshold_pct=50, min_count=10)))

    for _ in range(10):
        h.submit(quantity="1000000")

    assert h.engine.trading_state is R
    assert str(h.engine.breaker_trips[0]["reason"]).startswith("DENY_REJECT_RATE")


def test_breaker_deny_rate_below_min_count_does_not_trip() -> None:
    h = Harness(_config(deny_reject=RateWindowTrip(threshold_pct=50, min_count=10)))

    for _ in range(9):
        h.submit(quantity="1000000")

    assert h.engine.trading_state is A


def test_breaker_venue_reject_storm_trips_on_reject_rate() -> None:
    h = Harness(_config(deny_reject=RateWindowTrip(threshold_pct=60, min_count=10)))
    for i in range(10):
        order = h.order()
        h.engine.execute(order)
        if i < 7:
            now = h.clock.timestamp_ns()
            h.engine.on_event(
                OrderRejected(
                    strategy_id="S1",
                    instrument_id="AAA.SIM",
                    client_order_id=order.client_order_id,
                    reason="VENUE_BUSY",
                    ts_event=now,
                    ts_init=now,
                )
            )
    h.engine.check()

    assert h.engine.trading_state is R


def test_breaker_old_denials_leave_the_window() -> None:
    trip = RateWindowTrip(threshold_pct=50, min_count=10, window_ns=10 * SECOND)
    h = Harness(_config(deny_reject=trip, stale_after_ns=0))
    for _ in range(9):
        h.submit(quantity="1000000")
    h.clock.advance(11 * SECOND)
    h.quote("AAA.SIM", "100.00", "100.02")
    h.quote("BBB.SIM", "50.00", "50.02")

    h.submit(quantity="1000000")

    assert h.engine.trading_state is A


def test_breaker_stale_quote_on_subscribed_instrument_trips() -> None:
    h = Harness(_config(stale_after_ns=2 * SECOND))
    h.clock.advance(3 * SECOND)
    h.quote("BBB.SIM", "50.00", "50.02")

    h.engine.check()

    assert h.engine.trading_state is R
    assert h.engine.breaker_trips[0]["reason"] == "STALE_MARKET_DATA:AAA.SIM"


def test_breaker_stale_data_gap_event_trips() -> None:
    h = Harness()

    h.engine.on_event(
        DataGap(
            instrument_id="BBB.SIM",
            reason="stale",
            expected_sequence=1,
            received_sequence=0,
            ts_event=1,
            ts_init=1,
        )
    )

    assert h.engine.breaker_trips[0]["reason"] == "STALE_MARKET_DATA:BBB.SIM"


def test_breaker_fresh_quotes_do_not_trip_stale() -> None:
    h = Harness(_config(stale_after_ns=2 * SECOND))
    for _ in range(5):
        h.clock.advance(SECOND)
        h.quote("AAA.SIM", "100.00", "100.02")
        h.quote("BBB.SIM", "50.00", "50.02")

    h.engine.check()

    assert h.engine.trading_state is A


def test_breaker_latency_p99_over_threshold_trips_at_window_end() -> None:
    trip = LatencyTrip(p99_ns=1_000_000, window_ns=SECOND, min_count=10)
    h = Harness(_config(latency=trip))
    for _ in range(20):
        h.engine.record_latency(5_000_000)
    h.clock.advance(SECOND)

    h.engine.record_latency(100)

    assert h.engine.trading_state is R
    assert str(h.engine.breaker_trips[0]["reason"]).startswith("LATENCY_P99")


def test_breaker_latency_below_threshold_does_not_trip() -> None:
    trip = LatencyTrip(p99_ns=1_000_000, window_ns=SECOND, min_count=10)
    h = Harness(_config(latency=trip))
    for _ in range(200):
        h.engine.record_latency(20_000)
    h.clock.advance(SECOND)

    h.engine.check()

    assert h.engine.trading_state is A


def test_breaker_venue_error_burst_halts() -> None:
    h = Harness(_config(venue_errors=BurstTrip(count=3, window_ns=SECOND)))

    for _ in range(3):
        h.engine.record_venue_error("SIM", "timeout")

    assert h.engine.trading_state is H
    assert h.engine.breaker_trips[0]["reason"] == "VENUE_ERRORS:SIM"


def test_breaker_trip_only_escalates() -> None:
    h = Harness()
    h.engine.trip(H, "MANUAL")

    escalated = h.engine.trip(R, "MANUAL")

    assert not escalated
    assert h.engine.trading_state is H


def test_breaker_reset_is_refused_during_cooldown_after_automatic_reducing_trip() -> None:
    h = Harness(_config(stale_after_ns=SECOND, reducing_cooldown_ns=30 * SECOND))
    h.clock.advance(2 * SECOND)
    h.engine.check()

    refused = h.engine.reset("ops", "too early")
    h.clock.advance(30 * SECOND)
    h.quote("AAA.SIM", "100.00", "100.02")
    h.quote("BBB.SIM", "50.00", "50.02")
    accepted = h.engine.reset("ops", "feed back")

    assert (refused, accepted) == (False, True)
    assert h.engine.trading_state is A
    codes = [e.code for e in h.published if isinstance(e, TradingAlert)]
    assert "RESET_REFUSED" in codes


def test_breaker_every_state_change_is_published_with_reason_and_alert() -> None:
    h = Harness()

    h.engine.trip(R, "MANUAL")
    h.engine.reset("ops", "checked")

    changes = [(c.previous, c.state) for c in h.states()]
    assert changes == [(A, R), (R, A)]
    assert "ops" in h.states()[-1].reason
    alerts = [e.code for e in h.published if isinstance(e, TradingAlert)]
    assert alerts == ["TRADING_STATE_REDUCING", "TRADING_STATE_ACTIVE"]


def test_breaker_trips_list_has_reason_ts_and_state() -> None:
    h = Harness()

    h.engine.trip(H, "MANUAL")

    assert h.engine.breaker_trips == [
        {"reason": "MANUAL", "ts_ns": h.clock.timestamp_ns(), "state": "HALTED"}
    ]


def test_breaker_price_gap_beyond_band_trips_price_band() -> None:
    h = Harness()

    h.quote("AAA.SIM", "92.00", "92.02")

    assert h.engine.trading_state is R
    assert h.engine.breaker_trips[0]["reason"] == "PRICE_BAND:AAA.SIM"


def test_breaker_slow_drift_within_band_windows_does_not_trip() -> None:
    h = Harness(_config(stale_after_ns=0))
    mid = 100.0
    for _ in range(10):
        h.clock.advance(6 * SECOND)
        mid *= 0.98
        h.quote("AAA.SIM", f"{mid:.2f}", f"{mid + 0.02:.2f}")

    assert h.engine.trading_state is A


def test_breaker_oms_unknown_outcome_alerts_count_as_venue_errors() -> None:
    h = Harness(_config(venue_errors=BurstTrip(count=2, window_ns=SECOND)))
    orders = [h.order(), h.order()]
    for order in orders:
        h.engine.execute(order)

    for order in orders:
        h.engine.on_event(
            TradingAlert(
                source="oms",
                code="UNKNOWN_OUTCOME",
                message="no answer",
                client_order_id=order.client_order_id,
                ts_event=0,
                ts_init=0,
            )
        )

    assert h.engine.trading_state is H
    assert h.engine.breaker_trips[0]["reason"] == "VENUE_ERRORS:SIM"
