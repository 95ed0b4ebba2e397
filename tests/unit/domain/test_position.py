"""Position accounting: exact average cost, realized and unrealized PnL."""

from __future__ import annotations

from fractions import Fraction

from spreadwire.domain.enums import OrderSide
from spreadwire.domain.position import Position
from spreadwire.domain.values import Price, Quantity

BUY = OrderSide.BUY
SELL = OrderSide.SELL


def _position() -> Position:
    return Position("S1", "AAA.SIM", size_precision=0)


def _fill(position: Position, side: OrderSide, qty: str, px: str) -> Fraction:
    return position.apply_fill(side, Quantity.parse(qty), Price.parse(px))


def test_position_buys_average_the_open_price() -> None:
    position = _position()

    _fill(position, BUY, "10", "100.00")
    _fill(position, BUY, "30", "104.00")

    assert position.side == "LONG"
    assert position.avg_open_price() == Fraction(103)


def test_position_partial_close_realizes_against_the_average() -> None:
    position = _position()
    _fill(position, BUY, "10", "100.00")

    realized = _fill(position, SELL, "4", "101.50")

    assert realized == Fraction(6)
    assert position.quantity == Quantity.parse("6")
    assert position.avg_open_price() == Fraction(100)


def test_position_short_close_realizes_with_the_right_sign() -> None:
    position = _position()
    _fill(position, SELL, "5", "50.00")

    realized = _fill(position, BUY, "5", "48.00")

    assert realized == Fraction(10)
    assert position.is_flat


def test_position_flip_through_zero_opens_the_rest_at_the_fill_price() -> None:
    position = _position()
    _fill(position, BUY, "10", "100.00")

    _fill(position, SELL, "15", "102.00")

    assert position.side == "SHORT"
    assert position.realized == Fraction(20)
    assert position.avg_open_price() == Fraction(102)


def test_position_unrealized_marks_the_open_quantity() -> None:
    position = _position()
    _fill(position, BUY, "10", "100.00")

    unrealized = position.unrealized(Price.parse("99.25"))

    assert unrealized == Fraction(-15, 2)
    assert position.unrealized_money(Price.parse("99.25")).amount() == "-7.50"


def test_position_sum_of_fills_equals_the_net_quantity() -> None:
    position = _position()
    fills = [(BUY, "7"), (SELL, "3"), (SELL, "9"), (BUY, "2")]

    for side, qty in fills:
        _fill(position, side, qty, "10.00")

    assert position.quantity_raw == (7 - 3 - 9 + 2) * 10**9
    assert position.buy_qty_raw - position.sell_qty_raw == position.quantity_raw
    assert position.fills == 4
