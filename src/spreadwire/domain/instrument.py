"""Instruments: what can be traded, and the precision rules of its values."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated

import msgspec

from spreadwire.domain.values import (
    FIXED_PRECISION,
    Money,
    Price,
    Quantity,
    notional_fraction,
)
from spreadwire.errors import ValidationError

Precision = Annotated[int, msgspec.Meta(ge=0, le=FIXED_PRECISION)]
Symbol = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._/-]+$")]


class Instrument(msgspec.Struct, frozen=True, kw_only=True):
    """A tradable instrument with tick size, lot size and minimum notional."""

    symbol: Symbol
    venue: str = "SIM"
    currency: str = "USD"
    price_precision: Precision
    size_precision: Precision
    tick_size: Price
    lot_size: Quantity
    min_notional: Money
    tradable: bool = True

    def __post_init__(self) -> None:
        # The Annotated constraints hold only when decoding; checked here for direct use.
        for field, precision in (
            ("price_precision", self.price_precision),
            ("size_precision", self.size_precision),
        ):
            if not 0 <= precision <= FIXED_PRECISION:
                raise ValidationError(field, f"must be within 0..9, got {precision}")
        if self.tick_size.raw <= 0:
            raise ValidationError("tick_size", "must be > 0")
        if self.tick_size.precision > self.price_precision:
            raise ValidationError("tick_size", "has more decimals than price_precision")
        if self.lot_size.raw <= 0:
            raise ValidationError("lot_size", "must be > 0")
        if self.lot_size.precision > self.size_precision:
            raise ValidationError("lot_size", "has more decimals than size_precision")
        if self.min_notional.currency != self.currency:
            raise ValidationError("min_notional", "currency differs from the instrument's")
        if self.min_notional.raw < 0:
            raise ValidationError("min_notional", "must be >= 0")

    @property
    def instrument_id(self) -> str:
        return f"{self.symbol}.{self.venue}"

    def price(self, value: str | float) -> Price:
        """A price at this instrument's precision, from a string or a float."""
        if isinstance(value, str):
            return Price.parse(value, self.price_precision)
        return Price.from_float(value, self.price_precision)

    def quantity(self, value: str | float) -> Quantity:
        if isinstance(value, str):
            return Quantity.parse(value, self.size_precision)
        return Quantity.from_float(value, self.size_precision)

    def price_from_raw(self, raw: int) -> Price:
        return Price(raw=raw, precision=self.price_precision)

    def quantity_from_raw(self, raw: int) -> Quantity:
        return Quantity(raw=raw, precision=self.size_precision)

    def round_to_tick(self, raw: int, *, down: bool = True) -> int:
        """Round a raw price to the tick grid (down or up)."""
        tick = self.tick_size.raw
        return (raw // tick) * tick if down else -((-raw) // tick) * tick

    def round_to_lot(self, raw: int) -> int:
        lot = self.lot_size.raw
        return (raw // lot) * lot

    def is_on_tick(self, price: Price) -> bool:
        return price.raw % self.tick_size.raw == 0

    def is_on_lot(self, quantity: Quantity) -> bool:
        return quantity.raw % self.lot_size.raw == 0

    def notional(self, price: Price, quantity: Quantity) -> Fraction:
        """Exact notional of ``quantity`` at ``price`` in the instrument's currency."""
        return notional_fraction(price, quantity)

    def money(self, amount: Fraction) -> Money:
        return Money.from_fraction(amount, self.min_notional.precision, self.currency)
