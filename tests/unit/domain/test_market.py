from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import msgspec
import pytest

from spreadwire.domain.enums import BookAction, BookSide, OrderSide
from spreadwire.domain.market import (
    BookDelta,
    BookLevel,
    BookSnapshot,
    DataGap,
    QuoteTick,
    TradeTick,
)
from tests.builders import make_book_delta, make_quote, make_trade, price, qty

MarketMessage: TypeAlias = QuoteTick | TradeTick | BookDelta | BookSnapshot | DataGap


def _snapshot() -> BookSnapshot:
    return BookSnapshot(
        instrument_id="AAA.SIM",
        bids=(
            BookLevel(price=price("100.00"), size=qty("5")),
            BookLevel(price=price("99.99"), size=qty("7")),
        ),
        asks=(BookLevel(price=price("100.02"), size=qty("3.5")),),
        sequence=42,
        ts_event=1_700_000_000_000_000_000,
        ts_init=1_700_000_000_000_000_123,
    )


def _gap() -> DataGap:
    return DataGap(
        instrument_id="AAA.SIM",
        reason="sequence gap",
        expected_sequence=10,
        received_sequence=13,
        ts_event=5,
        ts_init=6,
    )


MESSAGES: list[MarketMessage] = [
    make_quote(bid="-0.50", ask="0.25", bid_size="0.001", ts_event=1, ts_init=2),
    make_trade(aggressor_side=OrderSide.SELL, trade_id="T-99", ts_init=2**62),
    make_book_delta(action=BookAction.DELETE, side=BookSide.ASK, size="0", sequence=7),
    make_book_delta(action=BookAction.UPDATE, last=False),
    _snapshot(),
    _gap(),
]


def _msgpack_round_trip(message: MarketMessage) -> MarketMessage:
    decoded: MarketMessage = msgspec.msgpack.decode(
        msgspec.msgpack.encode(message), type=MarketMessage
    )
    return decoded


def _json_round_trip(message: MarketMessage) -> MarketMessage:
    decoded: MarketMessage = msgspec.json.decode(msgspec.json.encode(message), type=MarketMessage)
    return decoded


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
@pytest.mark.parametrize("round_trip", [_msgpack_round_trip, _json_round_trip])
def test_market_message_codec_round_trip_is_equal(
    round_trip: Callable[[MarketMessage], MarketMessage], message: MarketMessage
) -> None:
    # Arrange / Act
    decoded = round_trip(message)

    # Assert
    assert type(decoded) is type(message)
    assert decoded == message
    assert msgspec.json.encode(decoded) == msgspec.json.encode(message)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
def test_market_message_json_carries_class_tag(message: MarketMessage) -> None:
    # Arrange / Act
    document = msgspec.json.decode(msgspec.json.encode(message))

    # Assert
    assert document["type"] == type(message).__name__
    assert isinstance(document["ts_event"], int)
    assert isinstance(document["ts_init"], int)


def test_quote_json_keeps_precision_of_prices() -> None:
    # Arrange
    quote = make_quote(bid="100.10", ask="100.12")

    # Act
    decoded = msgspec.json.decode(msgspec.json.encode(quote), type=QuoteTick)

    # Assert
    assert str(decoded.bid_price) == "100.10"
    assert decoded.bid_price.precision == 2


def test_quote_decode_off_grid_price_raises_msgspec_validation_error() -> None:
    # Arrange
    document = msgspec.to_builtins(make_quote())
    document["bid_price"] = [100_001_000_000, 2]

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="bid_price"):
        msgspec.json.decode(msgspec.json.encode(document), type=QuoteTick)


def test_trade_decode_negative_size_raises_msgspec_validation_error() -> None:
    # Arrange
    document = msgspec.to_builtins(make_trade())
    document["size"] = [-1_000_000_000, 0]

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="size"):
        msgspec.msgpack.decode(msgspec.msgpack.encode(document), type=TradeTick)


def test_book_delta_decode_unknown_side_raises_msgspec_validation_error() -> None:
    # Arrange
    document = msgspec.to_builtins(make_book_delta())
    document["side"] = "MIDDLE"

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="side"):
        msgspec.json.decode(msgspec.json.encode(document), type=BookDelta)


def test_market_decode_unknown_tag_raises_msgspec_validation_error() -> None:
    # Arrange
    document = msgspec.to_builtins(_gap())
    document["type"] = "Nope"

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="Nope"):
        msgspec.json.decode(msgspec.json.encode(document), type=MarketMessage)


@pytest.mark.parametrize(
    ("bid", "ask", "mid_raw"),
    [
        ("100.00", "100.02", 100_010_000_000),
        ("100.000000001", "100.000000002", 100_000_000_001),
        ("-1.000000001", "0", -500_000_001),
    ],
)
def test_quote_mid_raw_is_floor_of_average(bid: str, ask: str, mid_raw: int) -> None:
    # Arrange
    quote = make_quote(bid=bid, ask=ask)

    # Act
    mid = quote.mid_raw

    # Assert
    assert mid == mid_raw


def test_builders_quote_ts_init_defaults_to_ts_event() -> None:
    # Arrange / Act
    quote = make_quote(ts_event=77)

    # Assert
    assert quote.ts_init == 77


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
def test_market_message_is_immutable(message: MarketMessage) -> None:
    # Arrange / Act / Assert
    with pytest.raises(AttributeError):
        message.ts_init = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("side", "sign", "opposite"),
    [(OrderSide.BUY, 1, OrderSide.SELL), (OrderSide.SELL, -1, OrderSide.BUY)],
)
def test_order_side_sign_and_opposite(side: OrderSide, sign: int, opposite: OrderSide) -> None:
    # Arrange / Act / Assert
    assert side.sign == sign
    assert side.opposite() is opposite
    assert side.opposite().opposite() is side


def test_market_enums_encode_as_their_names() -> None:
    # Arrange
    members = [*BookSide, *BookAction, *OrderSide]

    # Act
    encoded = msgspec.json.decode(msgspec.json.encode(members))

    # Assert
    assert encoded == [member.name for member in members]
