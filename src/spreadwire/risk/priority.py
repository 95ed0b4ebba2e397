"""Priority execution: a small work queue that runs the kill switch and cancels first.

When inbound work queues up (a burst of quotes, a strategy storm), the node drains this
queue instead of a FIFO: everything of a higher class runs before anything of a lower
one, FIFO within a class. Classes, highest first:

====  ==============  ======================================================  =============
rank  class           messages                                                when full
====  ==============  ======================================================  =============
0     ``CONTROL``     Engage/ReleaseKillSwitch, Reset/TripTradingState        raise
1     ``CANCEL``      CancelOrder, CancelAllOrders                            raise
2     ``REPORT``      ExecutionReport (fills change risk; apply them early)   raise
3     ``ORDER``       SubmitOrder, ModifyOrder, SubmitPairOrder               raise
4     ``MARKET_DATA`` QuoteTick, TradeTick, BookDelta, BookSnapshot, DataGap  drop oldest
5     ``OTHER``       anything else                                           raise
====  ==============  ======================================================  =============

Usage (single thread, in the dispatch loop)::

    queue = PriorityWorkQueue()
    queue.put(message)                 # classified by type
    queue.drain(dispatch, limit=256)   # dispatch(message) in priority order

Each class is a :class:`~spreadwire.core.queues.BoundedQueue` with its own statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import IntEnum
from types import MappingProxyType
from typing import final

from spreadwire.core.queue_stats import QueueStats
from spreadwire.core.queues import BoundedQueue, OverflowPolicy
from spreadwire.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    EngageKillSwitch,
    ModifyOrder,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
    SubmitPairOrder,
    TripTradingState,
)
from spreadwire.domain.market import BookDelta, BookSnapshot, DataGap, QuoteTick, TradeTick
from spreadwire.domain.reports import ExecutionReport


class Priority(IntEnum):
    CONTROL = 0
    CANCEL = 1
    REPORT = 2
    ORDER = 3
    MARKET_DATA = 4
    OTHER = 5


PRIORITY_BY_TYPE: Mapping[type, Priority] = MappingProxyType(
    {
        EngageKillSwitch: Priority.CONTROL,
        ReleaseKillSwitch: Priority.CONTROL,
        ResetTradingState: Priority.CONTROL,
        TripTradingState: Priority.CONTROL,
        CancelOrder: Priority.CANCEL,
        CancelAllOrders: Priority.CANCEL,
        ExecutionReport: Priority.REPORT,
        SubmitOrder: Priority.ORDER,
        ModifyOrder: Priority.ORDER,
        SubmitPairOrder: Priority.ORDER,
        QuoteTick: Priority.MARKET_DATA,
        TradeTick: Priority.MARKET_DATA,
        BookDelta: Priority.MARKET_DATA,
        BookSnapshot: Priority.MARKET_DATA,
        DataGap: Priority.MARKET_DATA,
    }
)

DEFAULT_CAPACITY: Mapping[Priority, int] = MappingProxyType(
    {
        Priority.CONTROL: 1_024,
        Priority.CANCEL: 65_536,
        Priority.REPORT: 65_536,
        Priority.ORDER: 16_384,
        Priority.MARKET_DATA: 65_536,
        Priority.OTHER: 16_384,
    }
)


def classify(message: object) -> Priority:
    """The priority class of ``message`` (by exact type)."""
    return PRIORITY_BY_TYPE.get(type(message), Priority.OTHER)


@final
class PriorityWorkQueue:
    """Bucketed FIFO queues drained highest class first."""

    __slots__ = ("_classify", "_count", "_queues")

    def __init__(
        self,
        capacity: Mapping[Priority, int] | None = None,
        *,
        classify_message: Callable[[object], Priority] = classify,
    ) -> None:
        sizes = dict(DEFAULT_CAPACITY)
        if capacity is not None:
            sizes.update(capacity)
        self._queues: list[BoundedQueue[object]] = [
            BoundedQueue(
                sizes[p],
                OverflowPolicy.DROP_OLDEST if p is Priority.MARKET_DATA else OverflowPolicy.RAISE,
            )
            for p in Priority
        ]
        self._classify = classify_message
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def put(self, message: object, priority: Priority | None = None) -> bool:
        """Queue ``message``; False when the class dropped something (market data).

        Raises :class:`~spreadwire.errors.QueueFullError` when a command class is full.
        """
        queue = self._queues[self._classify(message) if priority is None else priority]
        before = len(queue)
        accepted = queue.put(message)
        self._count += len(queue) - before
        return accepted

    def get(self) -> object:
        """The oldest message of the highest non-empty class; IndexError when empty."""
        for queue in self._queues:
            if len(queue):
                self._count -= 1
                return queue.get()
        raise IndexError("get from an empty priority queue")

    def drain(self, handler: Callable[[object], None], limit: int | None = None) -> int:
        """Call ``handler`` on up to ``limit`` messages in priority order; return how many.

        The class is re-chosen after every message, so a cancel queued by a handler runs
        before the remaining new orders and market data.
        """
        done = 0
        while self._count and (limit is None or done < limit):
            handler(self.get())
            done += 1
        return done

    def take_if_idle(self, message: object) -> bool:
        """With nothing queued, ``message`` is the highest-priority work there is: count it
        in and out of its class (the statistics :meth:`put` + :meth:`get` would give) and
        return True, for the caller to run it at once; else do nothing and return False."""
        if self._count:
            return False
        self._queues[self._classify(message)].pass_through()
        return True

    def depth(self, priority: Priority) -> int:
        return len(self._queues[priority])

    def stats(self) -> dict[str, QueueStats]:
        return {p.name.lower(): self._queues[p].stats() for p in Priority}
