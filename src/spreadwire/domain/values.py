"""Fixed-point values: :class:`Price`, :class:`Quantity` and :class:`Money`.

Every value is an integer ``raw`` at a fixed scale of 10**9 plus a ``precision`` (the
number of decimals the value may carry, 0..9). Arithmetic is integer arithmetic, so it
is exact; the raw range is int64, and anything outside it, NaN or infinity is rejected
with a :class:`ValidationError` naming the field.

Values are parsed from strings at the edges (``Price.parse("101.25")``); floats are
accepted only through ``from_float`` with an explicit precision.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final, Self

import msgspec

from spreadwire.errors import ValidationError, ValueOverflowError

FIXED_PRECISION = 9
FIXED_SCALAR: Final[int] = 1_000_000_000
RAW_MAX = 2**63 - 1
RAW_MIN = -(2**63)
_STEP = tuple(10 ** (FIXED_PRECISION - p) for p in range(FIXED_PRECISION + 1))
_MAX_ADJUSTED = 18  # a decimal exponent above this is far outside the int64 raw range
_FLOAT_LIMIT = 1e19


def _check_precision(precision: int, field: str) -> None:
    if not 0 <= precision <= FIXED_PRECISION:
        raise ValidationError(field, f"precision must be within 0..9, got {precision}")


def _check_raw(raw: int, field: str) -> None:
    if not RAW_MIN <= raw <= RAW_MAX:
        raise ValueOverflowError(field, f"value {_describe(raw)} overflows int64 raw")


def _describe(raw: int) -> str:
    """An approximate rendering of a raw value of any size (never raises)."""
    if raw.bit_length() < 1000:
        return f"{raw / FIXED_SCALAR:.9g}"
    return f"{'-' if raw < 0 else ''}2**{raw.bit_length() - 1} / 10**{FIXED_PRECISION}"


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even (denominator > 0)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def decimal_text(amount: Fraction) -> str:
    """``amount`` rounded half to even at nine decimals, without trailing zeros (``1.5``,
    ``-0.000000001``, ``12``): exact at any size, where a float keeps ~15 digits."""
    raw = _round_div(amount.numerator * FIXED_SCALAR, amount.denominator)
    text = _format(raw, FIXED_PRECISION)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _parse_decimal(text: str, field: str) -> tuple[int, int]:
    """Parse ``text`` into (raw, decimals); reject NaN, infinity and over-precise input."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError, TypeError):
        raise ValidationError(field, f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ValidationError(field, f"must be finite, got {text!r}")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    decimals = max(0, -exponent)
    if decimals > FIXED_PRECISION:
        raise ValidationError(field, f"more than 9 decimals in {text!r}")
    if not value:
        return 0, decimals
    if value.adjusted() > _MAX_ADJUSTED:
        # Checked before scaling: a huge exponent would overflow the decimal context
        # (or build an enormous int) instead of failing with a clear message.
        raise ValueOverflowError(field, f"{text!r} overflows int64 raw")
    raw = int(value.scaleb(FIXED_PRECISION))
    _check_raw(raw, field)
    return raw, decimals


def _parse_at(text: str, precision: int | None, field: str) -> tuple[int, int]:
    """Parse ``text`` at ``precision`` decimals (as written when None): (raw, precision)."""
    if precision is not None:
        _check_precision(precision, field)
    raw, decimals = _parse_decimal(text, field)
    if precision is None:
        return raw, decimals
    if decimals > precision:
        raise ValidationError(field, f"{text!r} has more than {precision} decimals")
    return raw, precision


def _raw_from_float(value: float, precision: int, field: str) -> int:
    if not math.isfinite(value):
        raise ValidationError(field, f"must be finite, got {value!r}")
    _check_precision(precision, field)
    if abs(value) >= _FLOAT_LIMIT:
        # Checked before quantizing, which fails past the 28-digit decimal context.
        raise ValueOverflowError(field, f"{value!r} overflows int64 raw")
    scaled = Decimal(repr(value)).quantize(Decimal(1).scaleb(-precision), ROUND_HALF_EVEN)
    raw = int(scaled.scaleb(FIXED_PRECISION))
    _check_raw(raw, field)
    return raw


def _format(raw: int, precision: int) -> str:
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), FIXED_SCALAR)
    if precision == 0:
        return f"{sign}{whole}"
    digits = f"{frac:09d}"[:precision]
    return f"{sign}{whole}.{digits}"


class _Fixed(msgspec.Struct, frozen=True, gc=False, array_like=True, eq=False):
    raw: int
    precision: int

    def __post_init__(self) -> None:
        raw = self.raw
        precision = self.precision
        if not (
            0 <= precision <= FIXED_PRECISION
            and RAW_MIN <= raw <= RAW_MAX
            and raw % _STEP[precision] == 0
        ):
            self._invalid()

    def _invalid(self) -> None:
        field = type(self).__name__.lower()
        _check_precision(self.precision, field)
        _check_raw(self.raw, field)
        raise ValidationError(
            field, f"raw {self.raw} has more decimals than precision {self.precision}"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.raw == other.raw
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.raw))

    def __lt__(self, other: Self) -> bool:
        return self.raw < other.raw

    def __le__(self, other: Self) -> bool:
        return self.raw <= other.raw

    def __gt__(self, other: Self) -> bool:
        return self.raw > other.raw

    def __ge__(self, other: Self) -> bool:
        return self.raw >= other.raw

    def __str__(self) -> str:
        return _format(self.raw, self.precision)

    def as_decimal(self) -> Decimal:
        return (
            Decimal(self.raw).scaleb(-FIXED_PRECISION).quantize(Decimal(1).scaleb(-self.precision))
        )

    def as_fraction(self) -> Fraction:
        return Fraction(self.raw, FIXED_SCALAR)

    def as_float(self) -> float:
        return self.raw / FIXED_SCALAR

    def is_zero(self) -> bool:
        return self.raw == 0


class Price(_Fixed, frozen=True, gc=False, array_like=True, eq=False):
    """A price; may be negative (spreads)."""

    @classmethod
    def parse(cls, text: str, precision: int | None = None) -> Price:
        raw, precision = _parse_at(text, precision, "price")
        return cls(raw=raw, precision=precision)

    @classmethod
    def from_float(cls, value: float, precision: int) -> Price:
        return cls(raw=_raw_from_float(value, precision, "price"), precision=precision)

    @classmethod
    def from_raw(cls, raw: int, precision: int) -> Price:
        return cls(raw=raw, precision=precision)

    def __add__(self, other: Price) -> Price:
        return Price(raw=self.raw + other.raw, precision=max(self.precision, other.precision))

    def __sub__(self, other: Price) -> Price:
        return Price(raw=self.raw - other.raw, precision=max(self.precision, other.precision))

    def __neg__(self) -> Price:
        return Price(raw=-self.raw, precision=self.precision)

    def __repr__(self) -> str:
        return f"Price('{self}')"


class Quantity(_Fixed, frozen=True, gc=False, array_like=True, eq=False):
    """A non-negative quantity."""

    def __post_init__(self) -> None:
        raw = self.raw
        precision = self.precision
        if not (
            0 <= precision <= FIXED_PRECISION
            and 0 <= raw <= RAW_MAX
            and raw % _STEP[precision] == 0
        ):
            if raw < 0:
                raise ValidationError("quantity", f"must be >= 0, got {_format(raw, 9)}")
            self._invalid()

    @classmethod
    def parse(cls, text: str, precision: int | None = None) -> Quantity:
        raw, precision = _parse_at(text, precision, "quantity")
        return cls(raw=raw, precision=precision)

    @classmethod
    def from_float(cls, value: float, precision: int) -> Quantity:
        return cls(raw=_raw_from_float(value, precision, "quantity"), precision=precision)

    @classmethod
    def from_raw(cls, raw: int, precision: int) -> Quantity:
        return cls(raw=raw, precision=precision)

    @classmethod
    def zero(cls, precision: int = 0) -> Quantity:
        return cls(raw=0, precision=precision)

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(raw=self.raw + other.raw, precision=max(self.precision, other.precision))

    def __sub__(self, other: Quantity) -> Quantity:
        return Quantity(raw=self.raw - other.raw, precision=max(self.precision, other.precision))

    def __repr__(self) -> str:
        return f"Quantity('{self}')"


class Money(msgspec.Struct, frozen=True, gc=False, array_like=True, eq=False):
    """An amount in a currency, fixed point like :class:`Price`."""

    raw: int
    precision: int
    currency: str

    def __post_init__(self) -> None:
        _check_precision(self.precision, "money")
        _check_raw(self.raw, "money")
        if self.raw % _STEP[self.precision]:
            raise ValidationError(
                "money", f"raw {self.raw} has more decimals than precision {self.precision}"
            )
        if not self.currency or len(self.currency) > 8:
            raise ValidationError("currency", f"must be 1..8 characters, got {self.currency!r}")

    @classmethod
    def parse(cls, text: str, currency: str, precision: int | None = None) -> Money:
        raw, precision = _parse_at(text, precision, "money")
        return cls(raw=raw, precision=precision, currency=currency)

    @classmethod
    def from_fraction(cls, value: Fraction, precision: int, currency: str) -> Money:
        """Round an exact amount half to even at ``precision`` decimals."""
        _check_precision(precision, "money")
        step = _STEP[precision]
        scaled = Fraction(value) * FIXED_SCALAR / step
        raw = _round_div(scaled.numerator, scaled.denominator) * step
        return cls(raw=raw, precision=precision, currency=currency)

    @classmethod
    def zero(cls, currency: str, precision: int = 2) -> Money:
        return cls(raw=0, precision=precision, currency=currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValidationError("currency", f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(
            raw=self.raw + other.raw,
            precision=max(self.precision, other.precision),
            currency=self.currency,
        )

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(
            raw=self.raw - other.raw,
            precision=max(self.precision, other.precision),
            currency=self.currency,
        )

    def __neg__(self) -> Money:
        return Money(raw=-self.raw, precision=self.precision, currency=self.currency)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.raw == other.raw and self.currency == other.currency
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Money", self.raw, self.currency))

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.raw < other.raw

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.raw <= other.raw

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.raw > other.raw

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.raw >= other.raw

    def __str__(self) -> str:
        return f"{_format(self.raw, self.precision)} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{_format(self.raw, self.precision)}', '{self.currency}')"

    def amount(self) -> str:
        """The amount without currency, e.g. ``'-12.50'``."""
        return _format(self.raw, self.precision)

    def as_fraction(self) -> Fraction:
        return Fraction(self.raw, FIXED_SCALAR)

    def as_float(self) -> float:
        return self.raw / FIXED_SCALAR


def notional_fraction(price: Price, quantity: Quantity) -> Fraction:
    """The exact notional ``price * quantity``."""
    return Fraction(price.raw * quantity.raw, FIXED_SCALAR * FIXED_SCALAR)


def coerce_positive(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValidationError(field, f"must be a positive integer, got {value!r}")
    return value
