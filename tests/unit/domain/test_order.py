"""The order aggregate: transition table, race edges, quantities."""

from __future__ import annotations

from typing import Any

import pytest

from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPartiallyFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from spreadwire.domain.order import IllegalTransition, Order, fill_event_type
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import InvariantError

S = OrderStatus
IDS: dict[str, Any] = {"strategy_id": "S1", "instrument_id": "AAA.SIM", "client_order_id": "O-1"}
T: dict[str, Any] = {"ts_event": 1, "ts_init": 1}


def _order(quantity: int = 10) -> Order:
    return Order(
        OrderInitialized(
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Quantity(raw=quantity * 10**9, precision=0),
            price=Price.parse("100.00"),
            **IDS,
            **T,
        )
    )


def _fill(order: Order, qty: int, trade_id: str = "T-1") -> OrderPartiallyFilled | OrderFilled:
    cum = order.filled_qty.raw + qty * 10**9
    leaves = Quantity(raw=max(0, order.quantity.raw - cum), precision=0)
    return fill_event_type(leaves)(
        venue_order_id="V-1",
        trade_id=trade_id,
        side=OrderSide.BUY,
        last_qty=Quantity(raw=qty * 10**9, precision=0),
        last_px=Price.parse("100.00"),
        cum_qty=Quantity(raw=cum, precision=0),
        leaves_qty=leaves,
        liquidity_side=LiquiditySide.TAKER,
        **IDS,
        **T,
    )


def _working() -> Order:
    order = _order()
    order.apply(OrderSubmitted(**IDS, **T))
    order.apply(OrderAccepted(venue_order_id="V-1", **IDS, **T))
    return order


def test_order_new_order_is_initialized_with_full_leaves() -> None:
    order = _order()

    assert order.status is S.INITIALIZED
    assert order.leaves_qty.raw == 10 * 10**9


def test_order_denied_is_terminal() -> None:
    order = _order()
    order.apply(OrderDenied(reason="MAX_OPEN_ORDERS", **IDS, **T))

    with pytest.raises(IllegalTransition):
        order.apply(OrderSubmitted(**IDS, **T))
    assert order.status is S.DENIED


def test_order_event_for_another_order_is_an_invariant_error() -> None:
    order = _order()

    with pytest.raises(InvariantError):
        order.apply(OrderSubmitted(**{**IDS, "client_order_id": "O-2"}, **T))


def test_order_partial_then_full_fill_ends_filled() -> None:
    order = _working()

    order.apply(_fill(order, 4, "T-1"))
    order.apply(_fill(order, 6, "T-2"))

    assert order.status is S.FILLED
    assert order.trade_ids == {"T-1", "T-2"}
    assert order.leaves_qty.raw == 0


def test_order_fill_during_pending_cancel_then_cancel_reject_is_partially_filled() -> None:
    order = _working()
    order.apply(OrderPendingCancel(**IDS, **T))

    order.apply(_fill(order, 3))
    order.apply(OrderPendingCancel(**IDS, **T))
    order.apply(OrderCancelRejected(reason="TOO_LATE", **IDS, **T))

    assert order.status is S.PARTIALLY_FILLED


def test_order_full_fill_during_pending_cancel_wins_and_late_reject_keeps_filled() -> None:
    order = _working()
    order.apply(OrderPendingCancel(**IDS, **T))

    order.apply(_fill(order, 10))
    order.apply(OrderCancelRejected(reason="TOO_LATE", **IDS, **T))

    assert order.status is S.FILLED


def test_order_late_fill_after_cancel_is_kept_and_order_stays_canceled() -> None:
    order = _working()
    order.apply(OrderPendingCancel(**IDS, **T))
    order.apply(OrderCanceled(**IDS, **T))

    order.apply(_fill(order, 2))

    assert order.status is S.CANCELED
    assert order.filled_qty.raw == 2 * 10**9
    assert order.leaves_qty.raw == 0


def test_order_modify_of_partially_filled_order_returns_to_partially_filled() -> None:
    order = _working()
    order.apply(_fill(order, 4))
    order.apply(OrderPendingUpdate(**IDS, **T))

    order.apply(OrderUpdated(quantity=Quantity(raw=8 * 10**9, precision=0), **IDS, **T))

    assert order.status is S.PARTIALLY_FILLED
    assert order.leaves_qty.raw == 4 * 10**9


def test_order_modify_rejected_returns_to_the_status_before_the_request() -> None:
    order = _working()
    order.apply(OrderPendingUpdate(**IDS, **T))

    order.apply(OrderModifyRejected(reason="TOO_LATE", **IDS, **T))

    assert order.status is S.ACCEPTED


def test_order_ioc_can_be_canceled_straight_from_submitted() -> None:
    order = _order()
    order.apply(OrderSubmitted(**IDS, **T))

    order.apply(OrderCanceled(**IDS, **T))

    assert order.status is S.CANCELED


def test_order_triggered_stop_accepts_the_venue_ack_and_fills() -> None:
    order = _order()
    order.apply(OrderSubmitted(**IDS, **T))
    order.apply(OrderTriggered(**IDS, **T))

    order.apply(OrderAccepted(venue_order_id="V-1", **IDS, **T))
    acknowledged = (order.status, order.venue_order_id)
    order.apply(_fill(order, 10))

    assert acknowledged == (S.TRIGGERED, "V-1")
    assert order.status is S.FILLED


def test_order_rejected_while_pending_cancel_is_rejected() -> None:
    order = _order()
    order.apply(OrderSubmitted(**IDS, **T))
    order.apply(OrderPendingCancel(**IDS, **T))

    order.apply(OrderRejected(reason="VENUE_BUSY", **IDS, **T))

    assert order.status is S.REJECTED


def test_order_overfill_keeps_status_filled_and_reports_the_excess() -> None:
    order = _working()
    order.apply(_fill(order, 10, "T-1"))

    order.apply(_fill(order, 2, "T-2"))

    assert order.status is S.FILLED
    assert order.overfilled_raw == 2 * 10**9
    assert order.leaves_qty.raw == 0


def test_an_order_sent_from_a_command_equals_the_order_of_its_initialized_event() -> None:
    # Order.sent reads the command's fields by position: every field, in declared order
    from spreadwire.domain.commands import SubmitOrder
    from spreadwire.domain.enums import TimeInForce

    command = SubmitOrder(
        strategy_id="S1",
        instrument_id="AAA.SIM",
        client_order_id="O-7",
        side=OrderSide.SELL,
        order_type=OrderType.STOP_LIMIT,
        quantity=Quantity(raw=3 * 10**9, precision=0),
        price=Price.parse("99.50"),
        trigger_price=Price.parse("99.75"),
        time_in_force=TimeInForce.GTD,
        expire_time_ns=123,
        post_only=True,
        reduce_only=False,
        pair_id="P-1",
        ts_init=5,
    )
    fields = {
        name: getattr(command, name)
        for name in SubmitOrder.__struct_fields__
        if name not in ("ts_init", "operator")  # who asked is the command's, not the order's
    }
    sent = Order.sent(command, 5)
    initialized = Order(OrderInitialized(**fields, ts_event=5, ts_init=5))
    for name in (*fields, "status", "filled_qty", "ts_init", "ts_last"):
        assert getattr(sent, name) == getattr(initialized, name), name
    assert sent.events == []
