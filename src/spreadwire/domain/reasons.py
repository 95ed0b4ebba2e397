"""Reason codes of pre-trade denials, shared by the risk gate that issues them and the
components that must recognise them (the OMS tells a gate refusal of a modify from a
venue's by its code)."""

from __future__ import annotations

from enum import StrEnum


class DenyReason(StrEnum):
    """Why the pre-trade gate refused an order, in the order the checks run."""

    TRADING_HALTED = "TRADING_HALTED"
    KILL_SWITCH = "KILL_SWITCH"
    INSTRUMENT_NOT_TRADABLE = "INSTRUMENT_NOT_TRADABLE"
    VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"
    INVALID_ORDER = "INVALID_ORDER"
    PRICE_PRECISION = "PRICE_PRECISION"
    QUANTITY_PRECISION = "QUANTITY_PRECISION"
    QUANTITY_BELOW_MIN = "QUANTITY_BELOW_MIN"
    QUANTITY_ABOVE_MAX = "QUANTITY_ABOVE_MAX"
    NOTIONAL_BELOW_MIN = "NOTIONAL_BELOW_MIN"
    NOTIONAL_ABOVE_MAX = "NOTIONAL_ABOVE_MAX"
    NO_REFERENCE_PRICE = "NO_REFERENCE_PRICE"
    STALE_REFERENCE_PRICE = "STALE_REFERENCE_PRICE"
    PRICE_COLLAR = "PRICE_COLLAR"
    REDUCE_ONLY = "REDUCE_ONLY"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    STRATEGY_MAX_OPEN_ORDERS = "STRATEGY_MAX_OPEN_ORDERS"
    ORDER_RATE = "ORDER_RATE"
    STRATEGY_ORDER_RATE = "STRATEGY_ORDER_RATE"
    CANCEL_RATE = "CANCEL_RATE"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    SELF_TRADE = "SELF_TRADE"
    POSITION_LIMIT = "POSITION_LIMIT"
    STRATEGY_NOTIONAL_BUDGET = "STRATEGY_NOTIONAL_BUDGET"
    GROSS_EXPOSURE = "GROSS_EXPOSURE"
    NET_EXPOSURE = "NET_EXPOSURE"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    MAX_DRAWDOWN = "MAX_DRAWDOWN"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    PAIR_LEG_DENIED = "PAIR_LEG_DENIED"


#: how the reason of a kill switch's ``TradingStateChanged`` starts (then the operator,
#: ``: `` and their reason): the risk engine writes them, its restore and the risk read
#: model tell a kill switch's change from the breaker's by them
KILL_SWITCH_ENGAGED_BY = "KILL_SWITCH by "
KILL_SWITCH_RELEASED_BY = "KILL_SWITCH_RELEASED by "

#: every code the gate publishes as a denial (``OrderDenied``, and the
#: ``OrderModifyRejected`` of a modify it refused), as plain strings
GATE_REASONS = frozenset(reason.value for reason in DenyReason)

#: gate codes a venue answers with too: UNKNOWN_ORDER, a cancel or a modify of an order
#: the venue does not know (it lost its orders, or never saw the order). The gate denies
#: a modify with it only when it holds no working order of that id, so never while a
#: modify it approved is in flight.
VENUE_REASONS_IN_GATE = frozenset({DenyReason.UNKNOWN_ORDER.value})


def denied_by_gate(reason: str, *, modify_in_flight: bool) -> bool:
    """Whether an ``OrderModifyRejected`` with ``reason`` is the gate's denial of a
    modify (which never reached the order) rather than the venue's answer to a modify
    in flight (which ends it); ``modify_in_flight``: the order waits for the venue's
    answer to a modify (status PENDING_UPDATE)."""
    return reason in GATE_REASONS and not (modify_in_flight and reason in VENUE_REASONS_IN_GATE)
