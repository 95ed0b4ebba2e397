from __future__ import annotations

import pickle
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import TypeAlias

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadwire.domain.values import (
    RAW_MAX,
    RAW_MIN,
    Money,
    Price,
    Quantity,
    coerce_positive,
    decimal_text,
    notional_fraction,
)
from spreadwire.errors import SpreadwireError, ValidationError, ValueOverflowError
from tests.builders import money, price, qty

# --- parsing and formatting -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "raw", "precision", "shown"),
    [
        ("101.25", 101_250_000_000, 2, "101.25"),
        ("0", 0, 0, "0"),
        ("-0.5", -500_000_000, 1, "-0.5"),
        ("12.30", 12_300_000_000, 2, "12.30"),
        ("0.000000001", 1, 9, "0.000000001"),
        (" 7 ", 7_000_000_000, 0, "7"),
        ("+3.5", 3_500_000_000, 1, "3.5"),
        ("1.5e2", 150_000_000_000, 0, "150"),
        ("1.25e1", 12_500_000_000, 1, "12.5"),
        ("9223372036.854775807", RAW_MAX, 9, "9223372036.854775807"),
        ("-9223372036.854775808", RAW_MIN, 9, "-9223372036.854775808"),
    ],
)
def test_price_parse_valid_text_gives_raw_precision_and_text(
    text: str, raw: int, precision: int, shown: str
) -> None:
    # Arrange / Act
    value = Price.parse(text)

    # Assert
    assert (value.raw, value.precision, str(value)) == (raw, precision, shown)


def test_price_parse_explicit_precision_pads_decimals() -> None:
    # Arrange / Act
    value = Price.parse("101.5", 3)

    # Assert
    assert str(value) == "101.500"
    assert value == Price.parse("101.5")


@pytest.mark.parametrize("text", ["nan", "NaN", "-inf", "Infinity", "sNaN"])
def test_price_parse_non_finite_raises_naming_price(text: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="must be finite") as caught:
        Price.parse(text)
    assert caught.value.field == "price"


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1,5", "--1", "0x10"])
def test_price_parse_not_a_number_raises_naming_price(text: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="not a decimal number") as caught:
        Price.parse(text)
    assert caught.value.field == "price"


def test_price_parse_non_string_raises_validation_error() -> None:
    # Arrange
    not_text: object = b"1.5"

    # Act / Assert
    with pytest.raises(ValidationError, match="not a decimal number"):
        Price.parse(not_text)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0.0000000001", "1.0000000000", "1e-10"])
def test_price_parse_more_than_nine_decimals_raises(text: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="more than 9 decimals") as caught:
        Price.parse(text)
    assert caught.value.field == "price"


def test_price_parse_more_decimals_than_precision_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="more than 2 decimals") as caught:
        Price.parse("101.255", 2)
    assert caught.value.field == "price"


@pytest.mark.parametrize(
    "text", ["9223372036.854775808", "-9223372036.854775809", "1e10", "1e400", "1e999999999"]
)
def test_price_parse_out_of_int64_raises_value_overflow_error(text: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueOverflowError, match="overflows int64") as caught:
        Price.parse(text)
    assert caught.value.field == "price"


def test_value_overflow_error_is_a_validation_error_and_spreadwire_error() -> None:
    # Arrange / Act
    error = ValueOverflowError("price", "too big")

    # Assert
    assert isinstance(error, ValidationError)
    assert isinstance(error, SpreadwireError)
    assert isinstance(error, ValueError)
    assert str(error) == "price: too big"


def test_validation_error_pickle_round_trip_keeps_field_and_message() -> None:
    # Arrange
    error = ValueOverflowError("quantity", "overflows")

    # Act
    restored = pickle.loads(pickle.dumps(error))

    # Assert
    assert type(restored) is ValueOverflowError
    assert (restored.field, restored.message, str(restored)) == (
        "quantity",
        "overflows",
        "quantity: overflows",
    )


def test_price_parse_zero_with_huge_exponent_is_zero() -> None:
    # Arrange / Act
    value = Price.parse("0e999999999")

    # Assert
    assert value.is_zero()


@pytest.mark.parametrize("precision", [-1, 10])
def test_price_parse_precision_out_of_range_raises(precision: int) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match=r"precision must be within 0\.\.9"):
        Price.parse("1", precision)


# --- construction from raw and float ---------------------------------------------------


def test_price_from_raw_off_precision_grid_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="more decimals than precision") as caught:
        Price.from_raw(1_234_000_000, 2 - 1)
    assert caught.value.field == "price"


def test_price_from_raw_beyond_int64_raises_overflow() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueOverflowError):
        Price.from_raw(RAW_MAX + 1, 9)


@pytest.mark.parametrize(
    ("value", "precision", "shown"),
    [(0.1, 2, "0.10"), (101.255, 2, "101.26"), (0.125, 2, "0.12"), (-2.5, 0, "-2"), (3.0, 0, "3")],
)
def test_price_from_float_rounds_half_even_at_precision(
    value: float, precision: int, shown: str
) -> None:
    # Arrange / Act
    result = Price.from_float(value, precision)

    # Assert
    assert str(result) == shown


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_price_from_float_non_finite_raises_naming_price(value: float) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="must be finite") as caught:
        Price.from_float(value, 2)
    assert caught.value.field == "price"


@pytest.mark.parametrize("value", [1e10, 1e19, 1e30, -1e300])
def test_price_from_float_too_large_raises_value_overflow(value: float) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueOverflowError) as caught:
        Price.from_float(value, 2)
    assert caught.value.field == "price"


def test_quantity_from_float_nan_raises_naming_quantity() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError) as caught:
        Quantity.from_float(float("nan"), 0)
    assert caught.value.field == "quantity"


# --- Price arithmetic and comparison ---------------------------------------------------


def test_price_add_sub_keep_wider_precision_and_are_exact() -> None:
    # Arrange
    a, b = price("0.1"), price("0.20")

    # Act
    total, difference = a + b, a - b

    # Assert
    assert str(total) == "0.30"
    assert str(difference) == "-0.10"
    assert (-difference) == price("0.1")


def test_price_add_overflow_raises_value_overflow() -> None:
    # Arrange
    top = Price.from_raw(RAW_MAX, 9)

    # Act / Assert
    with pytest.raises(ValueOverflowError, match="overflows int64"):
        _ = top + Price.from_raw(1, 9)


def test_price_equality_ignores_precision_and_hashes_alike() -> None:
    # Arrange
    a, b = price("1.5"), price("1.500")

    # Act
    same = a == b

    # Assert
    assert same
    assert hash(a) == hash(b)
    assert len({a, b}) == 1


def test_price_and_quantity_with_same_raw_are_not_equal() -> None:
    # Arrange
    p, q = price("1"), qty("1")

    # Act
    same = p == q

    # Assert
    assert not same
    assert hash(p) != hash(q)


def test_price_ordering_follows_raw() -> None:
    # Arrange
    low, high = price("-1.5"), price("2")

    # Act / Assert
    assert low < high
    assert low <= high
    assert high > low
    assert high >= low
    assert sorted([high, low]) == [low, high]


def test_price_repr_and_conversions() -> None:
    # Arrange
    value = price("101.25")

    # Act / Assert
    assert repr(value) == "Price('101.25')"
    assert value.as_decimal() == Decimal("101.25")
    assert str(value.as_decimal()) == "101.25"
    assert value.as_fraction() == Fraction(405, 4)
    assert value.as_float() == 101.25
    assert not value.is_zero()


# --- Quantity ---------------------------------------------------------------------------


def test_quantity_parse_negative_raises_naming_quantity() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match=">= 0") as caught:
        Quantity.parse("-1")
    assert caught.value.field == "quantity"


def test_quantity_sub_below_zero_raises() -> None:
    # Arrange
    small, large = qty("1"), qty("2")

    # Act / Assert
    with pytest.raises(ValidationError, match=">= 0"):
        _ = small - large


def test_quantity_add_and_zero() -> None:
    # Arrange
    a = qty("1.5")

    # Act
    total = a + Quantity.zero(3)

    # Assert
    assert str(total) == "1.500"
    assert Quantity.zero().is_zero()
    assert repr(total) == "Quantity('1.500')"


def test_quantity_parse_more_decimals_than_precision_raises_naming_quantity() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="more than 0 decimals") as caught:
        Quantity.parse("1.5", 0)
    assert caught.value.field == "quantity"


# --- Money ------------------------------------------------------------------------------


def test_money_parse_and_format_with_currency() -> None:
    # Arrange / Act
    value = money("-12.50")

    # Assert
    assert str(value) == "-12.50 USD"
    assert value.amount() == "-12.50"
    assert repr(value) == "Money('-12.50', 'USD')"
    assert value.as_fraction() == Fraction(-25, 2)
    assert value.as_float() == -12.5


def test_money_add_sub_neg_same_currency_is_exact() -> None:
    # Arrange
    a, b = money("0.10"), money("0.2")

    # Act
    total, difference = a + b, a - b

    # Assert
    assert total == money("0.30")
    assert total.precision == 2
    assert difference == money("-0.10")
    assert -difference == a
    assert Money.zero("USD") + a == a


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
)
def test_money_mixing_currencies_raises_naming_currency(
    operation: Callable[[Money, Money], object],
) -> None:
    # Arrange
    usd, eur = money("1.00", "USD"), money("1.00", "EUR")

    # Act / Assert
    with pytest.raises(ValidationError, match="cannot mix USD and EUR") as caught:
        operation(usd, eur)
    assert caught.value.field == "currency"


def test_money_equality_needs_same_currency() -> None:
    # Arrange
    usd, eur, usd_wide = money("1.00", "USD"), money("1.00", "EUR"), money("1.000", "USD")

    # Act / Assert
    assert usd != eur
    assert usd == usd_wide
    assert hash(usd) == hash(usd_wide)
    assert money("1", "USD") < money("2", "USD")


@pytest.mark.parametrize("currency", ["", "TOOLONGCCY"])
def test_money_bad_currency_raises_naming_currency(currency: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError) as caught:
        Money.zero(currency)
    assert caught.value.field == "currency"


def test_money_raw_off_precision_grid_raises_naming_money() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="more decimals than precision") as caught:
        Money(raw=1, precision=2, currency="USD")
    assert caught.value.field == "money"


def test_money_parse_more_decimals_than_precision_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="more than 2 decimals") as caught:
        Money.parse("1.234", "USD", 2)
    assert caught.value.field == "money"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Fraction(1, 8), "0.12"),  # 0.125 -> even 0.12
        (Fraction(3, 8), "0.38"),  # 0.375 -> even 0.38
        (Fraction(-1, 8), "-0.12"),
        (Fraction(-3, 8), "-0.38"),
        (Fraction(1, 3), "0.33"),
        (Fraction(2, 3), "0.67"),
        (Fraction(1001, 200), "5.00"),  # 5.005 -> even 5.00
        (Fraction(1011, 200), "5.06"),  # 5.055 -> even 5.06
    ],
)
def test_money_from_fraction_rounds_half_to_even(amount: Fraction, expected: str) -> None:
    # Arrange / Act
    value = Money.from_fraction(amount, 2, "USD")

    # Assert
    assert value.amount() == expected


def test_money_from_fraction_accepts_int_amount() -> None:
    # Arrange / Act
    value = Money.from_fraction(5, 2, "USD")  # type: ignore[arg-type]

    # Assert
    assert value == money("5.00")


def test_money_from_fraction_overflow_raises_value_overflow() -> None:
    # Arrange
    enormous = Fraction(10**400)

    # Act / Assert
    with pytest.raises(ValueOverflowError) as caught:
        Money.from_fraction(enormous, 2, "USD")
    assert caught.value.field == "money"


def test_money_from_fraction_bad_precision_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="precision"):
        Money.from_fraction(Fraction(1), 10, "USD")


# --- helpers and codecs -----------------------------------------------------------------


def test_notional_fraction_is_exact_product() -> None:
    # Arrange
    p, q = price("101.25"), qty("0.003")

    # Act
    notional = notional_fraction(p, q)

    # Assert
    assert notional == Fraction(30375, 100_000)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "3"])
def test_coerce_positive_non_positive_int_raises_naming_field(bad: object) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="window: must be a positive integer"):
        coerce_positive(bad, "window")


def test_coerce_positive_positive_int_is_returned() -> None:
    # Arrange / Act / Assert
    assert coerce_positive(7, "window") == 7


_VALUE_TUPLE: TypeAlias = tuple[Price, Quantity, Money]


def _msgpack_round_trip(values: _VALUE_TUPLE) -> _VALUE_TUPLE:
    decoded: _VALUE_TUPLE = msgspec.msgpack.decode(
        msgspec.msgpack.encode(values), type=_VALUE_TUPLE
    )
    return decoded


def _json_round_trip(values: _VALUE_TUPLE) -> _VALUE_TUPLE:
    decoded: _VALUE_TUPLE = msgspec.json.decode(msgspec.json.encode(values), type=_VALUE_TUPLE)
    return decoded


@pytest.mark.parametrize("round_trip", [_msgpack_round_trip, _json_round_trip])
def test_values_codec_round_trip_keeps_raw_precision_and_currency(
    round_trip: Callable[[_VALUE_TUPLE], _VALUE_TUPLE],
) -> None:
    # Arrange
    values = (price("-101.25"), qty("0.003"), money("12.50", "EUR"))

    # Act
    decoded = round_trip(values)

    # Assert
    assert decoded == values
    assert [str(value) for value in decoded] == [str(value) for value in values]


def test_values_json_decode_off_grid_raw_raises_msgspec_validation_error() -> None:
    # Arrange
    payload = b"[1234000000, 0]"

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="more decimals than precision"):
        msgspec.json.decode(payload, type=Price)


def test_values_json_decode_negative_quantity_raises_msgspec_validation_error() -> None:
    # Arrange
    payload = b"[-1000000000, 0]"

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match=">= 0"):
        msgspec.json.decode(payload, type=Quantity)


@given(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=1, max_value=10**15),
)
def test_decimal_text_rounds_exactly_at_nine_places(numerator: int, denominator: int) -> None:
    amount = Fraction(numerator, denominator)
    with localcontext() as context:
        context.prec = 80
        expected = (Decimal(numerator) / Decimal(denominator)).quantize(
            Decimal("1e-9"), rounding=ROUND_HALF_EVEN
        )
    text = decimal_text(amount)

    assert Decimal(text) == expected
    assert text == "0" or not text.endswith("0") or "." not in text
    assert text != "-0"


def test_decimal_text_keeps_digits_a_float_loses() -> None:
    amount = Fraction(123_456_789_012_345_678_901, 10**9)  # 123456789012.345678901

    assert decimal_text(amount) == "123456789012.345678901"
    assert f"{float(amount):.9f}" != "123456789012.345678901"
    assert decimal_text(Fraction(1, 2 * 10**9)) == "0"  # half to even
    assert decimal_text(Fraction(3, 2 * 10**9)) == "0.000000002"
    assert decimal_text(Fraction(-15, 10)) == "-1.5"
