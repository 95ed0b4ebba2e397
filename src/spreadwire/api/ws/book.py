"""A mirror of one instrument's L2 book, kept so a new ``book.<symbol>`` subscriber gets a
snapshot at the channel's current sequence number and then every later delta."""

from __future__ import annotations

from typing import final

from spreadwire.domain.enums import BookAction, BookSide
from spreadwire.domain.market import BookDelta, BookSnapshot
from spreadwire.domain.values import Price, Quantity

Levels = list[tuple[Price, Quantity]]


@final
class BookMirror:
    """Price levels per side, keyed by raw price; O(1) per delta, sorted on snapshot."""

    __slots__ = ("asks", "bids", "ts_event")

    def __init__(self) -> None:
        self.bids: dict[int, tuple[Price, Quantity]] = {}
        self.asks: dict[int, tuple[Price, Quantity]] = {}
        self.ts_event = 0

    def apply(self, delta: BookDelta) -> None:
        self.ts_event = delta.ts_event
        if delta.action is BookAction.CLEAR:
            self.bids.clear()
            self.asks.clear()
            return
        side = self.bids if delta.side is BookSide.BID else self.asks
        if delta.action is BookAction.DELETE or delta.size.raw == 0:
            side.pop(delta.price.raw, None)
        else:
            side[delta.price.raw] = (delta.price, delta.size)

    def load(self, snapshot: BookSnapshot) -> None:
        self.ts_event = snapshot.ts_event
        self.bids = {lv.price.raw: (lv.price, lv.size) for lv in snapshot.bids if lv.size.raw}
        self.asks = {lv.price.raw: (lv.price, lv.size) for lv in snapshot.asks if lv.size.raw}

    def levels(self) -> tuple[Levels, Levels]:
        """Bids best (highest) first, asks best (lowest) first."""
        bids = [self.bids[raw] for raw in sorted(self.bids, reverse=True)]
        asks = [self.asks[raw] for raw in sorted(self.asks)]
        return bids, asks
