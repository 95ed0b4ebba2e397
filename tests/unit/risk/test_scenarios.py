"""The venue scenarios as the risk engine sees them: the right breaker trips, and no
risk-increasing order is accepted afterwards."""

from __future__ import annotations

from spreadwire.domain.enums import OrderSide, TradingState
from spreadwire.domain.events import OrderRejected
from spreadwire.risk.config import BreakerConfig, RateWindowTrip, RiskConfig
from spreadwire.risk.reasons import DenyReason
from tests.unit.risk.support import SECOND, Harness

MS = SECOND // 1_000


def _long_position(h: Harness, quantity: str = "10") -> None:
    buy = h.order(quantity=quantity)
    h.engine.execute(buy)
    h.fill(buy)


def _no_increase_accepted(h: Harness, sell_price: str = "100.02") -> None:
    for quantity in ("1", "5", "10"):
        assert not h.submit(OrderSide.BUY, quantity=quantity, price=None)
    assert h.submit(OrderSide.SELL, quantity="5", price=sell_price)


def test_scenario_flash_crash_trips_price_band_and_only_reduces() -> None:
    h = Harness()
    _long_position(h)
    for step in range(5):
        h.clock.advance(100 * MS)
        h.quote("AAA.SIM", f"{100 - step * 0.02:.2f}", f"{100.02 - step * 0.02:.2f}")

    h.clock.advance(100 * MS)
    h.quote("AAA.SIM", "92.00", "92.02")

    assert h.engine.trading_state is TradingState.REDUCING
    assert h.engine.breaker_trips[0]["reason"] == "PRICE_BAND:AAA.SIM"
    _no_increase_accepted(h, "92.02")


def test_scenario_stale_feed_trips_stale_market_data() -> None:
    h = Harness(RiskConfig(breaker=BreakerConfig(stale_after_ns=2 * SECOND)))
    _long_position(h)
    for _ in range(30):
        h.clock.advance(100 * MS)
        h.quote("BBB.SIM", "50.00", "50.02")
    h.engine.check()

    trips = [t["reason"] for t in h.engine.breaker_trips]
    assert trips == ["STALE_MARKET_DATA:AAA.SIM"]
    assert not h.submit(OrderSide.BUY, quantity="1", price="50.00", instrument_id="BBB.SIM")


def test_scenario_reject_storm_trips_the_deny_reject_rate() -> None:
    trip = RateWindowTrip(threshold_pct=50, min_count=20, window_ns=10 * SECOND)
    h = Harness(RiskConfig(breaker=BreakerConfig(deny_reject=trip)))
    _long_position(h)
    for i in range(40):
        h.clock.advance(50 * MS)
        h.quote("AAA.SIM", "100.00", "100.02")
        h.quote("BBB.SIM", "50.00", "50.02")
        order = h.order(OrderSide.BUY, quantity="1", price="100.00", strategy_id=f"R{i}")
        if h.engine.execute(order) and i % 10:
            now = h.clock.timestamp_ns()
            h.engine.on_event(
                OrderRejected(
                    strategy_id=order.strategy_id,
                    instrument_id=order.instrument_id,
                    client_order_id=order.client_order_id,
                    reason="VENUE_BUSY",
                    ts_event=now,
                    ts_init=now,
                )
            )

    assert h.engine.trading_state is TradingState.REDUCING
    assert str(h.engine.breaker_trips[0]["reason"]).startswith("DENY_REJECT_RATE")
    _no_increase_accepted(h)


def test_scenario_fat_finger_is_denied_and_repeats_trip_the_breaker() -> None:
    h = Harness(RiskConfig(max_order_quantity="100"))
    _long_position(h)

    for _ in range(25):
        h.clock.advance(10 * MS)
        h.submit(OrderSide.BUY, quantity="1000", price="100.00")

    assert set(h.denials()[:20]) == {DenyReason.QUANTITY_ABOVE_MAX}
    assert h.engine.trading_state is TradingState.REDUCING
    _no_increase_accepted(h)
