"""An L2 order book rebuilt from venue deltas: price level -> total size per side."""

from __future__ import annotations

from typing import Final, final

from spreadwire.domain.enums import BookAction, BookSide
from spreadwire.domain.market import BookDelta, BookLevel, BookSnapshot
from spreadwire.domain.values import Price, Quantity

# enum members as module constants: one delta reads them without a class lookup
_CLEAR: Final = BookAction.CLEAR
_DELETE: Final = BookAction.DELETE
_BID: Final = BookSide.BID

#: shared values kept per book and kind before the cache starts afresh (a bound on memory)
VALUE_CACHE_SIZE: Final = 4096


@final
class L2Book:
    """Levels keyed by raw price; the best bid and ask are kept current incrementally."""

    __slots__ = (
        "asks",
        "best_ask",
        "best_bid",
        "bids",
        "instrument_id",
        "last_update",
        "price_precision",
        "prices",
        "quoted",
        "quoted_ask",
        "quoted_ask_size",
        "quoted_bid",
        "quoted_bid_size",
        "sequence",
        "size_precision",
        "sizes",
        "stale",
        "valid",
    )

    def __init__(self, instrument_id: str, price_precision: int, size_precision: int) -> None:
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid: int | None = None
        self.best_ask: int | None = None
        self.sequence = 0
        # kept by the market-data engine: a gap invalidates the book until a snapshot;
        # ``last_update`` (clock ns) and ``stale`` are the staleness watchdog's
        self.valid = True
        self.last_update = 0
        self.stale = False
        # the top of the last quote built from this book (``quoted`` False: none yet, or
        # the book was reloaded), kept by the market-data engine
        self.quoted = False
        self.quoted_bid = 0
        self.quoted_ask = 0
        self.quoted_bid_size = 0
        self.quoted_ask_size = 0
        # Price and Quantity are immutable: the quotes of this book share one value per
        # raw price and size (bounded, see ``value_price``)
        self.prices: dict[int, Price] = {}
        self.sizes: dict[int, Quantity] = {}

    def apply(self, delta: BookDelta) -> None:
        """Apply one delta (``sequence`` is checked by the caller)."""
        self.apply_level(delta.sequence, delta.action, delta.side, delta.price.raw, delta.size.raw)

    def apply_level(
        self, sequence: int, action: BookAction, side: BookSide, price: int, size: int
    ) -> None:
        """:meth:`apply` from the delta's fields (raw price and size)."""
        self.sequence = sequence
        if action is _CLEAR:
            self.clear()
            return
        if side is _BID:
            if size == 0 or action is _DELETE:
                if self.bids.pop(price, None) is not None and price == self.best_bid:
                    self.best_bid = max(self.bids) if self.bids else None
            else:
                self.bids[price] = size
                if self.best_bid is None or price > self.best_bid:
                    self.best_bid = price
        elif size == 0 or action is _DELETE:
            if self.asks.pop(price, None) is not None and price == self.best_ask:
                self.best_ask = min(self.asks) if self.asks else None
        else:
            self.asks[price] = size
            if self.best_ask is None or price < self.best_ask:
                self.best_ask = price

    def value_price(self, raw: int) -> Price:
        """The shared :class:`Price` of ``raw`` at this book's precision."""
        price = self.prices.get(raw)
        if price is None:
            if len(self.prices) >= VALUE_CACHE_SIZE:
                self.prices.clear()
            price = self.prices[raw] = Price(raw=raw, precision=self.price_precision)
        return price

    def value_size(self, raw: int) -> Quantity:
        """The shared :class:`Quantity` of ``raw`` at this book's precision."""
        size = self.sizes.get(raw)
        if size is None:
            if len(self.sizes) >= VALUE_CACHE_SIZE:
                self.sizes.clear()
            size = self.sizes[raw] = Quantity(raw=raw, precision=self.size_precision)
        return size

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.best_bid = None
        self.best_ask = None

    def load(self, snapshot: BookSnapshot) -> None:
        self.clear()
        for level in snapshot.bids:
            if level.size.raw > 0:  # an empty level is no level, as in ``apply``
                self.bids[level.price.raw] = level.size.raw
        for level in snapshot.asks:
            if level.size.raw > 0:
                self.asks[level.price.raw] = level.size.raw
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None
        self.sequence = snapshot.sequence

    def is_crossed(self) -> bool:
        return (
            self.best_bid is not None
            and self.best_ask is not None
            and self.best_bid >= self.best_ask
        )

    def depth(self, levels: int = 5) -> tuple[list[BookLevel], list[BookLevel]]:
        """The top ``levels`` of each side, best first."""
        price_precision = self.price_precision
        size_precision = self.size_precision
        bids = [
            BookLevel(
                price=Price(raw=p, precision=price_precision),
                size=Quantity(raw=self.bids[p], precision=size_precision),
            )
            for p in sorted(self.bids, reverse=True)[:levels]
        ]
        asks = [
            BookLevel(
                price=Price(raw=p, precision=price_precision),
                size=Quantity(raw=self.asks[p], precision=size_precision),
            )
            for p in sorted(self.asks)[:levels]
        ]
        return bids, asks
