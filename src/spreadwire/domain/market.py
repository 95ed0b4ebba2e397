"""Market-data messages. Timestamps: ``ts_event`` (venue) and ``ts_init`` (created here)."""

from __future__ import annotations

import msgspec

from spreadwire.domain.enums import BookAction, BookSide, OrderSide
from spreadwire.domain.values import Price, Quantity


class QuoteTick(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """Best bid and offer of one instrument."""

    instrument_id: str
    bid_price: Price
    ask_price: Price
    bid_size: Quantity
    ask_size: Quantity
    ts_event: int
    ts_init: int

    @property
    def mid_raw(self) -> int:
        """The mid price as a raw fixed-point int (rounded down to the raw unit)."""
        return (self.bid_price.raw + self.ask_price.raw) // 2


class TradeTick(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """A trade printed by the venue; ``aggressor_side`` is the taker's side."""

    instrument_id: str
    price: Price
    size: Quantity
    aggressor_side: OrderSide
    trade_id: str
    ts_event: int
    ts_init: int


class BookDelta(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag=True):
    """A change of one L2 price level: ``size`` is the level's new total (0 removes it).

    ``sequence`` counts deltas per instrument without gaps; ``last`` marks the final delta
    of an atomic batch (consumers publish derived quotes only then).
    """

    instrument_id: str
    action: BookAction
    side: BookSide
    price: Price
    size: Quantity
    sequence: int
    last: bool
    ts_event: int
    ts_init: int


class BookLevel(msgspec.Struct, frozen=True, kw_only=True, gc=False, array_like=True):
    price: Price
    size: Quantity


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Full L2 depth as of ``sequence`` (used to resynchronise after a gap)."""

    instrument_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    sequence: int
    ts_event: int
    ts_init: int


class DataGap(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Market data of an instrument is missing (sequence gap) or stale (no updates)."""

    instrument_id: str
    reason: str
    expected_sequence: int
    received_sequence: int
    ts_event: int
    ts_init: int
