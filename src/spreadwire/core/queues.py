"""Bounded queues with an explicit overflow policy and statistics.

Every queue in spreadwire is bounded and names what happens when it is full:

* ``raise``       the producer gets :class:`QueueFullError` (commands: the caller must wait)
* ``drop_oldest`` the oldest item is discarded (market data)
* ``drop_newest`` the new item is discarded
* ``conflate``    an item replaces the queued item with the same key (latest quote wins)
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from enum import StrEnum
from typing import Generic, TypeVar, final

from spreadwire.core.queue_stats import QueueStats
from spreadwire.errors import QueueFullError

T = TypeVar("T")


class OverflowPolicy(StrEnum):
    RAISE = "raise"
    DROP_OLDEST = "drop_oldest"
    DROP_NEWEST = "drop_newest"
    CONFLATE = "conflate"


@final
class BoundedQueue(Generic[T]):
    """A FIFO queue of at most ``capacity`` items (single thread)."""

    __slots__ = (
        "_capacity",
        "_conflated",
        "_dequeued",
        "_dropped",
        "_enqueued",
        "_items",
        "_key",
        "_keyed",
        "_peak",
        "_policy",
    )

    def __init__(
        self,
        capacity: int,
        policy: OverflowPolicy = OverflowPolicy.RAISE,
        key: Callable[[T], Hashable] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: must be >= 1, got {capacity}")
        if policy is OverflowPolicy.CONFLATE and key is None:
            raise ValueError("key: a conflating queue needs a key function")
        self._capacity = capacity
        self._policy = policy
        self._key = key
        self._items: deque[T] = deque()
        self._keyed: OrderedDict[Hashable, T] = OrderedDict()
        self._peak = 0
        self._enqueued = 0
        self._dequeued = 0
        self._dropped = 0
        self._conflated = 0

    def __len__(self) -> int:
        return len(self._keyed) if self._policy is OverflowPolicy.CONFLATE else len(self._items)

    def put(self, item: T) -> bool:
        """Enqueue ``item``; return False when the policy discarded something."""
        self._enqueued += 1
        if self._policy is OverflowPolicy.CONFLATE:
            return self._put_conflated(item)
        accepted = True
        if len(self._items) >= self._capacity:
            if self._policy is OverflowPolicy.RAISE:
                self._enqueued -= 1
                raise QueueFullError(f"queue full at capacity {self._capacity}")
            self._dropped += 1
            accepted = False
            if self._policy is OverflowPolicy.DROP_NEWEST:
                return False
            self._items.popleft()
        self._items.append(item)
        self._peak = max(self._peak, len(self._items))
        return accepted

    def pass_through(self) -> None:
        """Count one item in and out of this queue while it is empty (its consumer takes
        the item at once): the statistics of :meth:`put` then :meth:`get`, without
        queueing it."""
        self._enqueued += 1
        self._dequeued += 1
        if not self._peak:
            self._peak = 1

    def _put_conflated(self, item: T) -> bool:
        assert self._key is not None
        key = self._key(item)
        if key in self._keyed:
            self._keyed[key] = item
            self._conflated += 1
            return True
        accepted = True
        if len(self._keyed) >= self._capacity:
            self._keyed.popitem(last=False)
            self._dropped += 1
            accepted = False
        self._keyed[key] = item
        self._peak = max(self._peak, len(self._keyed))
        return accepted

    def get(self) -> T:
        """Dequeue the oldest item; IndexError when empty."""
        if self._policy is OverflowPolicy.CONFLATE:
            if not self._keyed:
                raise IndexError("get from an empty queue")
            _, item = self._keyed.popitem(last=False)
        else:
            item = self._items.popleft()
        self._dequeued += 1
        return item

    def drain(self, limit: int | None = None) -> list[T]:
        """Dequeue up to ``limit`` items (all when None) in FIFO order."""
        out: list[T] = []
        while len(self) and (limit is None or len(out) < limit):
            out.append(self.get())
        return out

    @property
    def policy(self) -> OverflowPolicy:
        return self._policy

    def stats(self) -> QueueStats:
        return QueueStats(
            capacity=self._capacity,
            depth=len(self),
            peak=self._peak,
            enqueued=self._enqueued,
            dequeued=self._dequeued,
            dropped=self._dropped,
            conflated=self._conflated,
        )
