"""A deliberately plain order book, the oracle for differential tests and the benchmark.

Same interface and semantics as :class:`~spreadwire.venue.book.OrderBook` (price-time
priority, raw integer prices and sizes), built the obvious way: a sorted list of prices
per side (``bisect``) and a Python list of orders per level, removed eagerly. It is slower
and simpler; the fast book must produce exactly the same fills and depth.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import final

from spreadwire.venue.book import NO_LIMIT, BookOrder, Fill


@final
class ReferenceBook:
    __slots__ = ("_ask_prices", "_asks", "_bid_prices", "_bids")

    def __init__(self) -> None:
        self._bids: dict[int, list[BookOrder]] = {}
        self._asks: dict[int, list[BookOrder]] = {}
        self._bid_prices: list[int] = []  # ascending; best bid is last
        self._ask_prices: list[int] = []  # ascending; best ask is first

    def best_bid(self) -> int | None:
        return self._bid_prices[-1] if self._bid_prices else None

    def best_ask(self) -> int | None:
        return self._ask_prices[0] if self._ask_prices else None

    def level_size(self, is_buy: bool, price: int) -> int:
        return sum(o.leaves for o in (self._bids if is_buy else self._asks).get(price, []))

    def depth(self, is_buy: bool, levels: int | None = None) -> list[tuple[int, int]]:
        prices = self._bid_prices[::-1] if is_buy else list(self._ask_prices)
        if levels is not None:
            prices = prices[:levels]
        return [(price, self.level_size(is_buy, price)) for price in prices]

    def execute(self, order: BookOrder, limit: int, rests: bool) -> list[Fill]:
        fills, remaining = self.match(order.is_buy, limit, order.leaves)
        order.filled += order.leaves - remaining
        order.leaves = remaining
        if remaining and rests:
            self.rest(order)
        return fills

    def match(self, is_buy: bool, limit: int, quantity: int) -> tuple[list[Fill], int]:
        fills: list[Fill] = []
        remaining = quantity
        while remaining:
            price = self.best_ask() if is_buy else self.best_bid()
            if price is None or not _crosses(is_buy, price, limit):
                break
            level = (self._asks if is_buy else self._bids)[price]
            while remaining and level:
                maker = level[0]
                take = min(remaining, maker.leaves)
                maker.leaves -= take
                maker.filled += take
                remaining -= take
                fills.append((maker, take, price))
                if not maker.leaves:
                    maker.live = False
                    level.pop(0)
            if not level:
                self._drop_level(not is_buy, price)
        return fills, remaining

    def rest(self, order: BookOrder) -> None:
        book, prices = self._side(order.is_buy)
        if order.price not in book:
            book[order.price] = []
            insort(prices, order.price)
        book[order.price].append(order)
        order.live = True

    def cancel(self, order: BookOrder) -> bool:
        if not order.live:
            return False
        order.live = False
        book, _ = self._side(order.is_buy)
        level = book[order.price]
        level.remove(order)
        if not level:
            self._drop_level(order.is_buy, order.price)
        return True

    def reduce(self, order: BookOrder, leaves: int) -> None:
        if not 0 < leaves <= order.leaves or not order.live:
            raise ValueError(f"leaves: cannot reduce {order!r} to {leaves}")
        order.leaves = leaves

    def clear_touched(self) -> None:
        """Nothing to clear: the reference book does not track changed levels."""

    def _side(self, is_buy: bool) -> tuple[dict[int, list[BookOrder]], list[int]]:
        return (self._bids, self._bid_prices) if is_buy else (self._asks, self._ask_prices)

    def _drop_level(self, is_buy: bool, price: int) -> None:
        book, prices = self._side(is_buy)
        del book[price]
        del prices[bisect_left(prices, price)]


def _crosses(is_buy: bool, price: int, limit: int) -> bool:
    if limit == NO_LIMIT:
        return True
    return price <= limit if is_buy else price >= limit
