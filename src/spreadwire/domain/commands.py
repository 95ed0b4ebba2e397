"""Trading commands: what a strategy or an operator asks the node to do.

Commands are requests; the risk gate may deny them (an ``OrderDenied`` event) and the
venue may reject them (``OrderRejected``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
from spreadwire.domain.values import Price, Quantity

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class SubmitOrder(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    strategy_id: Identifier
    instrument_id: Identifier
    client_order_id: Identifier
    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    price: Price | None = None
    trigger_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    pair_id: str | None = None
    ts_init: int


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    strategy_id: Identifier
    instrument_id: Identifier
    client_order_id: Identifier
    ts_init: int


class ModifyOrder(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    strategy_id: Identifier
    instrument_id: Identifier
    client_order_id: Identifier
    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None
    ts_init: int


class CancelAllOrders(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Cancel every working order of a strategy (all instruments when None)."""

    strategy_id: Identifier
    instrument_id: str | None = None
    ts_init: int


TradingCommand = SubmitOrder | CancelOrder | ModifyOrder | CancelAllOrders
