"""Properties of the order book under random operation sequences.

The fast book and the plain reference book run the same operations and must agree on
every fill and on the depth; after every step the fast book is not crossed, quantity is
conserved and each level keeps time priority (FIFO).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.venue.book import NO_LIMIT, BookOrder, OrderBook
from spreadwire.venue.reference import ReferenceBook

Book = OrderBook | ReferenceBook

_limit = st.tuples(st.just("limit"), st.booleans(), st.integers(95, 105), st.integers(1, 10))
_market = st.tuples(st.just("market"), st.booleans(), st.integers(1, 25))
_cancel = st.tuples(st.just("cancel"), st.integers(0, 10_000))
_reduce = st.tuples(st.just("reduce"), st.integers(0, 10_000), st.integers(1, 9))
_reprice = st.tuples(st.just("reprice"), st.integers(0, 10_000), st.integers(95, 105))
_operations = st.lists(st.one_of(_limit, _limit, _market, _cancel, _reduce, _reprice), max_size=120)


@dataclass
class _Driver:
    """Applies operations to one book the way the exchange does, and keeps the ledger."""

    book: Book
    orders: list[BookOrder] = field(default_factory=list)
    stamps: dict[int, int] = field(default_factory=dict)
    removed: int = 0  # canceled or dropped (market remainder) quantity
    submitted: int = 0
    clock: int = 0

    def apply(self, op: tuple[object, ...]) -> list[tuple[int, int, int]]:
        match op:
            case ("limit", bool(is_buy), int(price), int(quantity)):
                order = BookOrder(len(self.orders) + 1, is_buy, price, quantity)
                self.orders.append(order)
                self.submitted += quantity
                return self._take_then_rest(order, price, rest=True)
            case ("market", bool(is_buy), int(quantity)):
                order = BookOrder(len(self.orders) + 1, is_buy, 0, quantity)
                self.orders.append(order)
                self.submitted += quantity
                return self._take_then_rest(order, NO_LIMIT, rest=False)
            case ("cancel", int(index)):
                self._cancel(index)
            case ("reduce", int(index), int(tenths)):
                self._reduce(index, tenths)
            case ("reprice", int(index), int(price)):
                return self._reprice(index, price)
        return []

    def _pick(self, index: int) -> BookOrder | None:
        return self.orders[index % len(self.orders)] if self.orders else None

    def _take_then_rest(
        self, order: BookOrder, limit: int, *, rest: bool
    ) -> list[tuple[int, int, int]]:
        self.clock += 1
        self.stamps[order.order_id] = self.clock
        fills = self.book.execute(order, limit, rest)
        if order.leaves and not rest:
            self.removed += order.leaves
            order.leaves = 0
        self.book.clear_touched()
        return [(maker.order_id, quantity, price) for maker, quantity, price in fills]

    def _cancel(self, index: int) -> None:
        order = self._pick(index)
        if order is not None and self.book.cancel(order):
            self.removed += order.leaves
            order.leaves = 0
        self.book.clear_touched()

    def _reduce(self, index: int, tenths: int) -> None:
        order = self._pick(index)
        if order is None or not order.live:
            return
        leaves = max(1, order.leaves * tenths // 10)
        self.removed += order.leaves - leaves
        self.book.reduce(order, leaves)
        self.book.clear_touched()

    def _reprice(self, index: int, price: int) -> list[tuple[int, int, int]]:
        order = self._pick(index)
        if order is None or not order.live:
            return []
        self.book.cancel(order)
        order = order.requeued()
        self.orders[index % len(self.orders)] = order
        order.price = price
        return self._take_then_rest(order, price, rest=True)


def _resting(driver: _Driver) -> int:
    return sum(o.leaves for o in driver.orders if o.live)


def _check_invariants(driver: _Driver) -> None:
    book = driver.book
    assert isinstance(book, OrderBook)
    bid, ask = book.best_bid(), book.best_ask()
    assert bid is None or ask is None or bid < ask, "book crossed after matching"
    filled = sum(o.filled for o in driver.orders)
    assert filled % 2 == 0  # every match fills a maker and a taker by the same amount
    assert driver.submitted == filled + _resting(driver) + driver.removed, "quantity not conserved"
    for is_buy in (True, False):
        for price, size in book.depth(is_buy):
            queue = book.orders_at(is_buy, price)
            assert size == sum(o.leaves for o in queue) > 0
            stamps = [driver.stamps[o.order_id] for o in queue]
            assert stamps == sorted(stamps), "FIFO broken within a level"


@settings(max_examples=300, deadline=None)
@given(_operations)
def test_book_random_operations_match_reference_and_keep_invariants(
    operations: list[tuple[object, ...]],
) -> None:
    fast, reference = _Driver(OrderBook()), _Driver(ReferenceBook())

    for op in operations:
        assert fast.apply(op) == reference.apply(op)
        _check_invariants(fast)
        assert fast.book.depth(True) == reference.book.depth(True)
        assert fast.book.depth(False) == reference.book.depth(False)


@settings(max_examples=200, deadline=None)
@given(_operations)
def test_book_buy_and_sell_fills_balance(operations: list[tuple[object, ...]]) -> None:
    driver = _Driver(OrderBook())

    for op in operations:
        driver.apply(op)

    bought = sum(o.filled for o in driver.orders if o.is_buy)
    sold = sum(o.filled for o in driver.orders if not o.is_buy)
    assert bought == sold
