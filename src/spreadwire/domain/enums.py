"""Enumerations of the trading domain (string valued, so logs and JSON read well)."""

from __future__ import annotations

from enum import StrEnum


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is OrderSide.BUY else -1

    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    DAY = "DAY"
    GTD = "GTD"


class OrderStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_CANCEL = "PENDING_CANCEL"
    TRIGGERED = "TRIGGERED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        return self in _OPEN


_TERMINAL = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    }
)
_OPEN = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PENDING_UPDATE,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
    }
)


class TradingState(StrEnum):
    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class BookSide(StrEnum):
    BID = "BID"
    ASK = "ASK"


class BookAction(StrEnum):
    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    CLEAR = "CLEAR"


class LiquiditySide(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class ReportKind(StrEnum):
    """What a venue execution report says happened to an order."""

    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    FILL = "FILL"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    MODIFIED = "MODIFIED"
    TRIGGERED = "TRIGGERED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    MODIFY_REJECTED = "MODIFY_REJECTED"
    STATUS = "STATUS"
