"""Stop and stop-limit orders held in the OMS, and DAY/GTD expiry."""

from __future__ import annotations

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderStatus, OrderType, ReportKind, TimeInForce
from spreadwire.oms.config import OmsConfig
from tests.builders import make_quote
from tests.unit.oms.support import SECOND, START_NS, Harness

S = OrderStatus


def test_stop_market_buy_is_held_until_the_ask_reaches_the_trigger() -> None:
    h = Harness()
    order = h.submit(price=None, order_type=OrderType.STOP_MARKET, trigger_price="101.00")

    h.oms.on_quote(make_quote(bid="100.00", ask="100.50"))
    held = (order.status, list(h.sent))
    h.oms.on_quote(make_quote(bid="100.90", ask="101.00"))

    assert held == (S.SUBMITTED, [])
    assert order.status is S.TRIGGERED
    child = h.sent[-1]
    assert isinstance(child, SubmitOrder)
    assert child.order_type is OrderType.MARKET
    assert child.client_order_id == order.client_order_id


def test_stop_limit_sell_triggers_on_bid_and_releases_a_limit_order() -> None:
    h = Harness()
    order = h.submit(
        OrderSide.SELL, price="98.50", order_type=OrderType.STOP_LIMIT, trigger_price="99.00"
    )

    h.oms.on_quote(make_quote(bid="99.00", ask="99.02"))

    child = h.sent[-1]
    assert order.status is S.TRIGGERED
    assert child.order_type is OrderType.LIMIT
    assert child.price == order.price


def test_triggered_stop_is_acknowledged_and_filled_by_the_venue() -> None:
    h = Harness()
    order = h.submit(price=None, order_type=OrderType.STOP_MARKET, trigger_price="101.00")
    h.oms.on_quote(make_quote(bid="101.00", ask="101.02"))

    h.report(order, ReportKind.ACCEPTED)
    h.fill(order, "10", "101.02")

    assert order.status is S.FILLED
    assert "ILLEGAL_TRANSITION" not in h.alerts()


def test_held_stop_cancel_is_local_and_sends_nothing() -> None:
    h = Harness()
    order = h.submit(price=None, order_type=OrderType.STOP_MARKET, trigger_price="101.00")

    h.cancel(order)
    h.oms.on_quote(make_quote(bid="102.00", ask="102.02"))

    assert order.status is S.CANCELED
    assert h.sent == []


def test_gtd_order_is_canceled_at_expiry_and_reported_expired() -> None:
    h = Harness()
    order = h.submit(time_in_force=TimeInForce.GTD, expire_time_ns=START_NS + SECOND)
    h.report(order, ReportKind.ACCEPTED)
    h.clock.advance(SECOND)

    expired = h.oms.check_expiry()
    h.report(order, ReportKind.CANCELED, leaves="0")

    assert expired == 1
    assert order.status is S.EXPIRED


def test_day_order_expires_at_the_session_close() -> None:
    day = 86_400 * SECOND
    h = Harness(OmsConfig(session_close_ns=day - SECOND))
    order = h.submit(time_in_force=TimeInForce.DAY)
    h.report(order, ReportKind.ACCEPTED)
    close = (START_NS // day) * day + day - SECOND

    before = h.oms.check_expiry(close - 1)
    at_close = h.oms.check_expiry(close)

    assert (before, at_close) == (0, 1)
    assert order.status is S.PENDING_CANCEL


def test_held_gtd_stop_expires_locally() -> None:
    h = Harness()
    order = h.submit(
        price=None,
        order_type=OrderType.STOP_MARKET,
        trigger_price="101.00",
        time_in_force=TimeInForce.GTD,
        expire_time_ns=START_NS + SECOND,
    )

    h.oms.check_expiry(START_NS + SECOND)

    assert order.status is S.EXPIRED
    assert h.sent == []


def test_gtc_order_never_expires() -> None:
    h = Harness()
    order = h.submit()
    h.report(order, ReportKind.ACCEPTED)

    expired = h.oms.check_expiry(START_NS + 10**6 * SECOND)

    assert expired == 0
    assert order.status is S.ACCEPTED
