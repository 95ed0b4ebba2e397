"""One trading node: the dispatch loop that drives the simulated venue and the engines.

The core is synchronous and single-writer: the scheduler calls venue deliveries and
timers in simulated-time order, and each delivery runs the whole chain (market data →
strategy → risk → OMS → venue gateway) before the next. ``run`` is async only so that
API servers can share the event loop; in ``max`` speed it yields to them between steps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from enum import StrEnum
from typing import final

import msgspec

from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencySummary

log = logging.getLogger("spreadwire.node")

#: Simulated time advances at most this much per step in ``max`` speed.
_STEP_NS = 5_000_000


class Speed(StrEnum):
    REALTIME = "realtime"
    MAX = "max"


class PairView(msgspec.Struct, frozen=True, kw_only=True):
    strategy_id: str
    leg_y: str
    leg_x: str
    zscore: float
    beta: float
    state: str
    running: bool
    position_y: str
    position_x: str
    pnl: str


class NodeView(msgspec.Struct, frozen=True, kw_only=True):
    """A point-in-time picture of the node for displays and queries."""

    ts_ns: int
    sim_seconds: float
    quotes: int
    orders: int
    fills: int
    denied: int
    rejected: int
    events_stored: int
    trading_state: str
    pairs: list[PairView]
    pnl_total: str
    latency_ns: dict[str, LatencySummary]


@final
class Driver:
    """Advances simulated time, in step with the wall clock or as fast as possible."""

    __slots__ = ("_advance", "_now", "_start_ns")

    def __init__(self, now: Callable[[], int], advance: Callable[[int], int]) -> None:
        self._now = now
        self._advance = advance
        self._start_ns = now()

    async def run(
        self,
        *,
        seconds: float,
        speed: Speed,
        on_progress: Callable[[], None] | None = None,
        progress_interval_s: float = 0.5,
        stop: asyncio.Event | None = None,
    ) -> float:
        """Run for ``seconds`` of simulated time; return the wall seconds it took."""
        start_sim = self._now()
        end_sim = start_sim + int(seconds * 1e9)
        wall_start = perf_counter_ns()
        next_progress = wall_start
        interval_ns = int(progress_interval_s * 1e9)
        while self._now() < end_sim and not (stop is not None and stop.is_set()):
            if speed is Speed.MAX:
                self._advance(min(end_sim, self._now() + _STEP_NS))
                await asyncio.sleep(0)
            else:
                target = start_sim + (perf_counter_ns() - wall_start)
                self._advance(min(end_sim, target))
                await asyncio.sleep(0.001)
            wall_now = perf_counter_ns()
            if on_progress is not None and wall_now >= next_progress:
                next_progress = wall_now + interval_ns
                on_progress()
        if on_progress is not None:
            on_progress()
        return (perf_counter_ns() - wall_start) / 1e9
