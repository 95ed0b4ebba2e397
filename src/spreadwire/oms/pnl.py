"""PnL per strategy and instrument from positions and marks (exact until reported)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import msgspec

from spreadwire.domain.position import Position
from spreadwire.domain.values import Money, Price


class PnlLine(msgspec.Struct, frozen=True, kw_only=True):
    """Realized and unrealized PnL of one strategy in one instrument (at a mark)."""

    strategy_id: str
    instrument_id: str
    quantity: str
    side: str
    realized: str
    unrealized: str
    total: str
    currency: str


def _money(position: Position, amount: Fraction) -> Money:
    return Money.from_fraction(amount, position.money_precision, position.currency)


def pnl_lines(
    positions: Mapping[tuple[str, str], Position],
    marks: Mapping[str, Price],
    strategy_id: str | None = None,
) -> list[PnlLine]:
    """One line per (strategy, instrument), sorted; unrealized is 0 without a mark."""
    lines = []
    for (sid, iid), position in sorted(positions.items()):
        if strategy_id is not None and sid != strategy_id:
            continue
        unrealized = position.unrealized(marks[iid]) if iid in marks else Fraction(0)
        lines.append(
            PnlLine(
                strategy_id=sid,
                instrument_id=iid,
                quantity=str(position.quantity),
                side=position.side,
                realized=position.realized_money().amount(),
                unrealized=_money(position, unrealized).amount(),
                total=_money(position, position.realized + unrealized).amount(),
                currency=position.currency,
            )
        )
    return lines


def total_pnl(
    positions: Mapping[tuple[str, str], Position], marks: Mapping[str, Price]
) -> Fraction:
    """Exact realized + unrealized PnL over every position."""
    total = Fraction(0)
    for (_, iid), position in positions.items():
        total += position.realized
        if iid in marks:
            total += position.unrealized(marks[iid])
    return total
