"""One listed instrument on the simulated venue: its book and its feed state."""

from __future__ import annotations

from typing import final

from spreadwire.domain.enums import BookAction, BookSide
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, BookLevel, BookSnapshot
from spreadwire.domain.values import Price, Quantity
from spreadwire.venue.book import OrderBook


@final
class Listing:
    """An instrument's book, trading state and L2 feed sequence."""

    __slots__ = (
        "book",
        "halted",
        "instrument",
        "instrument_id",
        "lot",
        "price_precision",
        "sequence",
        "size_precision",
        "tick",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.instrument_id = instrument.instrument_id
        self.book = OrderBook()
        self.sequence = 0
        self.halted = not instrument.tradable
        self.price_precision = instrument.price_precision
        self.size_precision = instrument.size_precision
        self.tick = instrument.tick_size.raw
        self.lot = instrument.lot_size.raw

    def price(self, raw: int) -> Price:
        return Price(raw=raw, precision=self.price_precision)

    def quantity(self, raw: int) -> Quantity:
        return Quantity(raw=raw, precision=self.size_precision)

    def drain_deltas(self, now: int) -> list[BookDelta]:
        """One delta per level changed since the last drain; ``last`` on the final one."""
        book = self.book
        touched = book.touched
        if not touched:
            return []
        changes: list[tuple[BookSide, int, int, int]] = []
        for key, before in touched.items():
            if key < 0:
                side, price, after = BookSide.BID, -key, book.level_size(True, -key)
            else:
                side, price, after = BookSide.ASK, key, book.level_size(False, key)
            if after != before:
                changes.append((side, price, before, after))
        touched.clear()
        deltas = []
        final_index = len(changes) - 1
        for index, (side, price, before, after) in enumerate(changes):
            self.sequence += 1
            if not after:
                action = BookAction.DELETE
            else:
                action = BookAction.UPDATE if before else BookAction.ADD
            deltas.append(
                BookDelta(
                    instrument_id=self.instrument_id,
                    action=action,
                    side=side,
                    price=self.price(price),
                    size=self.quantity(after),
                    sequence=self.sequence,
                    last=index == final_index,
                    ts_event=now,
                    ts_init=now,
                )
            )
        return deltas

    def snapshot(self, now: int, levels: int | None = None) -> BookSnapshot:
        """The L2 book as of the last drained delta (``sequence``)."""

        def side(is_buy: bool) -> tuple[BookLevel, ...]:
            return tuple(
                BookLevel(price=self.price(p), size=self.quantity(s))
                for p, s in self.book.depth(is_buy, levels)
            )

        return BookSnapshot(
            instrument_id=self.instrument_id,
            bids=side(True),
            asks=side(False),
            sequence=self.sequence,
            ts_event=now,
            ts_init=now,
        )
