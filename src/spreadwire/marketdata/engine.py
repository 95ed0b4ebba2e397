"""The market-data engine: venue deltas in, L2 books maintained, quotes out.

It checks every delta's sequence: a gap marks the book invalid, publishes a
:class:`DataGap` and asks the feed for a snapshot; no quote is published from an invalid
book. Deltas at or below the book's sequence (duplicates, or deltas already contained in
the snapshot that resynchronised it) are ignored. A staleness watchdog publishes
``DataGap(reason="stale")`` for an instrument that has not updated within
``stale_after_ns``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import final

from spreadwire.core.clock import Clock
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, BookSnapshot, DataGap, QuoteTick, TradeTick
from spreadwire.domain.values import Price, Quantity
from spreadwire.marketdata.book import L2Book
from spreadwire.marketdata.config import MarketDataConfig, MarketDataStats

log = logging.getLogger("spreadwire.marketdata")


#: values kept per instrument and kind before the cache starts afresh (a bound on memory)
VALUE_CACHE_SIZE = 4096


def _price(cache: dict[int, Price], raw: int, precision: int) -> Price:
    """Build a quote's price and keep it for the next quotes at the same raw."""
    if len(cache) >= VALUE_CACHE_SIZE:
        cache.clear()
    value = cache[raw] = Price(raw=raw, precision=precision)
    return value


def _size(cache: dict[int, Quantity], raw: int, precision: int) -> Quantity:
    """Build a quote's size and keep it for the next quotes at the same raw."""
    if len(cache) >= VALUE_CACHE_SIZE:
        cache.clear()
    value = cache[raw] = Quantity(raw=raw, precision=precision)
    return value


@final
class MarketDataEngine:
    __slots__ = (
        "_books",
        "_clock",
        "_config",
        "_deltas",
        "_gaps",
        "_instruments",
        "_last_top",
        "_last_update",
        "_publish",
        "_quotes",
        "_request_snapshot",
        "_snapshots",
        "_stale",
        "_stale_flagged",
        "_trades",
        "_valid",
        "_values",
    )

    def __init__(
        self,
        config: MarketDataConfig,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        *,
        publish: Callable[[object], None],
        request_snapshot: Callable[[str], None],
    ) -> None:
        self._config = config
        self._clock = clock
        self._instruments = dict(instruments)
        self._publish = publish
        self._request_snapshot = request_snapshot
        self._books = {
            iid: L2Book(iid, inst.price_precision, inst.size_precision)
            for iid, inst in instruments.items()
        }
        self._valid = dict.fromkeys(instruments, True)
        self._last_update = dict.fromkeys(instruments, clock.timestamp_ns())
        self._stale_flagged: set[str] = set()
        self._last_top: dict[str, tuple[int, int, int, int]] = {}
        self._values: dict[str, tuple[dict[int, Price], dict[int, Quantity]]] = {
            iid: ({}, {}) for iid in instruments
        }
        self._deltas = 0
        self._quotes = 0
        self._trades = 0
        self._gaps = 0
        self._stale = 0
        self._snapshots = 0

    def book(self, instrument_id: str) -> L2Book:
        return self._books[instrument_id]

    def on_delta(self, delta: BookDelta) -> None:
        iid = delta.instrument_id
        book = self._books.get(iid)
        if book is None:
            return
        self._deltas += 1
        self._last_update[iid] = self._clock.timestamp_ns()
        self._stale_flagged.discard(iid)
        if not self._valid[iid]:
            return
        if delta.sequence <= book.sequence:
            # Already in the book: a duplicate, or a delta the snapshot we loaded after a
            # gap already contains (the feed delivers it late). Not a gap.
            return
        if delta.sequence != book.sequence + 1:
            self._on_gap(book, delta)
            return
        book.apply(delta)
        if delta.last:
            self._maybe_quote(book, delta.ts_event)

    def _maybe_quote(self, book: L2Book, ts_event: int) -> None:
        """Publish a quote when the top of the book (prices or sizes) changed."""
        bid = book.best_bid
        ask = book.best_ask
        if bid is None or ask is None or bid >= ask:
            return
        top = (bid, ask, book.bids[bid], book.asks[ask])
        if self._last_top.get(book.instrument_id) == top:
            return
        self._last_top[book.instrument_id] = top
        # Price and Quantity are immutable: one value per raw level and size is shared by
        # the quotes of an instrument (a top move usually changes one side only)
        prices, sizes = self._values[book.instrument_id]
        bid_price = prices.get(bid)
        if bid_price is None:
            bid_price = _price(prices, bid, book.price_precision)
        ask_price = prices.get(ask)
        if ask_price is None:
            ask_price = _price(prices, ask, book.price_precision)
        bid_size = sizes.get(top[2])
        if bid_size is None:
            bid_size = _size(sizes, top[2], book.size_precision)
        ask_size = sizes.get(top[3])
        if ask_size is None:
            ask_size = _size(sizes, top[3], book.size_precision)
        quote = QuoteTick(
            instrument_id=book.instrument_id,
            bid_price=bid_price,
            ask_price=ask_price,
            bid_size=bid_size,
            ask_size=ask_size,
            ts_event=ts_event,
            ts_init=self._clock.timestamp_ns(),
        )
        self._quotes += 1
        self._publish(quote)

    def _on_gap(self, book: L2Book, delta: BookDelta) -> None:
        self._gaps += 1
        self._valid[book.instrument_id] = False
        log.warning(
            "sequence gap on %s: expected %d, got %d; requesting a snapshot",
            book.instrument_id,
            book.sequence + 1,
            delta.sequence,
        )
        self._publish(
            DataGap(
                instrument_id=book.instrument_id,
                reason="sequence_gap",
                expected_sequence=book.sequence + 1,
                received_sequence=delta.sequence,
                ts_event=delta.ts_event,
                ts_init=self._clock.timestamp_ns(),
            )
        )
        self._request_snapshot(book.instrument_id)

    def on_snapshot(self, snapshot: BookSnapshot) -> None:
        book = self._books.get(snapshot.instrument_id)
        if book is None:
            return
        iid = snapshot.instrument_id
        if self._valid[iid] and snapshot.sequence < book.sequence:
            return  # older than the book we hold: loading it would go back in time
        self._snapshots += 1
        book.load(snapshot)
        self._valid[iid] = True
        self._last_update[iid] = self._clock.timestamp_ns()
        self._stale_flagged.discard(iid)
        self._last_top.pop(iid, None)
        self._maybe_quote(book, snapshot.ts_event)

    def on_trade(self, trade: TradeTick) -> None:
        if trade.instrument_id in self._books:
            self._trades += 1
            self._publish(trade)

    def check_staleness(self) -> list[str]:
        """Flag instruments with no update within ``stale_after_ns``; return new ones."""
        now = self._clock.timestamp_ns()
        limit = self._config.stale_after_ns
        flagged: list[str] = []
        for iid, last in self._last_update.items():
            if now - last > limit and iid not in self._stale_flagged:
                self._stale_flagged.add(iid)
                self._stale += 1
                flagged.append(iid)
                self._publish(
                    DataGap(
                        instrument_id=iid,
                        reason="stale",
                        expected_sequence=self._books[iid].sequence + 1,
                        received_sequence=self._books[iid].sequence,
                        ts_event=now,
                        ts_init=now,
                    )
                )
        return flagged

    def is_valid(self, instrument_id: str) -> bool:
        return self._valid.get(instrument_id, False)

    def stats(self) -> MarketDataStats:
        return MarketDataStats(
            deltas=self._deltas,
            quotes=self._quotes,
            trades=self._trades,
            gaps=self._gaps,
            stale=self._stale,
            snapshots=self._snapshots,
        )
