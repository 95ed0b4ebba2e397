"""Order and trading-state events: facts, appended to the event store in order.

Every order event carries ``strategy_id``, ``instrument_id`` and ``client_order_id``;
``ts_event`` is when it happened (venue time for venue facts), ``ts_init`` when this
node created the object.
"""

from __future__ import annotations

import msgspec

from spreadwire.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderType,
    TimeInForce,
    TradingState,
)
from spreadwire.domain.values import Price, Quantity


class OrderEvent(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Fields shared by every order event."""

    strategy_id: str
    instrument_id: str
    client_order_id: str
    ts_event: int
    ts_init: int


class OrderInitialized(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
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


class OrderDenied(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    """The pre-trade risk gate refused the order; ``reason`` is a machine-readable code."""

    reason: str
    message: str = ""


class OrderSubmitted(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderAccepted(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    venue_order_id: str


class OrderRejected(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    """The venue refused the order."""

    reason: str


class OrderPendingUpdate(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderPendingCancel(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderModifyRejected(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    reason: str


class OrderCancelRejected(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    reason: str


class OrderUpdated(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    quantity: Quantity
    price: Price | None = None
    trigger_price: Price | None = None


class OrderTriggered(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderFill(OrderEvent, frozen=True, gc=False, kw_only=True):
    """Fields of a fill; ``cum_qty + leaves_qty`` equals the order quantity."""

    venue_order_id: str
    trade_id: str
    side: OrderSide
    last_qty: Quantity
    last_px: Price
    cum_qty: Quantity
    leaves_qty: Quantity
    liquidity_side: LiquiditySide


class OrderPartiallyFilled(OrderFill, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderFilled(OrderFill, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderCanceled(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class OrderExpired(OrderEvent, frozen=True, gc=False, kw_only=True, tag=True):
    pass


class TradingStateChanged(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """The node's trading state moved (breaker trip, kill switch, audited reset)."""

    state: TradingState
    previous: TradingState
    reason: str
    scope: str = "all"
    #: who made the change (an operator's trip, reset or kill switch; None: the node)
    operator: str | None = None
    ts_event: int
    ts_init: int


OrderEvents = (
    OrderInitialized
    | OrderDenied
    | OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderPendingUpdate
    | OrderPendingCancel
    | OrderModifyRejected
    | OrderCancelRejected
    | OrderUpdated
    | OrderTriggered
    | OrderPartiallyFilled
    | OrderFilled
    | OrderCanceled
    | OrderExpired
)

ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = (
    OrderInitialized,
    OrderDenied,
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderPendingUpdate,
    OrderPendingCancel,
    OrderModifyRejected,
    OrderCancelRejected,
    OrderUpdated,
    OrderTriggered,
    OrderPartiallyFilled,
    OrderFilled,
    OrderCanceled,
    OrderExpired,
)


# --- risk and OMS events (#5) -----------------------------------------------------------


class TradingAlert(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Something an operator must see: a breaker trip, an overfill, an unknown outcome.

    ``source`` is the component (``risk``, ``oms``), ``code`` a machine-readable reason,
    ``severity`` one of ``info``, ``warning``, ``critical``.
    """

    source: str
    code: str
    message: str
    severity: str = "warning"
    client_order_id: str | None = None
    ts_event: int
    ts_init: int


class VenueStateChanged(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """A venue connection breaker moved (``closed``, ``open``, ``half_open``)."""

    venue: str
    state: str
    previous: str
    reason: str
    ts_event: int
    ts_init: int


class PairStateChanged(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """A pair order moved (``working``, ``legging``, ``completing``, ``unwinding``,
    ``complete``, ``unwound``, ``failed``); ``residual_*`` is the signed quantity of each
    leg not matched by the other leg at the pair's hedge ratio (raw fixed point, 1e9)."""

    pair_id: str
    strategy_id: str
    state: str
    previous: str
    reason: str
    first_instrument_id: str
    second_instrument_id: str
    residual_first_raw: int
    residual_second_raw: int
    ts_event: int
    ts_init: int
