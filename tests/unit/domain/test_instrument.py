from __future__ import annotations

from fractions import Fraction

import msgspec
import pytest

from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import Money, Price, Quantity
from spreadwire.errors import ValidationError
from tests.builders import make_instrument, money, price, qty


def test_instrument_defaults_build_expected_id_and_rules() -> None:
    # Arrange / Act
    instrument = make_instrument()

    # Assert
    assert instrument.instrument_id == "AAA.SIM"
    assert instrument.tick_size == price("0.01")
    assert instrument.lot_size == qty("1")
    assert instrument.min_notional == money("10.00")
    assert instrument.tradable


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"tick_size": "0"}, "tick_size"),
        ({"tick_size": "-0.01"}, "tick_size"),
        ({"lot_size": "0"}, "lot_size"),
        ({"min_notional": "-1.00"}, "min_notional"),
    ],
)
def test_instrument_non_positive_rule_raises_naming_field(
    overrides: dict[str, str], field: str
) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError) as caught:
        make_instrument(**overrides)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_instrument_tick_finer_than_price_precision_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="price_precision") as caught:
        Instrument(
            symbol="AAA",
            price_precision=2,
            size_precision=0,
            tick_size=price("0.001"),
            lot_size=qty("1"),
            min_notional=money("1.00"),
        )
    assert caught.value.field == "tick_size"


def test_instrument_lot_finer_than_size_precision_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="size_precision") as caught:
        Instrument(
            symbol="AAA",
            price_precision=2,
            size_precision=0,
            tick_size=price("0.01"),
            lot_size=qty("0.5"),
            min_notional=money("1.00"),
        )
    assert caught.value.field == "lot_size"


def test_instrument_min_notional_other_currency_raises() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValidationError, match="currency") as caught:
        Instrument(
            symbol="AAA",
            price_precision=2,
            size_precision=0,
            tick_size=price("0.01"),
            lot_size=qty("1"),
            min_notional=money("1.00", "EUR"),
        )
    assert caught.value.field == "min_notional"


@pytest.mark.parametrize("field", ["price_precision", "size_precision"])
@pytest.mark.parametrize("precision", [-1, 10])
def test_instrument_precision_out_of_range_raises_naming_field(field: str, precision: int) -> None:
    # Arrange
    precisions = {"price_precision": 2, "size_precision": 0, field: precision}

    # Act / Assert
    with pytest.raises(ValidationError, match=r"must be within 0\.\.9") as caught:
        Instrument(
            symbol="AAA",
            price_precision=precisions["price_precision"],
            size_precision=precisions["size_precision"],
            tick_size=price("0.01"),
            lot_size=qty("1"),
            min_notional=money("1.00"),
        )
    assert caught.value.field == field


def test_instrument_price_from_string_uses_price_precision() -> None:
    # Arrange
    instrument = make_instrument(price_precision=3, tick_size="0.005")

    # Act
    value = instrument.price("101.5")

    # Assert
    assert str(value) == "101.500"


def test_instrument_price_from_float_rounds_to_price_precision() -> None:
    # Arrange
    instrument = make_instrument()

    # Act
    value = instrument.price(101.255)

    # Assert
    assert str(value) == "101.26"


def test_instrument_price_too_many_decimals_raises_naming_price() -> None:
    # Arrange
    instrument = make_instrument()

    # Act / Assert
    with pytest.raises(ValidationError, match="more than 2 decimals") as caught:
        instrument.price("101.255")
    assert caught.value.field == "price"


def test_instrument_quantity_from_string_and_float_use_size_precision() -> None:
    # Arrange
    instrument = make_instrument(size_precision=3, lot_size="0.001")

    # Act
    from_text, from_float = instrument.quantity("2.5"), instrument.quantity(0.0025)

    # Assert
    assert str(from_text) == "2.500"
    assert str(from_float) == "0.002"


def test_instrument_from_raw_uses_instrument_precisions() -> None:
    # Arrange
    instrument = make_instrument(size_precision=1, lot_size="0.1")

    # Act
    p = instrument.price_from_raw(101_250_000_000)
    q = instrument.quantity_from_raw(1_500_000_000)

    # Assert
    assert (str(p), str(q)) == ("101.25", "1.5")


@pytest.mark.parametrize(
    ("raw", "down", "expected"),
    [
        (101_257_000_000, True, 101_255_000_000),
        (101_257_000_000, False, 101_260_000_000),
        (101_255_000_000, True, 101_255_000_000),
        (101_255_000_000, False, 101_255_000_000),
        (-1_001_000_000, True, -1_005_000_000),
        (-1_001_000_000, False, -1_000_000_000),
    ],
)
def test_instrument_round_to_tick_moves_to_grid(raw: int, down: bool, expected: int) -> None:
    # Arrange
    instrument = make_instrument(price_precision=3, tick_size="0.005")

    # Act
    rounded = instrument.round_to_tick(raw, down=down)

    # Assert
    assert rounded == expected


def test_instrument_round_to_lot_rounds_down() -> None:
    # Arrange
    instrument = make_instrument(lot_size="100")

    # Act
    rounded = instrument.round_to_lot(250_000_000_000)

    # Assert
    assert rounded == 200_000_000_000


def test_instrument_on_tick_and_on_lot_checks() -> None:
    # Arrange
    instrument = make_instrument(price_precision=3, tick_size="0.005", lot_size="10")

    # Act / Assert
    assert instrument.is_on_tick(price("1.005"))
    assert not instrument.is_on_tick(price("1.001"))
    assert instrument.is_on_lot(qty("30"))
    assert not instrument.is_on_lot(qty("35"))


def test_instrument_notional_is_exact_and_money_rounds_half_even() -> None:
    # Arrange
    instrument = make_instrument(size_precision=3, lot_size="0.001")

    # Act
    notional = instrument.notional(price("0.25"), qty("0.5"))
    amount = instrument.money(notional)

    # Assert
    assert notional == Fraction(1, 8)
    assert amount == Money.parse("0.12", "USD")
    assert amount.currency == "USD"


def test_instrument_json_round_trip_is_equal() -> None:
    # Arrange
    instrument = make_instrument("BBB-1", price_precision=4, tick_size="0.0005")

    # Act
    decoded = msgspec.json.decode(msgspec.json.encode(instrument), type=Instrument)

    # Assert
    assert decoded == instrument


@pytest.mark.parametrize("symbol", ["", "has space", "x" * 33])
def test_instrument_decode_bad_symbol_raises_msgspec_validation_error(symbol: str) -> None:
    # Arrange
    payload = msgspec.json.encode(make_instrument())
    bad = payload.replace(b'"AAA"', msgspec.json.encode(symbol))

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="symbol"):
        msgspec.json.decode(bad, type=Instrument)


def test_instrument_decode_precision_out_of_range_raises_msgspec_validation_error() -> None:
    # Arrange
    payload = msgspec.json.encode(make_instrument()).replace(
        b'"price_precision":2', b'"price_precision":12'
    )

    # Act / Assert
    with pytest.raises(msgspec.ValidationError, match="price_precision"):
        msgspec.json.decode(payload, type=Instrument)


def test_instrument_is_immutable() -> None:
    # Arrange
    instrument = make_instrument()

    # Act / Assert
    with pytest.raises(AttributeError):
        instrument.tradable = False  # type: ignore[misc]


def test_instrument_values_keep_types() -> None:
    # Arrange
    instrument = make_instrument()

    # Act / Assert
    assert isinstance(instrument.price("1"), Price)
    assert isinstance(instrument.quantity("1"), Quantity)
