"""The orders an order manager holds: every live order, indexed, and a bounded tail of
closed ones.

Timers must not scan history, so the book keeps three structures besides the id map:

* ``live``: orders not closed yet (insertion order = creation order, since a closed order
  never reopens), what ``open_orders``, ``reconcile_all`` and ``cancel_all`` walk;
* ``deadlines``: live DAY and GTD orders with their expiry time, what ``check_expiry``
  walks, skipped entirely while the earliest deadline is in the future;
* ``closed``: ids of closed orders, oldest first; beyond ``retain_closed`` the oldest is
  purged from memory (the event store keeps its history) and ``on_purge`` is told so the
  manager drops whatever else it kept for that id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Final, final

from spreadwire.domain.order import Order
from spreadwire.oms.stops import expiry_deadline

_NEVER: Final = 2**63


@final
class OrderBook:
    __slots__ = (
        "_closed",
        "_deadlines",
        "_live",
        "_next_deadline",
        "_on_purge",
        "_orders",
        "_retain",
        "_session_close_ns",
        "purged",
    )

    def __init__(
        self,
        *,
        retain_closed: int,
        session_close_ns: int,
        on_purge: Callable[[str], None] | None = None,
    ) -> None:
        self._orders: dict[str, Order] = {}
        self._live: dict[str, Order] = {}
        self._deadlines: dict[str, int] = {}
        self._next_deadline = _NEVER
        self._closed: deque[str] = deque()
        self._retain = retain_closed
        self._session_close_ns = session_close_ns
        self._on_purge = on_purge
        self.purged = 0

    def __contains__(self, client_order_id: str) -> bool:
        return client_order_id in self._orders

    def __len__(self) -> int:
        return len(self._orders)

    def get(self, client_order_id: str) -> Order | None:
        return self._orders.get(client_order_id)

    def __getitem__(self, client_order_id: str) -> Order:
        return self._orders[client_order_id]

    def all(self) -> Iterator[Order]:
        return iter(self._orders.values())

    def live(self) -> Iterator[Order]:
        """Orders not closed yet, oldest first."""
        return iter(self._live.values())

    @property
    def live_count(self) -> int:
        return len(self._live)

    @property
    def closed_count(self) -> int:
        return len(self._closed)

    def add(self, order: Order) -> None:
        """A new order (not closed yet)."""
        client_order_id = order.client_order_id
        self._orders[client_order_id] = order
        self._live[client_order_id] = order
        deadline = expiry_deadline(order, self._session_close_ns)
        if deadline is not None:
            self._deadlines[client_order_id] = deadline
            if deadline < self._next_deadline:
                self._next_deadline = deadline

    def settle(self, order: Order) -> None:
        """Call after every status change: a closed order leaves the indexes and joins
        the closed tail (the oldest closed orders beyond ``retain_closed`` are purged)."""
        if not order.status.is_terminal:
            return
        client_order_id = order.client_order_id
        if self._live.pop(client_order_id, None) is None:
            return
        self._deadlines.pop(client_order_id, None)
        closed = self._closed
        closed.append(client_order_id)
        while len(closed) > self._retain:
            self._purge(closed.popleft())

    def _purge(self, client_order_id: str) -> None:
        if self._orders.pop(client_order_id, None) is not None:
            self.purged += 1
            if self._on_purge is not None:
                self._on_purge(client_order_id)

    def due(self, now: int) -> list[Order]:
        """Live orders whose expiry deadline has passed (the next deadline is remembered,
        so a tick before it costs one comparison)."""
        if now < self._next_deadline:
            return []
        out = []
        upcoming = _NEVER
        live = self._live
        for client_order_id, deadline in self._deadlines.items():
            if deadline <= now:
                out.append(live[client_order_id])
            elif deadline < upcoming:
                upcoming = deadline
        # orders already due stay due until they close: keep looking each tick
        self._next_deadline = now if out else upcoming
        return out
