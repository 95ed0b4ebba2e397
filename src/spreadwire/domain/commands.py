"""Trading commands: what a strategy or an operator asks the node to do.

Commands are requests; the risk gate may deny them (an ``OrderDenied`` event) and the
venue may reject them (``OrderRejected``).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec

from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce, TradingState
from spreadwire.domain.values import Price, Quantity

Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
#: The longest OpenID Connect ``sub`` (the API refuses a token with a longer one).
MAX_JWT_SUBJECT: Final = 255
#: Who asked: an API key id or ``jwt:<sub>``; a stored command must read back, so this
#: bound holds every operator the API can name.
Operator = Annotated[str, msgspec.Meta(min_length=1, max_length=len("jwt:") + MAX_JWT_SUBJECT)]


class SubmitOrder(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
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
    #: who asked, for an order sent by an operator (API key id or ``jwt:<sub>``;
    #: None for the node's own orders), so the audit log says who did what
    operator: str | None = None
    ts_init: int


class CancelOrder(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    strategy_id: Identifier
    instrument_id: Identifier
    client_order_id: Identifier
    #: who asked, for a cancel sent by an operator (None for the node's own)
    operator: str | None = None
    ts_init: int


class ModifyOrder(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    strategy_id: Identifier
    instrument_id: Identifier
    client_order_id: Identifier
    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None
    ts_init: int


class CancelAllOrders(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Cancel every working order of a strategy (all instruments when None)."""

    strategy_id: Identifier
    instrument_id: str | None = None
    ts_init: int


TradingCommand = SubmitOrder | CancelOrder | ModifyOrder | CancelAllOrders


# --- risk and OMS operator commands (#5) ------------------------------------------------

KillSwitchScope = Literal["all", "strategy", "instrument"]


class EngageKillSwitch(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Block risk-increasing orders in ``scope`` at once and cancel its working orders.

    ``target`` names the strategy or instrument (ignored for ``all``); ``operator`` is who
    pulled the switch (audited).
    """

    scope: KillSwitchScope = "all"
    target: str | None = None
    operator: Operator
    reason: str = ""
    ts_init: int


class ReleaseKillSwitch(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Audited release of a kill switch engaged with the same scope and target."""

    scope: KillSwitchScope = "all"
    target: str | None = None
    operator: Operator
    reason: str = ""
    ts_init: int


class ResetTradingState(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Audited return of the trading state to ACTIVE after a breaker trip."""

    operator: Operator
    reason: str = ""
    ts_init: int


class TripTradingState(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """An operator's trip of the breaker to ``state`` (REDUCING or HALTED), audited.

    Recorded before it is applied, like the other operator commands, so the audit log
    holds the request also when it changes nothing (the breaker already there or beyond:
    a trip never lowers the state); the ``TradingStateChanged`` follows only a change.
    """

    state: TradingState
    operator: Operator
    reason: str = ""
    ts_init: int


LeggingPolicy = Literal["unwind", "complete"]


class SubmitPairOrder(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag=True):
    """Two legs entered as one decision (both pass the risk gate or neither is sent).

    If one leg fails or fills only partly, ``legging`` decides: ``complete`` re-sends the
    missing quantity of the lagging leg as a marketable order until ``leg_timeout_ns``
    (then unwinds); ``unwind`` cancels what is left and flattens the excess of the other
    leg. Leg quantities define the hedge ratio; every leg carries ``pair_id``.
    """

    pair_id: Identifier
    strategy_id: Identifier
    first: SubmitOrder
    second: SubmitOrder
    legging: LeggingPolicy = "unwind"
    leg_timeout_ns: Annotated[int, msgspec.Meta(gt=0)] = 2_000_000_000
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 3
    ts_init: int


RiskCommand = EngageKillSwitch | ReleaseKillSwitch | ResetTradingState | TripTradingState


#: Order types that carry a limit price, and those that carry a trigger price.
PRICED_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
TRIGGERED_TYPES = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})


def submit_problem(command: SubmitOrder) -> str | None:
    """What makes ``command`` an order no venue would take, independent of any instrument
    or limit (None: nothing). The risk gate checks the same on the hot path, compiled."""
    if command.quantity.raw <= 0:
        return f"quantity must be > 0, got {command.quantity}"
    order_type = command.order_type
    if (command.price is None) is (order_type in PRICED_TYPES):
        needs = "needs a" if order_type in PRICED_TYPES else "takes no"
        return f"a {order_type} order {needs} price"
    if (command.trigger_price is None) is (order_type in TRIGGERED_TYPES):
        needs = "needs a" if order_type in TRIGGERED_TYPES else "takes no"
        return f"a {order_type} order {needs} trigger_price"
    return None
