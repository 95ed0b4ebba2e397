"""Market-data engine settings and statistics (messages, kept out of the compiled engine)."""

from __future__ import annotations

from typing import Annotated

import msgspec


class MarketDataConfig(msgspec.Struct, frozen=True, kw_only=True):
    stale_after_ns: Annotated[int, msgspec.Meta(gt=0)] = 2_000_000_000


class MarketDataStats(msgspec.Struct, frozen=True, kw_only=True):
    deltas: int
    quotes: int
    trades: int
    gaps: int
    stale: int
    snapshots: int
