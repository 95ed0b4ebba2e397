"""A per-instrument limit order book with price-time priority.

Prices and quantities are raw fixed-point integers (scale 10**9, see
:mod:`spreadwire.domain.values`). Each side is a ``dict`` from price to a :class:`Level`
(a FIFO ``deque`` of resting orders plus the level's total size), with a heap of prices
for the best price and lazy deletion: an emptied level leaves the dict at once and its
heap entry is dropped when it reaches the top. Cancels are tombstones (O(1)): the order is
marked dead and skipped when it reaches the front of its level.

Every level whose total changes is recorded in :attr:`OrderBook.touched`, keyed by the
heap key (``price`` for asks, ``-price`` for bids; prices are positive) with the level's
total before the first change, so that the exchange can emit one L2 delta per changed
level after each matching step and then :meth:`OrderBook.clear_touched`.

The book knows nothing of reports or messages; :mod:`spreadwire.venue.exchange` wraps it.
"""

from __future__ import annotations

from collections import deque
from heapq import heapify, heappop, heappush
from typing import Final, final

from spreadwire.domain.enums import OrderStatus

#: A limit key beyond any price: a market order matches every level.
NO_LIMIT: Final[int] = 2**63
_COMPACT_MIN_DEAD: Final[int] = 32
_HEAP_SLACK: Final[int] = 64

#: One match: (resting order, quantity, price).
Fill = tuple["BookOrder", int, int]


@final
class BookOrder:
    """A venue-side order: what rests in the book plus what the exchange reports on."""

    __slots__ = (
        "client_order_id",
        "filled",
        "instrument_id",
        "is_buy",
        "leaves",
        "live",
        "order_id",
        "owner",
        "post_only",
        "price",
        "quantity",
        "status",
        "strategy_id",
        "withdrawn",
    )

    def __init__(
        self,
        order_id: int,
        is_buy: bool,
        price: int,
        quantity: int,
        *,
        owner: str = "",
        client_order_id: str = "",
        instrument_id: str = "",
        strategy_id: str = "",
        post_only: bool = False,
    ) -> None:
        self.order_id = order_id
        self.is_buy = is_buy
        self.price = price
        self.quantity = quantity
        self.filled = 0
        self.leaves = quantity
        self.live = False
        self.withdrawn = False
        self.owner = owner
        self.client_order_id = client_order_id
        self.instrument_id = instrument_id
        self.strategy_id = strategy_id
        self.post_only = post_only
        self.status = OrderStatus.SUBMITTED

    def requeued(self) -> BookOrder:
        """A copy that may rest again (a canceled order object never rests twice:
        its tombstone may still sit in a level). Used when a modify loses priority."""
        copy = BookOrder(
            self.order_id,
            self.is_buy,
            self.price,
            self.quantity,
            owner=self.owner,
            client_order_id=self.client_order_id,
            instrument_id=self.instrument_id,
            strategy_id=self.strategy_id,
            post_only=self.post_only,
        )
        copy.filled = self.filled
        copy.leaves = self.leaves
        copy.status = self.status
        return copy

    def __repr__(self) -> str:
        side = "BUY" if self.is_buy else "SELL"
        return (
            f"BookOrder({self.order_id}, {side}, price={self.price}, leaves={self.leaves}, "
            f"filled={self.filled}, live={self.live})"
        )


@final
class Level:
    """One price level: resting orders in time priority and their total size."""

    __slots__ = ("dead", "orders", "size")

    def __init__(self) -> None:
        self.orders: deque[BookOrder] = deque()
        self.size = 0
        self.dead = 0


@final
class OrderBook:
    """Price-time priority book of one instrument (raw integer prices and sizes)."""

    __slots__ = ("_ask_heap", "_asks", "_bid_heap", "_bids", "touched")

    def __init__(self) -> None:
        self._bids: dict[int, Level] = {}
        self._asks: dict[int, Level] = {}
        self._bid_heap: list[int] = []  # negated prices
        self._ask_heap: list[int] = []
        #: heap key (price for asks, -price for bids) -> level total before this step
        self.touched: dict[int, int] = {}

    # ------------------------------------------------------------------ queries

    def best_bid(self) -> int | None:
        heap = self._bid_heap
        levels = self._bids
        while heap:
            price = -heap[0]
            if price in levels:
                return price
            heappop(heap)
        return None

    def best_ask(self) -> int | None:
        heap = self._ask_heap
        levels = self._asks
        while heap:
            price = heap[0]
            if price in levels:
                return price
            heappop(heap)
        return None

    def level_size(self, is_buy: bool, price: int) -> int:
        level = (self._bids if is_buy else self._asks).get(price)
        return 0 if level is None else level.size

    def depth(self, is_buy: bool, levels: int | None = None) -> list[tuple[int, int]]:
        """(price, total size) of the best ``levels`` levels of one side, best first."""
        book = self._bids if is_buy else self._asks
        prices = sorted(book, reverse=is_buy)
        if levels is not None:
            prices = prices[:levels]
        return [(price, book[price].size) for price in prices]

    def orders_at(self, is_buy: bool, price: int) -> list[BookOrder]:
        """Live orders resting at one level, in time priority."""
        level = (self._bids if is_buy else self._asks).get(price)
        if level is None:
            return []
        return [order for order in level.orders if order.live]

    def would_cross(self, is_buy: bool, price: int) -> bool:
        """True if a limit order at ``price`` would take liquidity now."""
        if is_buy:
            best = self.best_ask()
            return best is not None and price >= best
        best = self.best_bid()
        return best is not None and price <= best

    def available(self, is_buy: bool, limit: int, wanted: int) -> int:
        """Contra liquidity a taker could get at ``limit`` or better, capped at ``wanted``.

        Side-effect free (the FOK pre-check); ``limit`` is :data:`NO_LIMIT` for market.
        """
        if is_buy:
            book = self._asks
            prices = sorted(p for p in book if p <= limit)
        else:
            book = self._bids
            prices = sorted((p for p in book if limit == NO_LIMIT or p >= limit), reverse=True)
        total = 0
        for price in prices:
            total += book[price].size
            if total >= wanted:
                return wanted
        return total

    # ------------------------------------------------------------------ changes

    def execute(self, order: BookOrder, limit: int, rests: bool) -> list[Fill]:
        """Match ``order`` as taker at ``limit`` (:data:`NO_LIMIT`: market), then rest it.

        The taker's ``filled``/``leaves`` are updated; a remainder rests when ``rests``
        (else it stays in ``order.leaves`` for the caller to cancel). Returns the fills.
        """
        if order.is_buy:
            heap = self._ask_heap
            crosses = heap and heap[0] <= limit
        else:
            heap = self._bid_heap
            crosses = heap and (limit == NO_LIMIT or -heap[0] >= limit)
        if crosses:
            leaves = order.leaves
            fills, remaining = self.match(order.is_buy, limit, leaves)
            order.filled += leaves - remaining
            order.leaves = remaining
            if remaining and rests:
                self.rest(order)
            return fills
        if rests:
            self.rest(order)
        return []

    def match(self, is_buy: bool, limit: int, quantity: int) -> tuple[list[Fill], int]:
        """Take up to ``quantity`` from the contra side at ``limit`` or better.

        ``limit`` is :data:`NO_LIMIT` for a market order. Returns the fills in priority
        order and the unfilled remainder. Fully filled resting orders leave the book.
        """
        fills: list[Fill] = []
        touched = self.touched
        if is_buy:
            levels, heap, sign = self._asks, self._ask_heap, 1
            limit_key = limit
        else:
            levels, heap, sign = self._bids, self._bid_heap, -1
            limit_key = NO_LIMIT if limit == NO_LIMIT else -limit
        remaining = quantity
        while remaining and heap:
            key = heap[0]
            if key > limit_key:
                break
            price = key * sign
            level = levels.get(price)
            if level is None:
                heappop(heap)
                continue
            if key not in touched:
                touched[key] = level.size
            remaining = self._take(level, price, remaining, fills)
            if not level.size:
                del levels[price]
                heappop(heap)
        return fills, remaining

    @staticmethod
    def _take(level: Level, price: int, remaining: int, fills: list[Fill]) -> int:
        orders = level.orders
        while remaining and orders:
            maker = orders[0]
            if not maker.live:
                orders.popleft()
                level.dead -= 1
                continue
            leaves = maker.leaves
            take = remaining if remaining < leaves else leaves
            maker.leaves = leaves - take
            maker.filled += take
            level.size -= take
            remaining -= take
            fills.append((maker, take, price))
            if take == leaves:
                maker.live = False
                orders.popleft()
        return remaining

    def rest(self, order: BookOrder) -> None:
        """Put ``order`` at the back of its level; the caller makes sure it does not cross.

        An order object rests once: after :meth:`cancel` rest :meth:`BookOrder.requeued`.
        """
        if order.withdrawn:
            raise ValueError(f"order: {order!r} was canceled; rest order.requeued() instead")
        price = order.price
        if order.is_buy:
            levels, key = self._bids, -price
        else:
            levels, key = self._asks, price
        touched = self.touched
        level = levels.get(price)
        if level is None:
            if key not in touched:
                touched[key] = 0
            level = levels[price] = Level()
            heap = self._bid_heap if order.is_buy else self._ask_heap
            heappush(heap, key)
            if len(heap) > 2 * len(levels) + _HEAP_SLACK:
                self._rebuild_heap(order.is_buy)
        elif key not in touched:
            touched[key] = level.size
        level.orders.append(order)
        level.size += order.leaves
        order.live = True

    def cancel(self, order: BookOrder) -> bool:
        """Remove a resting order (tombstone); False if it was not resting."""
        if not order.live:
            return False
        order.live = False
        order.withdrawn = True
        price = order.price
        if order.is_buy:
            levels, key = self._bids, -price
        else:
            levels, key = self._asks, price
        level = levels[price]
        touched = self.touched
        if key not in touched:
            touched[key] = level.size
        level.size -= order.leaves
        if not level.size:
            del levels[price]
            return True
        orders = level.orders
        if orders[0] is order:
            orders.popleft()
        else:
            level.dead += 1
            if level.dead > _COMPACT_MIN_DEAD and 2 * level.dead > len(orders):
                level.orders = deque(o for o in orders if o.live)
                level.dead = 0
        return True

    def reduce(self, order: BookOrder, leaves: int) -> None:
        """Lower a resting order's leaves in place; it keeps its time priority."""
        if not 0 < leaves <= order.leaves or not order.live:
            raise ValueError(f"leaves: cannot reduce {order!r} to {leaves}")
        price = order.price
        if order.is_buy:
            level, key = self._bids[price], -price
        else:
            level, key = self._asks[price], price
        touched = self.touched
        if key not in touched:
            touched[key] = level.size
        level.size -= order.leaves - leaves
        order.leaves = leaves

    def clear_touched(self) -> None:
        self.touched.clear()

    def _rebuild_heap(self, is_buy: bool) -> None:
        """Drop stale heap entries once they outnumber the live levels (bounded memory)."""
        if is_buy:
            self._bid_heap = [-p for p in self._bids]
            heapify(self._bid_heap)
        else:
            self._ask_heap = list(self._asks)
            heapify(self._ask_heap)
