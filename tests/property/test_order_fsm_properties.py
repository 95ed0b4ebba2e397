"""The order state machine never reaches an illegal state, whatever the event order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
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
from spreadwire.domain.order import TRANSITIONS, IllegalTransition, Order
from spreadwire.domain.values import Price, Quantity

S = OrderStatus
QTY = 10
KINDS = (
    "denied",
    "submitted",
    "accepted",
    "rejected",
    "pending_update",
    "pending_cancel",
    "modify_rejected",
    "cancel_rejected",
    "updated",
    "triggered",
    "fill",
    "canceled",
    "expired",
)
_IDS: dict[str, Any] = {"strategy_id": "S1", "instrument_id": "AAA.SIM", "client_order_id": "O-1"}
_PENDING = frozenset({S.PENDING_UPDATE, S.PENDING_CANCEL})
_NEVER_LEFT = frozenset({S.DENIED, S.REJECTED})


def _order() -> Order:
    return Order(
        OrderInitialized(
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Quantity(raw=QTY * 10**9, precision=0),
            price=Price.parse("100.00"),
            ts_event=0,
            ts_init=0,
            **_IDS,
        )
    )


def _event(kind: str, order: Order, size: int, trade: int) -> OrderEvent:
    base: dict[str, Any] = {"ts_event": trade, "ts_init": trade, **_IDS}
    simple: dict[str, type[OrderEvent]] = {
        "submitted": OrderSubmitted,
        "pending_update": OrderPendingUpdate,
        "pending_cancel": OrderPendingCancel,
        "triggered": OrderTriggered,
        "canceled": OrderCanceled,
        "expired": OrderExpired,
    }
    if kind in simple:
        return simple[kind](**base)
    if kind == "denied":
        return OrderDenied(reason="TEST", **base)
    if kind == "accepted":
        return OrderAccepted(venue_order_id="V-1", **base)
    if kind == "rejected":
        return OrderRejected(reason="TEST", **base)
    if kind == "modify_rejected":
        return OrderModifyRejected(reason="TEST", **base)
    if kind == "cancel_rejected":
        return OrderCancelRejected(reason="TEST", **base)
    if kind == "updated":
        return OrderUpdated(quantity=order.quantity, **base)
    cum = order.filled_qty.raw + size * 10**9
    leaves = max(0, order.quantity.raw - cum)
    fill_type = OrderFilled if leaves == 0 else OrderPartiallyFilled
    return fill_type(
        venue_order_id="V-1",
        trade_id=f"T-{trade}",
        side=OrderSide.BUY,
        last_qty=Quantity(raw=size * 10**9, precision=0),
        last_px=Price.parse("100.00"),
        cum_qty=Quantity(raw=cum, precision=0),
        leaves_qty=Quantity(raw=leaves, precision=0),
        liquidity_side=LiquiditySide.MAKER,
        **base,
    )


steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(min_value=1, max_value=4)), max_size=40
)


@given(steps)
def test_order_fsm_random_events_only_move_through_the_table(
    sequence: list[tuple[str, int]],
) -> None:
    order = _order()
    filled = 0
    for trade, (kind, size) in enumerate(sequence):
        event = _event(kind, order, size, trade)
        before = order.status
        if order.can_apply(event):
            order.apply(event)
            assert (before, type(event)) in TRANSITIONS
            if isinstance(event, (OrderPartiallyFilled, OrderFilled)):
                filled += event.last_qty.raw
        else:
            with pytest.raises(IllegalTransition):
                order.apply(event)
            assert order.status is before
        assert order.status in S
        if before in _NEVER_LEFT:
            assert order.status is before
    assert order.filled_qty.raw == filled
    assert order.leaves_qty.raw >= 0


@given(steps)
def test_order_fsm_pending_request_answer_never_returns_to_a_pending_state(
    sequence: list[tuple[str, int]],
) -> None:
    order = _order()
    for trade, (kind, size) in enumerate(sequence):
        event = _event(kind, order, size, trade)
        if not order.can_apply(event):
            continue
        before = order.status
        order.apply(event)
        answered = type(event) in (OrderUpdated, OrderModifyRejected, OrderCancelRejected)
        if answered and before in _PENDING and before is not order.status:
            assert order.status not in _PENDING


@given(steps)
def test_order_fsm_closed_order_reopens_never(sequence: list[tuple[str, int]]) -> None:
    order = _order()
    closed = False
    for trade, (kind, size) in enumerate(sequence):
        event = _event(kind, order, size, trade)
        if order.can_apply(event):
            order.apply(event)
        if order.status.is_terminal:
            closed = True
        if closed:
            assert order.status.is_terminal
