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
from typing import Final, final

from msgspec.structs import astuple

from spreadwire.core.clock import Clock
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, BookSnapshot, DataGap, QuoteTick, TradeTick
from spreadwire.marketdata.book import L2Book
from spreadwire.marketdata.config import MarketDataConfig, MarketDataStats

log = logging.getLogger("spreadwire.marketdata")

# ``on_delta`` reads a delta's fields from one ``astuple``; these are their positions
_FIELDS: Final = BookDelta.__struct_fields__
_INSTRUMENT: Final = _FIELDS.index("instrument_id")
_ACTION: Final = _FIELDS.index("action")
_SIDE: Final = _FIELDS.index("side")
_PRICE: Final = _FIELDS.index("price")
_SIZE: Final = _FIELDS.index("size")
_SEQUENCE: Final = _FIELDS.index("sequence")
_LAST: Final = _FIELDS.index("last")
_TS_EVENT: Final = _FIELDS.index("ts_event")


@final
class MarketDataEngine:
    __slots__ = (
        "_books",
        "_clock",
        "_config",
        "_deltas",
        "_gaps",
        "_instruments",
        "_publish",
        "_quotes",
        "_request_snapshot",
        "_snapshots",
        "_stale",
        "_trades",
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
        start = clock.timestamp_ns()
        for book in self._books.values():
            book.last_update = start
        self._deltas = 0
        self._quotes = 0
        self._trades = 0
        self._gaps = 0
        self._stale = 0
        self._snapshots = 0

    def book(self, instrument_id: str) -> L2Book:
        return self._books[instrument_id]

    def on_delta(self, delta: BookDelta) -> None:
        # every field in one call: a msgspec field read from compiled code is a generic
        # attribute lookup; the order is BookDelta's (pinned by a test)
        fields = astuple(delta)
        book = self._books.get(fields[_INSTRUMENT])
        if book is None:
            return
        self._deltas += 1
        book.last_update = self._clock.timestamp_ns()
        book.stale = False
        if not book.valid:
            return
        sequence: int = fields[_SEQUENCE]
        if sequence <= book.sequence:
            # Already in the book: a duplicate, or a delta the snapshot we loaded after a
            # gap already contains (the feed delivers it late). Not a gap.
            return
        if sequence != book.sequence + 1:
            self._on_gap(book, delta)
            return
        book.apply_level(
            sequence, fields[_ACTION], fields[_SIDE], fields[_PRICE].raw, fields[_SIZE].raw
        )
        if fields[_LAST]:
            self._maybe_quote(book, fields[_TS_EVENT])

    def _maybe_quote(self, book: L2Book, ts_event: int) -> None:
        """Publish a quote when the top of the book (prices or sizes) changed."""
        bid = book.best_bid
        ask = book.best_ask
        if bid is None or ask is None or bid >= ask:
            return
        bid_size = book.bids[bid]
        ask_size = book.asks[ask]
        if (
            book.quoted
            and bid == book.quoted_bid
            and ask == book.quoted_ask
            and bid_size == book.quoted_bid_size
            and ask_size == book.quoted_ask_size
        ):
            return
        book.quoted = True
        book.quoted_bid = bid
        book.quoted_ask = ask
        book.quoted_bid_size = bid_size
        book.quoted_ask_size = ask_size
        quote = QuoteTick(
            instrument_id=book.instrument_id,
            bid_price=book.value_price(bid),
            ask_price=book.value_price(ask),
            bid_size=book.value_size(bid_size),
            ask_size=book.value_size(ask_size),
            ts_event=ts_event,
            ts_init=self._clock.timestamp_ns(),
        )
        self._quotes += 1
        self._publish(quote)

    def _on_gap(self, book: L2Book, delta: BookDelta) -> None:
        self._gaps += 1
        book.valid = False
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
        if book.valid and snapshot.sequence < book.sequence:
            return  # older than the book we hold: loading it would go back in time
        self._snapshots += 1
        book.load(snapshot)
        book.valid = True
        book.last_update = self._clock.timestamp_ns()
        book.stale = False
        book.quoted = False  # the first quote of the reloaded book is published
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
        for iid, book in self._books.items():
            if now - book.last_update > limit and not book.stale:
                book.stale = True
                self._stale += 1
                flagged.append(iid)
                self._publish(
                    DataGap(
                        instrument_id=iid,
                        reason="stale",
                        expected_sequence=book.sequence + 1,
                        received_sequence=book.sequence,
                        ts_event=now,
                        ts_init=now,
                    )
                )
        return flagged

    def is_valid(self, instrument_id: str) -> bool:
        book = self._books.get(instrument_id)
        return book is not None and book.valid

    def stats(self) -> MarketDataStats:
        return MarketDataStats(
            deltas=self._deltas,
            quotes=self._quotes,
            trades=self._trades,
            gaps=self._gaps,
            stale=self._stale,
            snapshots=self._snapshots,
        )
