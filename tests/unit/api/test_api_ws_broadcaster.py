"""The broadcaster: channels, per-channel sequence numbers, snapshots, fan-out."""

from __future__ import annotations

import asyncio

import pytest

from spreadwire.api.schemas import LatencyView, PnlView, StageLatency
from spreadwire.api.ws.broadcaster import Broadcaster
from spreadwire.api.ws.codec import JSON, MSGPACK
from spreadwire.core.clock import SimClock
from spreadwire.domain.enums import BookAction, BookSide, LiquiditySide, OrderSide
from spreadwire.domain.events import OrderAccepted, OrderFilled
from tests.builders import make_book_delta, make_quote, make_trade, price, qty
from tests.unit.api.fakes import make_session, records


def make_broadcaster() -> Broadcaster:
    return Broadcaster(clock=SimClock(start_ns=5), symbols=[("AAA.SIM", "AAA"), ("BBB.SIM", "BBB")])


def fill(client_order_id: str = "O-1") -> OrderFilled:
    return OrderFilled(
        strategy_id="s",
        instrument_id="AAA.SIM",
        client_order_id=client_order_id,
        venue_order_id="V-1",
        trade_id="T-9",
        side=OrderSide.BUY,
        last_qty=qty("2"),
        last_px=price("100.01"),
        cum_qty=qty("2"),
        leaves_qty=qty("0"),
        liquidity_side=LiquiditySide.TAKER,
        ts_event=7,
        ts_init=7,
    )


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("quotes.AAA", True),
        ("book.BBB", True),
        ("orders", True),
        ("latency", True),
        ("quotes.ZZZ", False),
        ("candles.AAA", False),
        ("quotes.", False),
        ("quotes", False),
    ],
)
def test_broadcaster_channel_names_follow_instruments(name: str, known: bool) -> None:
    assert (make_broadcaster().channel(name) is not None) is known


async def test_broadcaster_sequence_counts_per_channel() -> None:
    broadcaster = make_broadcaster()
    session, transport, _ = make_session()
    for name in ("trades.AAA", "trades.BBB"):
        broadcaster.subscribe(session, name)

    broadcaster.publish(make_trade("AAA.SIM", trade_id="1"))
    broadcaster.publish(make_trade("BBB.SIM", trade_id="2"))
    broadcaster.publish(make_trade("AAA.SIM", trade_id="3"))
    await asyncio.sleep(0)

    sent = [(r[1], r[2], r[9]) for r in records(transport)[0]]
    assert sent == [("trades.AAA", 1, "1"), ("trades.BBB", 1, "2"), ("trades.AAA", 2, "3")]


async def test_broadcaster_quote_subscriber_gets_last_quote_at_once() -> None:
    broadcaster = make_broadcaster()
    broadcaster.publish(make_quote(bid="99.00"))
    broadcaster.publish(make_quote(bid="99.50"))
    session, transport, _ = make_session(encoding=JSON)

    broadcaster.subscribe(session, "quotes.AAA")
    await asyncio.sleep(0)

    (quote,) = records(transport)[0]
    assert (quote["type"], quote["seq"], quote["bid"]) == ("quote", 2, "99.50")


async def test_broadcaster_book_snapshot_then_contiguous_deltas() -> None:
    broadcaster = make_broadcaster()
    broadcaster.publish(make_book_delta(side=BookSide.BID, level_price="99.00", size="5"))
    broadcaster.publish(make_book_delta(side=BookSide.ASK, level_price="99.10", size="4"))
    broadcaster.publish(make_book_delta(side=BookSide.BID, level_price="99.00", size="0"))
    session, transport, _ = make_session(encoding=JSON)

    broadcaster.subscribe(session, "book.AAA")
    broadcaster.publish(make_book_delta(side=BookSide.BID, level_price="98.90", size="2"))
    await asyncio.sleep(0)

    snapshot, delta = records(transport)[0]
    assert (snapshot["type"], snapshot["seq"]) == ("book_snapshot", 3)
    assert (snapshot["bids"], snapshot["asks"]) == ([], [["99.10", "4"]])
    assert (delta["type"], delta["seq"], delta["price"]) == ("book_delta", 4, "98.90")


async def test_broadcaster_book_clear_empties_the_snapshot() -> None:
    broadcaster = make_broadcaster()
    broadcaster.publish(make_book_delta(level_price="99.00"))
    broadcaster.publish(make_book_delta(action=BookAction.CLEAR))
    session, transport, _ = make_session(encoding=JSON)

    broadcaster.subscribe(session, "book.AAA")
    await asyncio.sleep(0)

    (snapshot,) = records(transport)[0]
    assert (snapshot["bids"], snapshot["asks"]) == ([], [])


async def test_broadcaster_fill_goes_to_orders_and_fills_ahead_of_market_data() -> None:
    broadcaster = make_broadcaster()
    session, transport, _ = make_session()
    for name in ("trades.AAA", "orders", "fills"):
        broadcaster.subscribe(session, name)

    broadcaster.publish(make_trade())
    broadcaster.publish(OrderAccepted(strategy_id="s", instrument_id="AAA.SIM",
                                      client_order_id="O-1", venue_order_id="V-1",
                                      ts_event=6, ts_init=6))  # fmt: skip
    broadcaster.publish(fill())
    await asyncio.sleep(0)

    kinds = [(r[0], r[1], r[2]) for r in records(transport)[0]]
    assert kinds == [
        ("o", "orders", 1),
        ("o", "orders", 2),
        ("f", "fills", 1),
        ("t", "trades.AAA", 1),
    ]


async def test_broadcaster_each_encoding_gets_its_own_records() -> None:
    broadcaster = make_broadcaster()
    binary, binary_transport, _ = make_session(encoding=MSGPACK)
    text, text_transport, _ = make_session(encoding=JSON)
    broadcaster.subscribe(binary, "quotes.AAA")
    broadcaster.subscribe(text, "quotes.AAA")

    broadcaster.publish(make_quote(bid="100.25"))
    await asyncio.sleep(0)

    (packed,) = records(binary_transport)[0]
    (obj,) = records(text_transport)[0]
    assert packed[:4] == ["q", "quotes.AAA", 1, 1000]
    assert packed[4:6] == [100_250_000_000, 2]
    assert (obj["ch"], obj["seq"], obj["bid"]) == ("quotes.AAA", 1, "100.25")


async def test_broadcaster_views_get_timestamped_and_replayed_on_subscribe() -> None:
    broadcaster = make_broadcaster()
    broadcaster.publish(PnlView(realized="1.00", unrealized="2.00", total="3.00", currency="USD"))
    broadcaster.publish(LatencyView(stages=[StageLatency(stage="x", count=1, p50_ns=1, p99_ns=2,
                                                         p999_ns=3, max_ns=4)]))  # fmt: skip
    session, transport, _ = make_session(encoding=JSON)

    broadcaster.subscribe(session, "pnl")
    broadcaster.subscribe(session, "latency")
    await asyncio.sleep(0)

    pnl, latency = records(transport)[0]
    assert (pnl["type"], pnl["ts"], pnl["data"]["total"]) == ("pnl", 5, "3.00")
    assert (latency["type"], latency["data"]["stages"][0]["p99_ns"]) == ("latency", 2)


async def test_broadcaster_detached_session_receives_nothing() -> None:
    broadcaster = make_broadcaster()
    session, transport, _ = make_session()
    broadcaster.subscribe(session, "trades.AAA")

    broadcaster.detach(session)
    broadcaster.publish(make_trade())
    await asyncio.sleep(0)

    assert transport.frames == []
    assert session.channels == {}


def test_broadcaster_unknown_message_types_are_ignored() -> None:
    broadcaster = make_broadcaster()

    broadcaster.publish(object())

    assert broadcaster.published == 0


def test_broadcaster_without_instruments_maps_instrument_id_to_symbol() -> None:
    broadcaster = Broadcaster(clock=SimClock())

    broadcaster.publish(make_quote("XYZ.VENUE"))

    assert broadcaster.channel("quotes.XYZ") is not None
