"""Garbage collection at points the node chooses, not in the middle of a tick.

CPython's collector starts a collection from whichever allocation crosses the young
generation's threshold (700 net container allocations): on a trading node that is often
inside a tick-to-order chain, and a young collection that has to walk thousands of
queued and resting objects takes 0.2-2 ms, a middle-generation one more. Measured on the
benchmark node, such collections set the chain's p99.9.

:class:`ControlledCollector` moves that work to the node's timer: while it runs, the
automatic threshold is raised to a safety limit (reached only by an allocation burst
between two timer ticks), and every tick collects the young generation, every
``middle_every`` ticks the middle one and every ``full_every`` ticks all generations.
Each collection is then short (only what the last tick allocated) and lands between two
dispatches. Reference cycles are still reclaimed, on the timer's cadence. The thresholds
are the process's: they are raised when the first collector starts (to the largest
safety limit of those running) and come back when the last one stops.
"""

from __future__ import annotations

import gc
import threading
from typing import final

from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencyHistogram

_lock = threading.Lock()
#: the collectors running, and the thresholds from before the first of them started
_running: list[ControlledCollector] = []
_saved: list[tuple[int, ...]] = []


def _apply() -> None:
    """Set the young threshold for the collectors running (called under ``_lock``)."""
    if not _running:
        if _saved:
            gc.set_threshold(*_saved.pop())
        return
    if not _saved:
        _saved.append(gc.get_threshold())
    _, middle, old = _saved[0]
    gc.set_threshold(max(c.safety_limit for c in _running), middle, old)


@final
class ControlledCollector:
    """Runs the collector from :meth:`tick`; records each pause in ``histogram``."""

    __slots__ = (
        "_active",
        "_full_every",
        "_histogram",
        "_middle_every",
        "_safety_limit",
        "_ticks",
        "collections",
    )

    def __init__(
        self,
        histogram: LatencyHistogram,
        *,
        safety_limit: int = 50_000,
        middle_every: int = 10,
        full_every: int = 600,
    ) -> None:
        if safety_limit < 1 or middle_every < 1 or full_every < 1:
            raise ValueError("safety_limit, middle_every and full_every must be >= 1")
        self._histogram = histogram
        self._safety_limit = safety_limit
        self._middle_every = middle_every
        self._full_every = full_every
        self._active = False
        self._ticks = 0
        #: collections run by :meth:`tick`, per generation
        self.collections = [0, 0, 0]

    @property
    def active(self) -> bool:
        return self._active

    @property
    def safety_limit(self) -> int:
        return self._safety_limit

    def start(self) -> None:
        """Raise the automatic threshold; :meth:`tick` collects from now on."""
        with _lock:
            if self._active:
                return
            self._active = True
            _running.append(self)
            _apply()

    def stop(self) -> None:
        """Stop collecting from :meth:`tick`; the last collector to stop gives the
        process its previous thresholds back."""
        with _lock:
            if not self._active:
                return
            self._active = False
            _running.remove(self)
            _apply()

    def tick(self) -> int:
        """Collect the generation due at this tick; return it (-1 when not started)."""
        if not self._active:
            return -1
        self._ticks += 1
        ticks = self._ticks
        if ticks % self._full_every == 0:
            generation = 2
        elif ticks % self._middle_every == 0:
            generation = 1
        else:
            generation = 0
        started = perf_counter_ns()
        gc.collect(generation)
        self._histogram.record(perf_counter_ns() - started)
        self.collections[generation] += 1
        return generation
