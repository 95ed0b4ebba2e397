"""What the risk engine reports about itself.

A module of its own because :mod:`spreadwire.risk.engine` is compiled with mypyc (see
``setup.py``), which builds a ``msgspec.Struct`` subclass without its class keywords.
"""

from __future__ import annotations

import msgspec


class RiskStats(msgspec.Struct, frozen=True, kw_only=True):
    approved: int
    denied: int
    denied_by_reason: dict[str, int]
    cancels: int
    open_orders: int
    trading_state: str
    kill_switch: list[str]
    pnl: str
    high_water: str
    drawdown: str
    gross_exposure: str
    net_exposure: str
