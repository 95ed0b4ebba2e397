"""Properties of the fixed-point values, checked against decimal.Decimal and Fraction."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadwire.domain.values import (
    FIXED_SCALAR,
    RAW_MAX,
    RAW_MIN,
    Money,
    Price,
    Quantity,
    notional_fraction,
)
from spreadwire.errors import ValidationError, ValueOverflowError

precisions = st.integers(min_value=0, max_value=9)


@st.composite
def prices(draw: st.DrawFn, *, precision: int | None = None) -> Price:
    chosen = draw(precisions) if precision is None else precision
    step = 10 ** (9 - chosen)
    units = draw(st.integers(min_value=-(RAW_MAX // step), max_value=RAW_MAX // step))
    return Price.from_raw(units * step, chosen)


@st.composite
def small_prices(draw: st.DrawFn) -> Price:
    """Prices whose sums and differences stay far inside int64."""
    chosen = draw(precisions)
    step = 10 ** (9 - chosen)
    limit = (RAW_MAX // 4) // step
    return Price.from_raw(draw(st.integers(min_value=-limit, max_value=limit)) * step, chosen)


@st.composite
def quantities(draw: st.DrawFn) -> Quantity:
    chosen = draw(precisions)
    step = 10 ** (9 - chosen)
    return Quantity.from_raw(
        draw(st.integers(min_value=0, max_value=RAW_MAX // step)) * step, chosen
    )


@st.composite
def decimal_texts(draw: st.DrawFn) -> tuple[str, Decimal]:
    """A plain decimal string (as an exchange sends it) and its exact value."""
    places = draw(precisions)
    units = draw(
        st.integers(
            min_value=-(RAW_MAX // 10 ** (9 - places)), max_value=RAW_MAX // 10 ** (9 - places)
        )
    )
    value = Decimal(units).scaleb(-places)
    return f"{value:f}", value


@given(prices())
def test_price_format_then_parse_returns_same_value_and_text(value: Price) -> None:
    # Arrange
    text = str(value)

    # Act
    parsed = Price.parse(text, value.precision)

    # Assert
    assert parsed.raw == value.raw
    assert parsed.precision == value.precision
    assert str(parsed) == text


@given(decimal_texts())
def test_price_parse_agrees_with_decimal(sample: tuple[str, Decimal]) -> None:
    # Arrange
    text, expected = sample

    # Act
    parsed = Price.parse(text)

    # Assert
    assert parsed.as_decimal() == expected
    assert parsed.as_fraction() == Fraction(expected)
    assert Decimal(str(parsed)) == expected


@given(prices())
def test_price_as_decimal_has_exactly_precision_decimals(value: Price) -> None:
    # Arrange / Act
    exponent = value.as_decimal().as_tuple().exponent

    # Assert
    assert exponent == -value.precision


@given(quantities())
def test_quantity_format_then_parse_returns_same_value(value: Quantity) -> None:
    # Arrange / Act
    parsed = Quantity.parse(str(value))

    # Assert
    assert parsed == value
    assert Quantity.parse(str(value), value.precision).precision == value.precision


@given(small_prices(), small_prices())
def test_price_add_sub_agree_with_fraction(a: Price, b: Price) -> None:
    # Arrange
    fa, fb = a.as_fraction(), b.as_fraction()

    # Act
    total, difference, negated = a + b, a - b, -a

    # Assert
    assert total.as_fraction() == fa + fb
    assert difference.as_fraction() == fa - fb
    assert negated.as_fraction() == -fa
    assert total.precision == difference.precision == max(a.precision, b.precision)


@given(prices(), prices())
def test_price_add_in_range_is_exact_else_overflows(a: Price, b: Price) -> None:
    # Arrange
    exact = a.as_fraction() + b.as_fraction()
    fits = RAW_MIN <= exact * FIXED_SCALAR <= RAW_MAX

    # Act / Assert
    if fits:
        assert (a + b).as_fraction() == exact
    else:
        with pytest.raises(ValueOverflowError):
            _ = a + b


@given(prices(), prices())
def test_price_ordering_and_equality_agree_with_fraction(a: Price, b: Price) -> None:
    # Arrange
    fa, fb = a.as_fraction(), b.as_fraction()

    # Act / Assert
    assert (a < b) == (fa < fb)
    assert (a <= b) == (fa <= fb)
    assert (a == b) == (fa == fb)
    if a == b:
        assert hash(a) == hash(b)


@given(quantities(), quantities())
def test_quantity_sub_is_exact_or_rejected_when_negative(a: Quantity, b: Quantity) -> None:
    # Arrange
    exact = a.as_fraction() - b.as_fraction()

    # Act / Assert
    if exact >= 0:
        assert (a - b).as_fraction() == exact
    else:
        with pytest.raises(ValidationError):
            _ = a - b


@given(prices(), quantities())
def test_notional_fraction_is_exact_product(p: Price, q: Quantity) -> None:
    # Arrange
    with localcontext(prec=80):
        exact = p.as_decimal() * q.as_decimal()

    # Act
    notional = notional_fraction(p, q)

    # Assert
    assert notional == p.as_fraction() * q.as_fraction()
    assert notional == Fraction(exact)


@given(
    st.fractions(min_value=Fraction(-(10**9)), max_value=Fraction(10**9), max_denominator=10**12),
    precisions,
)
def test_money_from_fraction_rounds_half_even(value: Fraction, precision: int) -> None:
    # Arrange
    expected_units = round(value * 10**precision)  # Fraction rounds half to even

    # Act
    result = Money.from_fraction(value, precision, "USD")

    # Assert
    assert result.as_fraction() == Fraction(expected_units, 10**precision)
    assert abs(result.as_fraction() - value) <= Fraction(1, 2 * 10**precision)


@given(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=0, max_value=7),
)
def test_money_from_fraction_exact_halves_go_to_even(units: int, precision: int) -> None:
    # Arrange
    half_way = Fraction(2 * units + 1, 2 * 10**precision)

    # Act
    result = Money.from_fraction(half_way, precision, "USD")

    # Assert
    rounded_units = result.as_fraction() * 10**precision
    assert rounded_units.denominator == 1
    assert rounded_units.numerator % 2 == 0
    assert abs(result.as_fraction() - half_way) == Fraction(1, 2 * 10**precision)


@given(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    precisions,
)
def test_price_from_float_is_nearest_at_precision(value: float, precision: int) -> None:
    # Arrange
    written = Decimal(repr(value))
    expected = written.quantize(Decimal(1).scaleb(-precision), ROUND_HALF_EVEN)

    # Act
    result = Price.from_float(value, precision)

    # Assert
    assert result.as_decimal() == expected
    assert abs(result.as_fraction() - Fraction(written)) <= Fraction(1, 2 * 10**precision)


@given(st.floats(allow_nan=True, allow_infinity=True), precisions)
def test_price_from_float_never_raises_anything_but_validation_error(
    value: float, precision: int
) -> None:
    # Arrange
    fits = math.isfinite(value) and abs(value) < 9.2e9

    # Act / Assert
    if fits:
        assert Price.from_float(value, precision).precision == precision
    else:
        with pytest.raises(ValidationError) as caught:
            Price.from_float(value, precision)
        assert caught.value.field == "price"


@given(st.text(max_size=40))
def test_price_parse_any_text_gives_price_or_validation_error(text: str) -> None:
    # Arrange / Act
    try:
        parsed = Price.parse(text)
    except ValidationError as error:
        # Assert
        assert error.field == "price"
    else:
        assert str(parsed) == str(Price.parse(str(parsed)))


@given(
    st.decimals(allow_nan=False, allow_infinity=False),
)
def test_price_parse_any_finite_decimal_is_exact_or_rejected(value: Decimal) -> None:
    # Arrange
    text = str(value)

    # Act
    try:
        parsed = Price.parse(text)
    except ValidationError:
        # Assert
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)
        assert exponent < -9 or abs(value) * FIXED_SCALAR > RAW_MAX
    else:
        assert parsed.as_decimal() == value


@given(small_prices(), quantities(), st.sampled_from(["USD", "EUR", "JPY"]), precisions)
def test_values_msgpack_and_json_round_trip(
    p: Price, q: Quantity, currency: str, money_precision: int
) -> None:
    # Arrange
    m = Money.from_fraction(p.as_fraction(), money_precision, currency)
    values = (p, q, m)

    # Act
    from_msgpack: tuple[Price, Quantity, Money] = msgspec.msgpack.decode(
        msgspec.msgpack.encode(values), type=tuple[Price, Quantity, Money]
    )
    from_json: tuple[Price, Quantity, Money] = msgspec.json.decode(
        msgspec.json.encode(values), type=tuple[Price, Quantity, Money]
    )

    # Assert
    for decoded in (from_msgpack, from_json):
        assert decoded == values
        assert [item.precision for item in decoded] == [item.precision for item in values]
        assert decoded[2].currency == currency


@given(
    st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=1, max_size=20),
    st.sampled_from(["USD", "EUR"]),
)
def test_money_sum_is_exact(cents: list[int], currency: str) -> None:
    # Arrange
    amounts = [Money.from_fraction(Fraction(c, 100), 2, currency) for c in cents]

    # Act
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount

    # Assert
    assert total.as_fraction() == Fraction(sum(cents), 100)
