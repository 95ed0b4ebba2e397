"""Execution reports: what a venue says about an order, before the OMS checks it."""

from __future__ import annotations

import msgspec

from spreadwire.domain.enums import LiquiditySide, OrderSide, ReportKind
from spreadwire.domain.values import Price, Quantity


class ExecutionReport(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """One venue report. Fills carry ``trade_id``, ``last_qty`` and ``last_px``;
    every report carries the venue's cumulative and leaves quantity."""

    kind: ReportKind
    instrument_id: str
    client_order_id: str
    venue_order_id: str
    side: OrderSide
    cum_qty: Quantity
    leaves_qty: Quantity
    last_qty: Quantity | None = None
    last_px: Price | None = None
    trade_id: str | None = None
    liquidity_side: LiquiditySide | None = None
    price: Price | None = None
    quantity: Quantity | None = None
    reason: str = ""
    ts_event: int
