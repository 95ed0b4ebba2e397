"""Machine-readable reasons the simulated venue gives when it rejects a request."""

from __future__ import annotations

from enum import StrEnum


class VenueReason(StrEnum):
    """The ``reason`` of REJECTED / CANCEL_REJECTED / MODIFY_REJECTED / CANCELED reports."""

    UNKNOWN_INSTRUMENT = "UNKNOWN_INSTRUMENT"
    INSTRUMENT_HALTED = "INSTRUMENT_HALTED"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    UNSUPPORTED_ORDER_TYPE = "UNSUPPORTED_ORDER_TYPE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_LOT = "INVALID_LOT"
    MISSING_PRICE = "MISSING_PRICE"
    INVALID_PRICE = "INVALID_PRICE"
    INVALID_TICK = "INVALID_TICK"
    MISSING_EXPIRE_TIME = "MISSING_EXPIRE_TIME"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    FOK_UNFILLABLE = "FOK_UNFILLABLE"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    VENUE_BUSY = "VENUE_BUSY"
    #: cancel or modify of an order that is no longer working (filled, canceled...)
    TOO_LATE = "TOO_LATE"
    #: cancel, modify or status of an order the venue never saw
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    QUANTITY_BELOW_FILLED = "QUANTITY_BELOW_FILLED"
    #: CANCELED reasons: what happened to an unfilled remainder
    IOC_REMAINDER = "IOC_REMAINDER"
    MARKET_REMAINDER = "MARKET_REMAINDER"
    CANCELED_BY_CLIENT = "CANCELED_BY_CLIENT"
    #: EXPIRED reason: a GTD order reached its expire time
    EXPIRE_TIME_REACHED = "EXPIRE_TIME_REACHED"
