"""One trading node: the dispatch loop that drives the simulated venue and the engines.

The core is synchronous and single-writer: the scheduler calls venue deliveries and
timers in simulated-time order, and each delivery runs the whole chain (market data →
strategy → risk → OMS → venue gateway) before the next. ``run`` is async only so that
API servers can share the event loop; in ``max`` speed it yields to them between steps.

In ``realtime`` speed the driver waits for the wall clock in one of two ways
(:class:`Idle`): ``sleep`` gives the core away until the next delivery is due (1 ms at
most, timed by a :class:`Waker`);
``spin`` polls the schedule without a system call, gives the event loop a turn right
after each delivery and a few every 200 µs, and costs one busy core. Spinning alone
keeps little of the chain warm when ticks are milliseconds apart; a spinning driver can
also run warming work while idle (a shadow node, ``spreadwire.warmup``), which does
(measured in docs/performance.md, "Tick to order").
"""

from __future__ import annotations

import asyncio
import logging
import threading
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

#: A sleeping real-time driver sleeps at most this long between steps.
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

    #: Sleep until the next delivery is due (1 ms at most): the core is free, the chain
    #: starts cold at each tick.
    SLEEP = "sleep"
    #: Poll the schedule on the clock (no system call), giving the event loop its turns
    #: between: deliveries start on time and a core stays busy. Keeping the chain warm
    #: takes warming work as well (a shadow node, ``spreadwire.warmup``).
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


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@final
class Waker:
    """Wakes the event loop at a wall-clock time, to tens of microseconds.

    ``asyncio`` sleeps in whole milliseconds (its ``epoll`` timeouts are rounded up:
    ``asyncio.sleep(0.001)`` took 1.13 ms at p50 here), so a delivery due during a sleep
    waited for its end. Here the loop keeps waiting in ``epoll``, serving sockets at
    once, while a daemon thread sleeps until the due time (``time.sleep`` releases the
    GIL) and resolves the loop's future through ``call_soon_threadsafe``.
    """

    __slots__ = ("_closed", "_condition", "_due", "_future", "_loop", "_thread")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._condition = threading.Condition(threading.Lock())
        self._due = 0
        self._future: asyncio.Future[None] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="driver-waker", daemon=True)
        self._thread.start()

    async def sleep_until(self, wall_ns: int) -> None:
        """Return once ``perf_counter_ns() >= wall_ns`` (just after)."""
        future = self._loop.create_future()
        with self._condition:
            self._due = wall_ns
            self._future = future
            self._condition.notify()
        try:
            await future
        finally:
            with self._condition:
                if self._future is future:
                    self._future = None

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._future is None and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                due, future = self._due, self._future
            assert future is not None
            delay = due - perf_counter_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
            with self._condition:
                if self._future is not future or self._closed:
                    continue  # cancelled, or replaced by a newer wait: that one is next
                self._future = None
            try:
                self._loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:
                return  # the loop is closed

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join()


@final
class Driver:
    """Advances simulated time, in step with the wall clock or as fast as possible."""

    __slots__ = ("_advance", "_busy", "_next_due", "_next_warm", "_now", "_start_ns", "_warm")

    def __init__(
        self,
        now: Callable[[], int],
        advance: Callable[[int], int],
        busy: Callable[[], bool] | None = None,
        warm: Callable[[], None] | None = None,
        next_due: Callable[[], int | None] | None = None,
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
        #: The simulated time of the next scheduled delivery (``Scheduler.next_time``):
        #: a sleeping driver wakes then rather than at the end of its millisecond.
        self._next_due = next_due
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
        spin = speed is Speed.REALTIME and idle is Idle.SPIN
        waker = None
        if speed is Speed.REALTIME and not spin:
            waker = Waker(asyncio.get_running_loop())
        try:
            await self._loop(
                start_sim=start_sim,
                end_sim=end_sim,
                wall_start=wall_start,
                speed=speed,
                spin=spin,
                waker=waker,
                on_progress=on_progress,
                interval_ns=int(progress_interval_s * 1e9),
                stop=stop,
            )
        finally:
            if waker is not None:
                waker.close()
        if on_progress is not None:
            on_progress()
        return (perf_counter_ns() - wall_start) / 1e9

    async def _loop(
        self,
        *,
        start_sim: int,
        end_sim: int,
        wall_start: int,
        speed: Speed,
        spin: bool,
        waker: Waker | None,
        on_progress: Callable[[], None] | None,
        interval_ns: int,
        stop: asyncio.Event | None,
    ) -> None:
        advance = self._advance
        next_progress = wall_start
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
                assert waker is not None  # run() makes one for every sleeping run
                await self._sleep(start_sim, wall_start, waker)
            wall_now = perf_counter_ns()
            if on_progress is not None and wall_now >= next_progress:
                next_progress = wall_now + interval_ns
                on_progress()

    async def _sleep(self, start_sim: int, wall_start: int, waker: Waker) -> None:
        """Sleep until the next delivery is due, for at most ``_REALTIME_STEP_NS``."""
        now = perf_counter_ns()
        wake = now + _REALTIME_STEP_NS
        due = self._next_due() if self._next_due is not None else None
        if due is not None:
            wake = min(wake, wall_start + (due - start_sim))
        if wake <= now:
            await asyncio.sleep(0)
        else:
            await waker.sleep_until(wake)

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
