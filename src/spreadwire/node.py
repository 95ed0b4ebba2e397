"""One trading node: the dispatch loop that drives the simulated venue and the engines.

The core is synchronous and single-writer: the scheduler calls venue deliveries and
timers in simulated-time order, and each delivery runs the whole chain (market data →
strategy → risk → OMS → venue gateway) before the next. ``run`` is async only so that
API servers can share the event loop; in ``max`` speed it yields to them between steps.

In ``realtime`` speed the driver waits for the wall clock in one of two ways
(:class:`Idle`): ``sleep`` gives the core away for a millisecond between steps;
``spin`` polls the schedule without a system call, gives the event loop a turn right
after each delivery and a few every 200 µs, and costs one busy core. Spinning alone
keeps little of the chain warm when ticks are milliseconds apart; a spinning driver can
also run warming work while idle (a shadow node, ``spreadwire.warmup``), which does
(measured in docs/performance.md, "Tick to order").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import final

import msgspec

from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencySummary

log = logging.getLogger("spreadwire.node")

#: Simulated time advances at most this much per step in ``max`` speed.
_STEP_NS = 5_000_000

#: A sleeping real-time driver sleeps this long between steps.
_REALTIME_STEP_NS = 1_000_000

#: A spinning driver gives the event loop its turns this often: a socket waits at most
#: this long for the loop (a sleeping one wakes at once for it).
_SPIN_STEP_NS = 200_000

#: Event-loop turns a spinning driver gives at the end of each step.
_SPIN_TURNS = 3

#: A spinning driver sleeps this long at a time while another thread of the node works.
_BUSY_SLICE_S = 50e-6

#: A spinning driver with warming work (a shadow node) runs one step of it this often.
WARM_EVERY_NS = 100_000


class Speed(StrEnum):
    REALTIME = "realtime"
    MAX = "max"


class Idle(StrEnum):
    """How a real-time driver waits between steps."""

    #: ``asyncio.sleep`` a step: the core is free, the chain starts cold at each tick.
    SLEEP = "sleep"
    #: Poll the schedule on the clock (no system call) and give the event loop a few
    #: turns a step: a core stays busy, the chain stays warm.
    SPIN = "spin"


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

    __slots__ = ("_advance", "_busy", "_next_warm", "_now", "_start_ns", "_warm")

    def __init__(
        self,
        now: Callable[[], int],
        advance: Callable[[int], int],
        busy: Callable[[], bool] | None = None,
        warm: Callable[[], None] | None = None,
    ) -> None:
        self._now = now
        self._advance = advance
        #: Whether another thread of the node (the event writer) needs the interpreter
        #: now: a spinning driver then sleeps in short slices instead, so that thread is
        #: not starved of the GIL.
        self._busy = busy
        #: Work a spinning driver runs every ``WARM_EVERY_NS`` while nothing is due (a
        #: shadow node's next step, ``spreadwire.warmup``) to keep the hot path warm.
        self._warm = warm
        self._next_warm = 0
        self._start_ns = now()

    async def run(
        self,
        *,
        seconds: float,
        speed: Speed,
        idle: Idle = Idle.SLEEP,
        on_progress: Callable[[], None] | None = None,
        progress_interval_s: float = 0.5,
        stop: asyncio.Event | None = None,
    ) -> float:
        """Run for ``seconds`` of simulated time; return the wall seconds it took.

        ``idle`` matters only in ``realtime`` speed."""
        start_sim = self._now()
        end_sim = start_sim + int(seconds * 1e9)
        wall_start = perf_counter_ns()
        next_progress = wall_start
        interval_ns = int(progress_interval_s * 1e9)
        advance = self._advance
        spin = speed is Speed.REALTIME and idle is Idle.SPIN
        while self._now() < end_sim and not (stop is not None and stop.is_set()):
            if speed is Speed.MAX:
                advance(min(end_sim, self._now() + _STEP_NS))
                await asyncio.sleep(0)
            elif spin:
                if self._spin(start_sim, end_sim, wall_start):
                    # a delivery ran: one turn sends what it handed to the loop, and
                    # the next delivery of a burst waits no longer than that
                    await asyncio.sleep(0)
                else:
                    # A server's work often takes a few hops through the ready queue (an
                    # I/O callback resolves a future, which wakes a task): a few turns
                    # let it finish now rather than one hop per step.
                    for _ in range(_SPIN_TURNS):
                        await asyncio.sleep(0)
            else:
                target = start_sim + (perf_counter_ns() - wall_start)
                advance(min(end_sim, target))
                await asyncio.sleep(_REALTIME_STEP_NS / 1e9)
            wall_now = perf_counter_ns()
            if on_progress is not None and wall_now >= next_progress:
                next_progress = wall_now + interval_ns
                on_progress()
        if on_progress is not None:
            on_progress()
        return (perf_counter_ns() - wall_start) / 1e9

    def _spin(self, start_sim: int, end_sim: int, wall_start: int) -> bool:
        """One real-time step without sleeping: everything due runs as soon as the
        clock reaches it; the event loop's turn comes right after a delivery ran, or
        once ``_SPIN_STEP_NS`` passed without one (or at the end of the run). True when
        it ended because a delivery ran."""
        advance = self._advance
        busy = self._busy
        warm = self._warm
        turn = perf_counter_ns() + _SPIN_STEP_NS
        now = perf_counter_ns()
        while now < turn:
            target = start_sim + (now - wall_start)
            if target >= end_sim:
                return advance(end_sim) > 0
            if advance(target):
                # something ran: what it handed to the loop (a WebSocket flush, a
                # server's reply) goes out now, not at the end of the step
                return True
            if busy is not None and busy():
                time.sleep(_BUSY_SLICE_S)
            elif warm is not None and now >= self._next_warm:
                try:
                    warm()
                except Exception:
                    # warming is an optimisation: its failure must not stop the node
                    log.exception("warming work failed; the node carries on without it")
                    self._warm = warm = None
                self._next_warm = perf_counter_ns() + WARM_EVERY_NS
            now = perf_counter_ns()
        return False
