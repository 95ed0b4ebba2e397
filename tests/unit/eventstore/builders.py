"""Builders of order-flow messages for event-store tests."""

from __future__ import annotations

from typing import TypeVar

from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType, TradingState
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderPartiallyFilled,
    OrderSubmitted,
    TradingStateChanged,
)
from spreadwire.domain.values import Price, Quantity
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.writer import EventWriter

R = TypeVar("R", bound=Recorder)


def initialized(coid: str, side: OrderSide = OrderSide.BUY, qty: str = "10") -> OrderInitialized:
    return OrderInitialized(
        strategy_id="pairs-1",
        instrument_id="AAA.SIM",
        client_order_id=coid,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=Quantity.parse(qty),
        price=Price.parse("100.00"),
        ts_event=1,
        ts_init=1,
    )


def submitted(coid: str) -> OrderSubmitted:
    return OrderSubmitted(
        strategy_id="pairs-1", instrument_id="AAA.SIM", client_order_id=coid, ts_event=2, ts_init=2
    )


def accepted(coid: str) -> OrderAccepted:
    return OrderAccepted(
        strategy_id="pairs-1",
        instrument_id="AAA.SIM",
        client_order_id=coid,
        venue_order_id=f"V-{coid}",
        ts_event=3,
        ts_init=3,
    )


def filled(
    coid: str,
    trade_id: str,
    qty: str,
    px: str,
    *,
    side: OrderSide = OrderSide.BUY,
    cum: str = "10",
    leaves: str = "0",
) -> OrderFilled | OrderPartiallyFilled:
    cls = OrderFilled if Quantity.parse(leaves).is_zero() else OrderPartiallyFilled
    return cls(
        strategy_id="pairs-1",
        instrument_id="AAA.SIM",
        client_order_id=coid,
        venue_order_id=f"V-{coid}",
        trade_id=trade_id,
        side=side,
        last_qty=Quantity.parse(qty),
        last_px=Price.parse(px),
        cum_qty=Quantity.parse(cum),
        leaves_qty=Quantity.parse(leaves),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=4,
        ts_init=4,
    )


def canceled(coid: str) -> OrderCanceled:
    return OrderCanceled(
        strategy_id="pairs-1", instrument_id="AAA.SIM", client_order_id=coid, ts_event=5, ts_init=5
    )


def halted(reason: str = "breaker") -> TradingStateChanged:
    return TradingStateChanged(
        state=TradingState.HALTED,
        previous=TradingState.ACTIVE,
        reason=reason,
        ts_event=6,
        ts_init=6,
    )


def order_flow() -> list[object]:
    """Two orders: one bought 10 @ 100 in two fills, one sold 4 @ 101.5; then a halt."""
    return [
        initialized("O-1"),
        submitted("O-1"),
        accepted("O-1"),
        filled("O-1", "T-1", "6", "100.00", cum="6", leaves="4"),
        filled("O-1", "T-2", "4", "100.00", cum="10", leaves="0"),
        initialized("O-2", side=OrderSide.SELL, qty="8"),
        submitted("O-2"),
        accepted("O-2"),
        filled("O-2", "T-3", "4", "101.50", side=OrderSide.SELL, cum="4", leaves="4"),
        canceled("O-2"),
        halted(),
    ]


def record_order_flow(recorder: R) -> R:
    """``recorder`` with :func:`order_flow` appended through an ``EventWriter`` (11 entries)."""
    with EventWriter(recorder) as writer:
        for message in order_flow():
            writer.append(message)
    return recorder
