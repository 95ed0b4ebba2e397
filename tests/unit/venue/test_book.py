"""The order book alone: priority, matching, cancels, level totals."""

from __future__ import annotations

import pytest

from spreadwire.venue.book import NO_LIMIT, BookOrder, OrderBook


def _order(order_id: int, is_buy: bool, price: int, quantity: int) -> BookOrder:
    return BookOrder(order_id, is_buy, price, quantity)


def _book_with(*orders: BookOrder) -> OrderBook:
    book = OrderBook()
    for order in orders:
        book.rest(order)
    book.clear_touched()
    return book


def test_book_empty_has_no_best_prices() -> None:
    book = OrderBook()

    assert book.best_bid() is None
    assert book.best_ask() is None


def test_book_rested_orders_set_best_prices_and_level_totals() -> None:
    book = _book_with(
        _order(1, True, 99, 5),
        _order(2, True, 100, 3),
        _order(3, True, 100, 4),
        _order(4, False, 101, 7),
    )

    assert book.best_bid() == 100
    assert book.best_ask() == 101
    assert book.depth(True) == [(100, 7), (99, 5)]
    assert book.depth(False) == [(101, 7)]


def test_book_match_fills_best_price_first_then_time_priority() -> None:
    first, second, worse = (
        _order(1, False, 100, 5),
        _order(2, False, 100, 5),
        _order(3, False, 101, 5),
    )
    book = _book_with(worse, first, second)

    fills, remaining = book.match(True, NO_LIMIT, 12)

    assert [(m.order_id, q, p) for m, q, p in fills] == [(1, 5, 100), (2, 5, 100), (3, 2, 101)]
    assert remaining == 0
    assert book.depth(False) == [(101, 3)]
    assert worse.leaves == 3 and worse.filled == 2 and worse.live


def test_book_match_stops_at_limit_and_returns_remainder() -> None:
    book = _book_with(_order(1, True, 100, 5), _order(2, True, 99, 5))

    fills, remaining = book.match(False, 100, 8)

    assert [(q, p) for _, q, p in fills] == [(5, 100)]
    assert remaining == 3
    assert book.best_bid() == 99


def test_book_cancel_removes_order_and_empty_level() -> None:
    only = _order(1, True, 100, 5)
    book = _book_with(only, _order(2, True, 99, 5))

    assert book.cancel(only) is True

    assert book.best_bid() == 99
    assert book.touched == {-100: 5}
    assert book.cancel(only) is False


def test_book_cancel_in_middle_of_level_keeps_others_in_order() -> None:
    a, b, c = _order(1, False, 100, 1), _order(2, False, 100, 2), _order(3, False, 100, 3)
    book = _book_with(a, b, c)

    book.cancel(b)
    fills, _ = book.match(True, NO_LIMIT, 10)

    assert [m.order_id for m, _, _ in fills] == [1, 3]
    assert book.best_ask() is None


def test_book_reduce_keeps_time_priority() -> None:
    a, b = _order(1, True, 100, 10), _order(2, True, 100, 10)
    book = _book_with(a, b)

    book.reduce(a, 4)
    fills, _ = book.match(False, 100, 5)

    assert [(m.order_id, q) for m, q, _ in fills] == [(1, 4), (2, 1)]
    assert book.level_size(True, 100) == 9


def test_book_available_is_side_effect_free() -> None:
    book = _book_with(_order(1, False, 100, 5), _order(2, False, 102, 5))

    assert book.available(True, 101, 10) == 5
    assert book.available(True, NO_LIMIT, 8) == 8
    assert book.depth(False) == [(100, 5), (102, 5)]


def test_book_would_cross_against_best_contra_price() -> None:
    book = _book_with(_order(1, True, 99, 1), _order(2, False, 101, 1))

    assert book.would_cross(True, 101)
    assert not book.would_cross(True, 100)
    assert book.would_cross(False, 99)
    assert not book.would_cross(False, 100)


def test_book_many_cancels_compact_level_and_stale_heap_entries() -> None:
    book = OrderBook()
    keep = _order(0, True, 100, 1)
    book.rest(keep)
    orders = [_order(i, True, 100, 1) for i in range(1, 200)]
    for order in orders:
        book.rest(order)
    for order in orders:
        book.cancel(order)
    for price in range(1, 500):
        flicker = _order(1000 + price, False, 1000 + price, 1)
        book.rest(flicker)
        book.cancel(flicker)

    assert book.orders_at(True, 100) == [keep]
    assert book.level_size(True, 100) == 1
    assert book.best_ask() is None


def test_book_rest_of_canceled_order_object_is_refused() -> None:
    order = _order(1, True, 100, 5)
    book = _book_with(_order(2, True, 100, 1), order)
    book.cancel(order)

    with pytest.raises(ValueError, match="requeued"):
        book.rest(order)
    book.rest(order.requeued())

    assert book.level_size(True, 100) == 6
