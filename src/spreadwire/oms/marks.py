"""Marks at quote mids, built when read.

The hot path stores the latest quote of an instrument in :attr:`QuoteMarks.quotes` (one
dict store); the mark's :class:`Price` is built only when a view or the PnL reads it, and
kept until the next quote. Reads see exactly the value an eager ``Price`` per quote would
have been: the mid of two prices at precision ``p`` is exact at precision ``p + 1``.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import final

from spreadwire.domain.market import QuoteTick
from spreadwire.domain.values import Price


@final
class QuoteMarks(MutableMapping[str, Price]):
    """Instrument id -> mark. ``quotes`` takes a quote (or a ready ``Price``) per
    instrument; ``bid_precision`` chooses the mark's precision: the bid's + 1 when set,
    else the finer of bid and ask + 1 (both capped at 9)."""

    __slots__ = ("_bid_precision", "quotes")

    def __init__(self, *, bid_precision: bool = False) -> None:
        self.quotes: dict[str, QuoteTick | Price] = {}
        self._bid_precision = bid_precision

    def __getitem__(self, instrument_id: str) -> Price:
        entry = self.quotes[instrument_id]
        if type(entry) is Price:
            return entry
        assert isinstance(entry, QuoteTick)
        bid = entry.bid_price
        ask = entry.ask_price
        finest = bid.precision if self._bid_precision else max(bid.precision, ask.precision)
        price = Price(raw=(bid.raw + ask.raw) // 2, precision=min(9, finest + 1))
        self.quotes[instrument_id] = price  # kept until the next quote
        return price

    def __setitem__(self, instrument_id: str, price: Price) -> None:
        self.quotes[instrument_id] = price

    def __delitem__(self, instrument_id: str) -> None:
        del self.quotes[instrument_id]

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self.quotes

    def __iter__(self) -> Iterator[str]:
        return iter(self.quotes)

    def __len__(self) -> int:
        return len(self.quotes)

    def __repr__(self) -> str:
        return f"QuoteMarks({dict(self)!r})"
