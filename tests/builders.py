"""Shared test builders: small, stable helpers for values, instruments, market data and
order events.

Defaults describe one plain instrument (``AAA.SIM``, price precision 2, size precision 0,
tick 0.01, lot 1, minimum notional 10.00 USD); override only what a test is about.
"""

from __future__ import annotations

from spreadwire.domain.enums import BookAction, BookSide, OrderSide
from spreadwire.domain.events import OrderAccepted
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, QuoteTick, TradeTick
from spreadwire.domain.values import Money, Price, Quantity

__all__ = [
    "make_accepted",
    "make_book_delta",
    "make_instrument",
    "make_quote",
    "make_trade",
    "money",
    "price",
    "qty",
]


def price(text: str, precision: int | None = None) -> Price:
    """``price("101.25")``: a price with as many decimals as written (or ``precision``)."""
    return Price.parse(text, precision)


def qty(text: str, precision: int | None = None) -> Quantity:
    """``qty("3")``: a quantity with as many decimals as written (or ``precision``)."""
    return Quantity.parse(text, precision)


def money(text: str, currency: str = "USD", precision: int | None = None) -> Money:
    """``money("12.50")``: an amount in ``currency`` (USD by default)."""
    return Money.parse(text, currency, precision)


def make_instrument(
    symbol: str = "AAA",
    *,
    venue: str = "SIM",
    currency: str = "USD",
    price_precision: int = 2,
    size_precision: int = 0,
    tick_size: str = "0.01",
    lot_size: str = "1",
    min_notional: str = "10.00",
    tradable: bool = True,
) -> Instrument:
    """An instrument; sizes are strings parsed at the instrument's precisions."""
    return Instrument(
        symbol=symbol,
        venue=venue,
        currency=currency,
        price_precision=price_precision,
        size_precision=size_precision,
        tick_size=Price.parse(tick_size, price_precision),
        lot_size=Quantity.parse(lot_size, size_precision),
        min_notional=Money.parse(min_notional, currency),
        tradable=tradable,
    )


def make_quote(
    instrument_id: str = "AAA.SIM",
    *,
    bid: str = "100.00",
    ask: str = "100.02",
    bid_size: str = "10",
    ask_size: str = "10",
    ts_event: int = 1_000,
    ts_init: int | None = None,
) -> QuoteTick:
    """A quote; ``ts_init`` defaults to ``ts_event``."""
    return QuoteTick(
        instrument_id=instrument_id,
        bid_price=Price.parse(bid),
        ask_price=Price.parse(ask),
        bid_size=Quantity.parse(bid_size),
        ask_size=Quantity.parse(ask_size),
        ts_event=ts_event,
        ts_init=ts_event if ts_init is None else ts_init,
    )


def make_trade(
    instrument_id: str = "AAA.SIM",
    *,
    trade_price: str = "100.01",
    size: str = "5",
    aggressor_side: OrderSide = OrderSide.BUY,
    trade_id: str = "T-1",
    ts_event: int = 1_000,
    ts_init: int | None = None,
) -> TradeTick:
    """A trade print; ``ts_init`` defaults to ``ts_event``."""
    return TradeTick(
        instrument_id=instrument_id,
        price=Price.parse(trade_price),
        size=Quantity.parse(size),
        aggressor_side=aggressor_side,
        trade_id=trade_id,
        ts_event=ts_event,
        ts_init=ts_event if ts_init is None else ts_init,
    )


def make_book_delta(
    instrument_id: str = "AAA.SIM",
    *,
    action: BookAction = BookAction.ADD,
    side: BookSide = BookSide.BID,
    level_price: str = "100.00",
    size: str = "10",
    sequence: int = 1,
    last: bool = True,
    ts_event: int = 1_000,
    ts_init: int | None = None,
) -> BookDelta:
    """One L2 level change; ``ts_init`` defaults to ``ts_event``."""
    return BookDelta(
        instrument_id=instrument_id,
        action=action,
        side=side,
        price=Price.parse(level_price),
        size=Quantity.parse(size),
        sequence=sequence,
        last=last,
        ts_event=ts_event,
        ts_init=ts_event if ts_init is None else ts_init,
    )


def make_accepted(client_order_id: str, n: int = 0) -> OrderAccepted:
    """An ``OrderAccepted`` numbered ``n`` (venue order id and timestamps), the event the
    store tests append by the thousand."""
    return OrderAccepted(
        strategy_id="s1",
        instrument_id="AAA.SIM",
        client_order_id=client_order_id,
        venue_order_id=f"V{n}",
        ts_event=n,
        ts_init=n,
    )
