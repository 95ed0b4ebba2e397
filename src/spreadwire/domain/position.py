"""Positions with exact realized and unrealized PnL (average-cost method).

Quantities are signed raw fixed-point ints (long > 0, short < 0); the open cost basis
and realized PnL are exact :class:`~fractions.Fraction` amounts, rounded only when
reported as :class:`Money`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import final

import msgspec

from spreadwire.domain.enums import OrderSide
from spreadwire.domain.values import FIXED_SCALAR, Money, Price, Quantity


@final
class Position:
    """Net position of one strategy in one instrument."""

    __slots__ = (
        "buy_qty_raw",
        "cost_basis",
        "currency",
        "fills",
        "instrument_id",
        "money_precision",
        "quantity_raw",
        "realized",
        "sell_qty_raw",
        "size_precision",
        "strategy_id",
    )

    def __init__(
        self,
        strategy_id: str,
        instrument_id: str,
        *,
        size_precision: int,
        currency: str = "USD",
        money_precision: int = 2,
    ) -> None:
        self.strategy_id = strategy_id
        self.instrument_id = instrument_id
        self.size_precision = size_precision
        self.currency = currency
        self.money_precision = money_precision
        self.quantity_raw = 0
        self.cost_basis = Fraction(0)
        self.realized = Fraction(0)
        self.buy_qty_raw = 0
        self.sell_qty_raw = 0
        self.fills = 0

    def apply_fill(self, side: OrderSide, quantity: Quantity, price: Price) -> Fraction:
        """Apply one fill; return the PnL it realized (exact)."""
        qty = quantity.raw if side is OrderSide.BUY else -quantity.raw
        if side is OrderSide.BUY:
            self.buy_qty_raw += quantity.raw
        else:
            self.sell_qty_raw += quantity.raw
        self.fills += 1
        px = Fraction(price.raw, FIXED_SCALAR)
        current = self.quantity_raw
        realized = Fraction(0)
        if current == 0 or (current > 0) == (qty > 0):
            self.cost_basis += px * Fraction(qty, FIXED_SCALAR)
            self.quantity_raw = current + qty
            return realized
        closing = min(abs(qty), abs(current))
        avg = self.cost_basis / Fraction(current, FIXED_SCALAR)
        sign = 1 if current > 0 else -1
        realized = (px - avg) * Fraction(closing, FIXED_SCALAR) * sign
        self.realized += realized
        self.cost_basis -= avg * Fraction(closing * sign, FIXED_SCALAR)
        self.quantity_raw = current + qty
        if self.quantity_raw == 0:
            self.cost_basis = Fraction(0)
        elif (self.quantity_raw > 0) != (current > 0):
            # flipped through zero: the remainder opens at the fill price
            self.cost_basis = px * Fraction(self.quantity_raw, FIXED_SCALAR)
        return realized

    @property
    def is_flat(self) -> bool:
        return self.quantity_raw == 0

    @property
    def quantity(self) -> Quantity:
        """Absolute size."""
        return Quantity(raw=abs(self.quantity_raw), precision=self.size_precision)

    @property
    def side(self) -> str:
        if self.quantity_raw > 0:
            return "LONG"
        return "SHORT" if self.quantity_raw < 0 else "FLAT"

    def avg_open_price(self) -> Fraction | None:
        if self.quantity_raw == 0:
            return None
        return self.cost_basis / Fraction(self.quantity_raw, FIXED_SCALAR)

    def unrealized(self, mark: Price) -> Fraction:
        """Exact unrealized PnL at ``mark``."""
        if self.quantity_raw == 0:
            return Fraction(0)
        qty = Fraction(self.quantity_raw, FIXED_SCALAR)
        return Fraction(mark.raw, FIXED_SCALAR) * qty - self.cost_basis

    def notional(self, mark: Price) -> Fraction:
        """Signed market value at ``mark``."""
        return Fraction(mark.raw, FIXED_SCALAR) * Fraction(self.quantity_raw, FIXED_SCALAR)

    def realized_money(self) -> Money:
        return Money.from_fraction(self.realized, self.money_precision, self.currency)

    def unrealized_money(self, mark: Price) -> Money:
        return Money.from_fraction(self.unrealized(mark), self.money_precision, self.currency)


class PositionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A position as exact text, for summaries and the API."""

    strategy_id: str
    instrument_id: str
    quantity: str
    avg_price: str | None
    realized_pnl: str
    unrealized_pnl: str
    mark: str | None
