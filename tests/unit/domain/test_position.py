"""Position accounting: exact average cost, realized and unrealized PnL."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

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


def _reference_fill(
    state: tuple[int, Fraction, Fraction], qty: int, px: int
) -> tuple[tuple[int, Fraction, Fraction], Fraction]:
    """Average-cost accounting written with plain Fraction arithmetic, step by step."""
    current, basis, realized_total = state
    price = Fraction(px, 10**9)
    if current == 0 or (current > 0) == (qty > 0):
        return (current + qty, basis + price * Fraction(qty, 10**9), realized_total), Fraction(0)
    closing = min(abs(qty), abs(current))
    sign = 1 if current > 0 else -1
    avg = basis / Fraction(current, 10**9)
    realized = (price - avg) * Fraction(closing, 10**9) * sign
    basis -= avg * Fraction(closing * sign, 10**9)
    after = current + qty
    if after == 0:
        basis = Fraction(0)
    elif (after > 0) != (current > 0):
        basis = price * Fraction(after, 10**9)
    return (after, basis, realized_total + realized), realized


@settings(max_examples=300, deadline=None)
@given(
    fills=st.lists(
        st.tuples(
            st.integers(min_value=-(10**13), max_value=10**13).filter(bool),
            st.integers(min_value=1, max_value=10**14),
        ),
        max_size=30,
    )
)
def test_position_accounting_equals_step_by_step_fraction_arithmetic(
    fills: list[tuple[int, int]],
) -> None:
    position = _position()
    state = (0, Fraction(0), Fraction(0))
    for qty, px in fills:
        side = BUY if qty > 0 else SELL
        realized = position.apply_fill(
            side, Quantity(raw=abs(qty), precision=9), Price(raw=px, precision=9)
        )
        state, expected = _reference_fill(state, qty, px)
        assert realized == expected
        assert (position.quantity_raw, position.cost_basis, position.realized) == state
