"""Execution reports of the simulated venue, built from its order records.

Every report carries the order's cumulative and leaves quantity; terminal reports
(REJECTED, CANCELED, EXPIRED) have leaves 0. A STATUS report carries the order's
:class:`~spreadwire.domain.enums.OrderStatus` value in ``reason``.
"""

from __future__ import annotations

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, ReportKind
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.venue.book import BookOrder
from spreadwire.venue.listing import Listing


def venue_order_id(order: BookOrder, prefix: str) -> str:
    """``prefix`` names the venue session (``SimulatedExchange.open_session``), so that an
    order's number, counted from 1 in every process, is not the id of another session's."""
    return f"{prefix}{order.order_id}"


def order_report(
    kind: ReportKind,
    order: BookOrder,
    listing: Listing,
    now: int,
    reason: str = "",
    *,
    prefix: str,
) -> ExecutionReport:
    return ExecutionReport(
        kind=kind,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=venue_order_id(order, prefix),
        side=OrderSide.BUY if order.is_buy else OrderSide.SELL,
        cum_qty=listing.quantity(order.filled),
        leaves_qty=listing.quantity(order.leaves),
        price=listing.price(order.price) if order.price else None,
        quantity=listing.quantity(order.quantity),
        reason=reason,
        ts_event=now,
    )


def fill_report(
    order: BookOrder,
    cum: int,
    last_qty: Quantity,
    last_px: Price,
    *,
    trade_id: str,
    liquidity: LiquiditySide,
    now: int,
    prefix: str,
) -> ExecutionReport:
    """A FILL; ``cum`` is the order's filled quantity right after this fill."""
    precision = last_qty.precision
    return ExecutionReport(
        kind=ReportKind.FILL,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=venue_order_id(order, prefix),
        side=OrderSide.BUY if order.is_buy else OrderSide.SELL,
        cum_qty=Quantity(raw=cum, precision=precision),
        leaves_qty=Quantity(raw=order.quantity - cum, precision=precision),
        last_qty=last_qty,
        last_px=last_px,
        trade_id=trade_id,
        liquidity_side=liquidity,
        price=Price(raw=order.price, precision=last_px.precision) if order.price else None,
        quantity=Quantity(raw=order.quantity, precision=precision),
        ts_event=now,
    )


def rejected_report(cmd: SubmitOrder, reason: str, now: int) -> ExecutionReport:
    """REJECTED for an order the venue refused before it existed (no venue order id)."""
    zero = Quantity(raw=0, precision=cmd.quantity.precision)
    return ExecutionReport(
        kind=ReportKind.REJECTED,
        instrument_id=cmd.instrument_id,
        client_order_id=cmd.client_order_id,
        venue_order_id="",
        side=cmd.side,
        cum_qty=zero,
        leaves_qty=zero,
        price=cmd.price,
        quantity=cmd.quantity,
        reason=reason,
        ts_event=now,
    )


def unknown_order_report(
    kind: ReportKind, instrument_id: str, client_order_id: str, reason: str, now: int
) -> ExecutionReport:
    """CANCEL_REJECTED / MODIFY_REJECTED for an order the venue does not know.

    The venue cannot know the side of an unknown order: the report says BUY and the
    receiver relies on its own record.
    """
    zero = Quantity(raw=0, precision=0)
    return ExecutionReport(
        kind=kind,
        instrument_id=instrument_id,
        client_order_id=client_order_id,
        venue_order_id="",
        side=OrderSide.BUY,
        cum_qty=zero,
        leaves_qty=zero,
        reason=reason,
        ts_event=now,
    )
