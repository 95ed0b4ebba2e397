"""Bounded work and memory: timers walk live orders only, closed orders beyond
``retain_closed`` leave memory, and a late report for a purged order is alerted."""

from __future__ import annotations

from spreadwire.domain.commands import SubmitOrder, SubmitPairOrder
from spreadwire.domain.enums import OrderSide, OrderStatus, OrderType, ReportKind, TimeInForce
from spreadwire.domain.values import Price, Quantity
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.pairs import COMPLETE
from tests.unit.oms.support import SECOND, START_NS, Harness

S = OrderStatus
K = ReportKind


def test_closed_orders_beyond_retain_closed_are_purged_oldest_first() -> None:
    h = Harness(OmsConfig(retain_closed=2))
    orders = [h.submit() for _ in range(4)]
    for order in orders:
        h.fill(order, "10")

    kept = [o.client_order_id for o in h.oms.orders()]

    assert kept == ["O-3", "O-4"]
    assert h.oms.order("O-1") is None


def test_open_orders_are_never_purged() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    working = h.submit()
    for _ in range(3):
        h.fill(h.submit(), "10")

    assert h.oms.order(working.client_order_id) is working
    assert h.oms.open_orders() == [working]


def test_position_keeps_fills_of_purged_orders() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    for _ in range(3):
        h.fill(h.submit(side=OrderSide.BUY, quantity="10"), "10")

    position = h.oms.position("S1", "AAA.SIM")

    assert position is not None
    assert position.quantity_raw == 30 * 10**9


def test_late_fill_for_a_purged_order_is_alerted_and_not_applied() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    first = h.submit()
    h.fill(first, "10", trade_id="T-A")
    h.fill(h.submit(), "10", trade_id="T-B")
    h.published.clear()

    h.fill(first, "10", trade_id="T-A")  # a late duplicate: it cannot be told apart

    position = h.oms.position("S1", "AAA.SIM")
    assert position is not None
    assert position.quantity_raw == 20 * 10**9
    assert h.alerts() == ["FILL_FOR_UNKNOWN_ORDER"]


def test_late_cancel_for_a_purged_order_is_alerted() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    first = h.submit()
    h.fill(first, "10")
    h.fill(h.submit(), "10")
    h.published.clear()

    h.report(first, K.CANCELED)

    assert h.alerts() == ["UNKNOWN_ORDER_REPORT"]


def test_purged_order_leaves_no_request_in_flight() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    first = h.submit()
    h.fill(first, "10")
    h.fill(h.submit(), "10")

    assert h.oms.in_flight() == []


def test_check_expiry_before_the_first_deadline_expires_nothing() -> None:
    h = Harness()
    h.submit(time_in_force=TimeInForce.GTD, expire_time_ns=START_NS + 10 * SECOND)
    h.clock.advance(9 * SECOND)

    assert h.oms.check_expiry() == 0
    assert h.sent[-1].client_order_id == "O-1"


def test_check_expiry_at_the_deadline_cancels_only_due_orders() -> None:
    h = Harness()
    due = h.submit(time_in_force=TimeInForce.GTD, expire_time_ns=START_NS + SECOND)
    later = h.submit(time_in_force=TimeInForce.GTD, expire_time_ns=START_NS + 5 * SECOND)
    h.submit()
    h.clock.advance(SECOND)

    expired = h.oms.check_expiry()

    assert expired == 1
    assert due.status is S.PENDING_CANCEL
    assert later.status is S.SUBMITTED


def test_check_expiry_after_the_venue_expired_the_order_finds_nothing() -> None:
    h = Harness()
    order = h.submit(time_in_force=TimeInForce.GTD, expire_time_ns=START_NS + SECOND)
    h.clock.advance(SECOND)
    h.oms.check_expiry()
    h.report(order, K.CANCELED)
    h.clock.advance(SECOND)

    assert order.status is S.EXPIRED
    assert h.oms.check_expiry() == 0


def _pair(h: Harness, pair_id: str) -> None:
    legs = [
        SubmitOrder(
            strategy_id="S1",
            instrument_id=instrument_id,
            client_order_id=f"{pair_id}-{suffix}",
            side=side,
            order_type=OrderType.LIMIT,
            quantity=Quantity.parse("10"),
            price=Price.parse("100.00"),
            pair_id=pair_id,
            ts_init=0,
        )
        for suffix, instrument_id, side in (
            ("a", "AAA.SIM", OrderSide.BUY),
            ("b", "BBB.SIM", OrderSide.SELL),
        )
    ]
    assert h.oms.submit_pair(
        SubmitPairOrder(pair_id=pair_id, strategy_id="S1", first=legs[0], second=legs[1], ts_init=0)
    )


def test_final_pairs_beyond_retain_closed_are_forgotten() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    for pair_id in ("P1", "P2"):
        _pair(h, pair_id)
        for suffix in ("a", "b"):
            order = h.oms.order(f"{pair_id}-{suffix}")
            assert order is not None
            h.fill(order, "10")

    assert h.oms.pair("P1") is None
    pair = h.oms.pair("P2")
    assert pair is not None and pair.state == COMPLETE


def test_pair_counts_the_fills_of_a_leg_purged_from_memory() -> None:
    h = Harness(OmsConfig(retain_closed=1))
    _pair(h, "P1")
    first = h.oms.order("P1-a")
    assert first is not None
    h.fill(first, "10")
    h.fill(h.submit(), "10")  # pushes P1-a out of memory
    second = h.oms.order("P1-b")
    assert second is not None and h.oms.order("P1-a") is None

    h.fill(second, "10")

    pair = h.oms.pair("P1")
    assert pair is not None
    assert (pair.state, pair.residual) == (COMPLETE, (0, 0))
