"""Records encoded by the server decode to the same client messages in both encodings."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from spreadwire.api.ws.book import BookMirror
from spreadwire.api.ws.codec import JSON, MSGPACK, RecordCodec, build_frame, msgpack_array_header
from spreadwire.client import BookDelta, BookSnapshot, Fill, Quote, Trade, _from_array, _from_object
from spreadwire.domain.enums import BookSide, LiquiditySide, OrderSide
from spreadwire.domain.events import OrderFilled
from tests.builders import make_book_delta, make_quote, make_trade, price, qty


def decode(record: bytes, encoding: int) -> Any:
    if encoding == MSGPACK:
        return _from_array(msgspec.msgpack.decode(record))
    return _from_object(msgspec.json.decode(record))


@pytest.mark.parametrize("encoding", [JSON, MSGPACK], ids=["json", "msgpack"])
def test_codec_quote_round_trips_exactly(encoding: int) -> None:
    codec = RecordCodec()
    tick = make_quote(bid="100.10", ask="100.12", bid_size="7", ask_size="3", ts_event=42)

    message = decode(codec.quote("quotes.AAA", 9, tick, encoding), encoding)

    assert message == Quote(channel="quotes.AAA", seq=9, ts_event=42, symbol="AAA",
                            bid_price=price("100.10"), bid_size=qty("7"),
                            ask_price=price("100.12"), ask_size=qty("3"))  # fmt: skip


@pytest.mark.parametrize("encoding", [JSON, MSGPACK], ids=["json", "msgpack"])
def test_codec_trade_and_book_round_trip(encoding: int) -> None:
    codec = RecordCodec()
    mirror = BookMirror()
    mirror.apply(make_book_delta(side=BookSide.ASK, level_price="100.30", size="2"))

    trade = decode(
        codec.trade("trades.AAA", 1, make_trade(trade_price="100.01"), encoding), encoding
    )
    delta = decode(codec.book_delta("book.AAA", 2, make_book_delta(), encoding), encoding)
    snapshot = decode(codec.book_snapshot("book.AAA", 3, 5, mirror.levels(), encoding), encoding)

    assert isinstance(trade, Trade) and trade.price == price("100.01")
    assert trade.aggressor_side == "BUY"
    assert isinstance(delta, BookDelta) and (delta.side, delta.size) == ("BID", qty("10"))
    assert isinstance(snapshot, BookSnapshot)
    assert snapshot.asks == [(price("100.30"), qty("2"))]


@pytest.mark.parametrize("encoding", [JSON, MSGPACK], ids=["json", "msgpack"])
def test_codec_fill_event_fields_come_back_as_fixed_point(encoding: int) -> None:
    codec = RecordCodec()
    event = OrderFilled(strategy_id="s", instrument_id="AAA.SIM", client_order_id="O-1",
                        venue_order_id="V-1", trade_id="T-1", side=OrderSide.SELL,
                        last_qty=qty("2"), last_px=price("99.95"), cum_qty=qty("2"),
                        leaves_qty=qty("0"), liquidity_side=LiquiditySide.MAKER,
                        ts_event=8, ts_init=8)  # fmt: skip

    message = decode(codec.order_event("fills", 4, event, encoding), encoding)

    assert isinstance(message, Fill)
    assert message.event["type"] == "OrderFilled"
    assert (message.event["last_px"], message.event["cum_qty"]) == (price("99.95"), qty("2"))


def test_codec_text_cache_formats_like_str() -> None:
    codec = RecordCodec()

    assert codec.text(price("0.10")) == "0.10"
    assert codec.text(price("0.1")) == "0.1"
    assert codec.text(qty("12")) == "12"


@pytest.mark.parametrize("count", [0, 1, 15, 16, 65_535, 65_536])
def test_msgpack_array_header_matches_msgspec(count: int) -> None:
    assert msgpack_array_header(count) == msgspec.msgpack.encode([None] * count)[: -count or None]


def test_build_frame_keeps_headroom_and_wraps_records() -> None:
    buffer = bytearray(b"x" * 14)

    build_frame(buffer, [b"1", b"2"], JSON)
    as_json = bytes(buffer[14:])
    build_frame(buffer, [msgspec.msgpack.encode(1)], MSGPACK)

    assert as_json == b"[1,2]"
    assert msgspec.msgpack.decode(bytes(buffer[14:])) == [1]
    assert len(buffer) == 16
