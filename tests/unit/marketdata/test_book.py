"""The L2 book alone: level updates, deletes, clears, snapshots and the best prices."""

from __future__ import annotations

from spreadwire.domain.enums import BookAction, BookSide
from spreadwire.domain.market import BookLevel, BookSnapshot
from spreadwire.marketdata.book import L2Book
from tests.builders import make_book_delta, price, qty


def _raw(text: str) -> int:
    return price(text).raw


def _book(*levels: tuple[BookSide, str, str]) -> L2Book:
    book = L2Book("AAA.SIM", price_precision=2, size_precision=0)
    for sequence, (side, level_price, size) in enumerate(levels, start=1):
        book.apply(
            make_book_delta(side=side, level_price=level_price, size=size, sequence=sequence)
        )
    return book


def _snapshot(
    bids: tuple[tuple[str, str], ...], asks: tuple[tuple[str, str], ...], sequence: int
) -> BookSnapshot:
    return BookSnapshot(
        instrument_id="AAA.SIM",
        bids=tuple(BookLevel(price=price(p), size=qty(s)) for p, s in bids),
        asks=tuple(BookLevel(price=price(p), size=qty(s)) for p, s in asks),
        sequence=sequence,
        ts_event=1_000,
        ts_init=1_000,
    )


def test_l2book_new_book_is_empty_with_no_best_prices() -> None:
    book = L2Book("AAA.SIM", price_precision=2, size_precision=0)

    assert book.best_bid is None
    assert book.best_ask is None
    assert book.sequence == 0
    assert book.depth() == ([], [])


def test_l2book_apply_adds_levels_and_tracks_best_prices_and_sequence() -> None:
    book = _book(
        (BookSide.BID, "99.98", "5"),
        (BookSide.BID, "99.99", "7"),
        (BookSide.ASK, "100.02", "4"),
        (BookSide.ASK, "100.01", "3"),
    )

    assert book.best_bid == _raw("99.99")
    assert book.best_ask == _raw("100.01")
    assert book.bids == {_raw("99.98"): qty("5").raw, _raw("99.99"): qty("7").raw}
    assert book.sequence == 4


def test_l2book_apply_update_replaces_level_size() -> None:
    book = _book((BookSide.BID, "99.99", "7"))

    book.apply(
        make_book_delta(
            action=BookAction.UPDATE, side=BookSide.BID, level_price="99.99", size="2", sequence=2
        )
    )

    assert book.bids == {_raw("99.99"): qty("2").raw}
    assert book.best_bid == _raw("99.99")


def test_l2book_delete_best_bid_promotes_next_best_bid() -> None:
    book = _book(
        (BookSide.BID, "99.97", "1"), (BookSide.BID, "99.99", "2"), (BookSide.BID, "99.98", "3")
    )

    book.apply(
        make_book_delta(
            action=BookAction.DELETE, side=BookSide.BID, level_price="99.99", size="0", sequence=4
        )
    )

    assert book.best_bid == _raw("99.98")
    assert _raw("99.99") not in book.bids


def test_l2book_zero_size_on_best_ask_promotes_next_best_ask() -> None:
    book = _book((BookSide.ASK, "100.01", "1"), (BookSide.ASK, "100.03", "2"))

    book.apply(
        make_book_delta(
            action=BookAction.UPDATE, side=BookSide.ASK, level_price="100.01", size="0", sequence=3
        )
    )

    assert book.best_ask == _raw("100.03")
    assert book.asks == {_raw("100.03"): qty("2").raw}


def test_l2book_delete_last_level_leaves_side_without_best_price() -> None:
    book = _book((BookSide.BID, "99.99", "1"), (BookSide.ASK, "100.01", "1"))

    book.apply(
        make_book_delta(
            action=BookAction.DELETE, side=BookSide.ASK, level_price="100.01", size="0", sequence=3
        )
    )

    assert book.best_ask is None
    assert book.best_bid == _raw("99.99")


def test_l2book_delete_non_best_level_keeps_best_price() -> None:
    book = _book((BookSide.BID, "99.99", "1"), (BookSide.BID, "99.95", "1"))

    book.apply(
        make_book_delta(
            action=BookAction.DELETE, side=BookSide.BID, level_price="99.95", size="0", sequence=3
        )
    )

    assert book.best_bid == _raw("99.99")
    assert list(book.bids) == [_raw("99.99")]


def test_l2book_delete_unknown_level_changes_nothing() -> None:
    book = _book((BookSide.BID, "99.99", "1"))

    book.apply(
        make_book_delta(
            action=BookAction.DELETE, side=BookSide.BID, level_price="50.00", size="0", sequence=2
        )
    )

    assert book.bids == {_raw("99.99"): qty("1").raw}
    assert book.best_bid == _raw("99.99")


def test_l2book_clear_delta_empties_both_sides_and_keeps_sequence() -> None:
    book = _book((BookSide.BID, "99.99", "1"), (BookSide.ASK, "100.01", "1"))

    book.apply(make_book_delta(action=BookAction.CLEAR, size="0", sequence=3))

    assert book.bids == {} and book.asks == {}
    assert book.best_bid is None and book.best_ask is None
    assert book.sequence == 3


def test_l2book_load_snapshot_replaces_levels_and_sequence() -> None:
    book = _book((BookSide.BID, "90.00", "1"), (BookSide.ASK, "110.00", "1"))

    book.load(_snapshot((("99.99", "3"), ("99.98", "4")), (("100.01", "5"),), sequence=42))

    assert book.bids == {_raw("99.99"): qty("3").raw, _raw("99.98"): qty("4").raw}
    assert book.asks == {_raw("100.01"): qty("5").raw}
    assert book.best_bid == _raw("99.99")
    assert book.best_ask == _raw("100.01")
    assert book.sequence == 42


def test_l2book_load_snapshot_with_empty_level_skips_it() -> None:
    book = L2Book("AAA.SIM", price_precision=2, size_precision=0)

    book.load(_snapshot((("99.99", "0"), ("99.98", "4")), (), sequence=1))

    assert book.best_bid == _raw("99.98")
    assert _raw("99.99") not in book.bids
    assert book.best_ask is None


def test_l2book_is_crossed_when_bid_reaches_ask() -> None:
    book = _book((BookSide.BID, "100.00", "1"), (BookSide.ASK, "100.01", "1"))
    assert not book.is_crossed()

    book.apply(make_book_delta(side=BookSide.BID, level_price="100.01", size="1", sequence=3))

    assert book.is_crossed()


def test_l2book_depth_returns_best_first_limited_levels() -> None:
    book = _book(
        (BookSide.BID, "99.97", "1"),
        (BookSide.BID, "99.99", "2"),
        (BookSide.BID, "99.98", "3"),
        (BookSide.ASK, "100.03", "4"),
        (BookSide.ASK, "100.01", "5"),
    )

    bids, asks = book.depth(levels=2)

    assert bids == [
        BookLevel(price=price("99.99"), size=qty("2")),
        BookLevel(price=price("99.98"), size=qty("3")),
    ]
    assert asks == [
        BookLevel(price=price("100.01"), size=qty("5")),
        BookLevel(price=price("100.03"), size=qty("4")),
    ]
