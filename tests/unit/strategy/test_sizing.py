"""Entry sizing in exact integer arithmetic (``pairs.entry_sizes``)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.domain.values import FIXED_SCALAR
from spreadwire.strategy.pairs import entry_sizes

notionals = st.decimals(min_value=1, max_value=10**7, places=4, allow_nan=False)
mids = st.integers(min_value=10**7, max_value=10**14)  # 0.01 .. 100,000
betas = st.floats(min_value=0.05, max_value=20.0)
lots = st.sampled_from([1, 10**6, 10**8, 10**9, 10 * 10**9])


def _ratio(notional: Decimal, multiplier: int) -> tuple[int, int]:
    exact = Fraction(notional) * multiplier
    return exact.numerator, exact.denominator


@settings(max_examples=500)
@given(notionals, st.integers(1, 1000), mids, betas, st.tuples(lots, lots))
def test_sizes_are_the_exact_floors_on_the_lots(
    notional: Decimal, multiplier: int, mid: int, beta: float, lot_sizes: tuple[int, int]
) -> None:
    y_lot, x_lot = lot_sizes
    qty_y, qty_x = entry_sizes(_ratio(notional, multiplier), mid, beta, y_lot, x_lot)
    exact_y = Fraction(notional) * multiplier * FIXED_SCALAR / (Fraction(mid) / FIXED_SCALAR)
    assert qty_y % y_lot == 0 and 0 <= exact_y - qty_y < y_lot
    exact_x = qty_y * Fraction(beta)
    assert qty_x % x_lot == 0 and 0 <= exact_x - qty_x < x_lot


@settings(max_examples=500)
@given(notionals, st.integers(1, 1000), mids, betas)
def test_sizes_agree_with_decimal_arithmetic_on_whole_lots(
    notional: Decimal, multiplier: int, mid: int, beta: float
) -> None:
    # the 28-digit decimal formula gives the same quantities on whole lots, the exact one
    # only removes its rounding
    lot = FIXED_SCALAR
    qty_y, qty_x = entry_sizes(_ratio(notional, multiplier), mid, beta, lot, lot)
    y_price = Decimal(mid) / FIXED_SCALAR
    decimal_y = int(notional * multiplier / y_price * FIXED_SCALAR) // lot * lot
    decimal_x = int(Decimal(decimal_y) * Decimal(beta)) // lot * lot
    assert (qty_y, qty_x) == (decimal_y, decimal_x)


def test_a_mid_at_or_below_zero_sizes_nothing() -> None:
    assert entry_sizes((10_000, 1), 0, 1.0, 1, 1) == (0, 0)
    assert entry_sizes((10_000, 1), -5, 1.0, 1, 1) == (0, 0)
