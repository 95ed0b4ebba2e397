"""The simulated exchange: order types, reports, rejects, modify rules, market data."""

from __future__ import annotations

import pytest

from spreadwire.domain.commands import CancelAllOrders
from spreadwire.domain.enums import (
    BookAction,
    BookSide,
    LiquiditySide,
    OrderSide,
    OrderType,
    TimeInForce,
)
from spreadwire.domain.enums import ReportKind as K
from spreadwire.venue.reasons import VenueReason as R

from .support import INSTRUMENT_ID, Recorder, instrument, raw

BUY, SELL = OrderSide.BUY, OrderSide.SELL


@pytest.fixture
def venue() -> Recorder:
    return Recorder()


def _seed_asks(venue: Recorder) -> None:
    """Background asks: 5 @ 100.00, 5 @ 100.01, 10 @ 100.02."""
    venue.submit(SELL, "5", "100.00", owner="mm")
    venue.submit(SELL, "5", "100.01", owner="mm")
    venue.submit(SELL, "10", "100.02", owner="mm")


def test_exchange_resting_limit_reports_accepted_with_full_leaves(venue: Recorder) -> None:
    cid = venue.submit(BUY, "10", "99.50")

    [report] = venue.reports_for(cid)
    assert report.kind is K.ACCEPTED
    assert (report.cum_qty.raw, report.leaves_qty.raw) == (0, raw("10"))
    assert venue.exchange.book(INSTRUMENT_ID).best_bid() == raw("99.50")


def test_exchange_background_orders_get_no_reports(venue: Recorder) -> None:
    _seed_asks(venue)

    assert venue.reports == []
    assert len(venue.deltas) == 3


def test_exchange_market_order_walks_book_with_cum_and_leaves(venue: Recorder) -> None:
    _seed_asks(venue)

    cid = venue.submit(BUY, "12")

    reports = venue.reports_for(cid)
    assert [r.kind for r in reports] == [K.ACCEPTED, K.FILL, K.FILL, K.FILL]
    fills = reports[1:]
    assert [r.last_px.raw for r in fills if r.last_px] == [raw("100"), raw("100.01"), raw("100.02")]
    assert [r.cum_qty.raw // 10**9 for r in fills] == [5, 10, 12]
    assert all(r.cum_qty.raw + r.leaves_qty.raw == raw("12") for r in reports)
    assert all(r.liquidity_side is LiquiditySide.TAKER for r in fills)
    assert len(venue.trades) == 3


def test_exchange_market_order_remainder_is_canceled(venue: Recorder) -> None:
    venue.submit(SELL, "5", "100.00", owner="mm")

    cid = venue.submit(BUY, "8")

    last = venue.reports_for(cid)[-1]
    assert last.kind is K.CANCELED
    assert last.reason == R.MARKET_REMAINDER
    assert (last.cum_qty.raw, last.leaves_qty.raw) == (raw("5"), 0)


def test_exchange_market_order_on_empty_side_is_rejected(venue: Recorder) -> None:
    cid = venue.submit(BUY, "8")

    [report] = venue.reports_for(cid)
    assert (report.kind, report.reason) == (K.REJECTED, R.NO_LIQUIDITY)


def test_exchange_limit_crossing_fills_then_rests_remainder(venue: Recorder) -> None:
    _seed_asks(venue)

    cid = venue.submit(BUY, "8", "100.00")

    kinds = [r.kind for r in venue.reports_for(cid)]
    assert kinds == [K.ACCEPTED, K.FILL]
    book = venue.exchange.book(INSTRUMENT_ID)
    assert book.best_bid() == raw("100")
    assert book.level_size(True, raw("100")) == raw("3")
    assert book.best_ask() == raw("100.01")


def test_exchange_ioc_fills_available_and_cancels_rest(venue: Recorder) -> None:
    _seed_asks(venue)

    cid = venue.submit(BUY, "8", "100.00", tif=TimeInForce.IOC)

    reports = venue.reports_for(cid)
    assert [r.kind for r in reports] == [K.ACCEPTED, K.FILL, K.CANCELED]
    assert reports[-1].reason == R.IOC_REMAINDER
    assert venue.exchange.book(INSTRUMENT_ID).best_bid() is None


def test_exchange_fok_unfillable_is_rejected_without_trading(venue: Recorder) -> None:
    _seed_asks(venue)
    deltas_before = len(venue.deltas)

    cid = venue.submit(BUY, "11", "100.01", tif=TimeInForce.FOK)

    [report] = venue.reports_for(cid)
    assert (report.kind, report.reason) == (K.REJECTED, R.FOK_UNFILLABLE)
    assert venue.trades == []
    assert len(venue.deltas) == deltas_before


def test_exchange_fok_fillable_fills_completely(venue: Recorder) -> None:
    _seed_asks(venue)

    cid = venue.submit(BUY, "10", "100.01", tif=TimeInForce.FOK)

    reports = venue.reports_for(cid)
    assert reports[-1].kind is K.FILL
    assert reports[-1].leaves_qty.raw == 0
    assert reports[-1].cum_qty.raw == raw("10")


def test_exchange_post_only_crossing_is_rejected(venue: Recorder) -> None:
    _seed_asks(venue)

    cid = venue.submit(BUY, "1", "100.00", post_only=True)

    [report] = venue.reports_for(cid)
    assert (report.kind, report.reason) == (K.REJECTED, R.POST_ONLY_WOULD_CROSS)


def test_exchange_post_only_passive_rests(venue: Recorder) -> None:
    _seed_asks(venue)

    cid = venue.submit(BUY, "1", "99.99", post_only=True)

    assert venue.reports_for(cid)[-1].kind is K.ACCEPTED


@pytest.mark.parametrize(
    ("quantity", "price", "order_type", "reason"),
    [
        ("1", "100.005", OrderType.LIMIT, R.INVALID_TICK),
        ("1.5", "100.00", OrderType.LIMIT, R.INVALID_LOT),
        ("0", "100.00", OrderType.LIMIT, R.INVALID_QUANTITY),
        ("1", "-1", OrderType.LIMIT, R.INVALID_PRICE),
        ("1", None, OrderType.LIMIT, R.MISSING_PRICE),
        ("1", "100.00", OrderType.STOP_MARKET, R.UNSUPPORTED_ORDER_TYPE),
    ],
)
def test_exchange_invalid_order_is_rejected_with_reason(
    venue: Recorder, quantity: str, price: str | None, order_type: OrderType, reason: R
) -> None:
    cid = venue.submit(BUY, quantity, price, order_type=order_type)

    [report] = venue.reports_for(cid)
    assert (report.kind, report.reason) == (K.REJECTED, reason)
    assert report.venue_order_id == ""


def test_exchange_unknown_instrument_is_rejected(venue: Recorder) -> None:
    cid = venue.submit(BUY, "1", "100.00", instrument_id="ZZZ.SIM")

    assert venue.reports_for(cid)[0].reason == R.UNKNOWN_INSTRUMENT


def test_exchange_duplicate_client_order_id_is_rejected(venue: Recorder) -> None:
    venue.submit(BUY, "1", "99.00", client_order_id="dup")

    venue.submit(BUY, "1", "99.00", client_order_id="dup")

    assert [r.kind for r in venue.reports_for("dup")] == [K.ACCEPTED, K.REJECTED]
    assert venue.reports_for("dup")[-1].reason == R.DUPLICATE_CLIENT_ORDER_ID


def test_exchange_halted_instrument_rejects_then_resumes(venue: Recorder) -> None:
    venue.exchange.halt(INSTRUMENT_ID)
    first = venue.submit(BUY, "1", "99.00")
    venue.exchange.resume(INSTRUMENT_ID)
    second = venue.submit(BUY, "1", "99.00")

    assert venue.reports_for(first)[0].reason == R.INSTRUMENT_HALTED
    assert venue.reports_for(second)[0].kind is K.ACCEPTED


def test_exchange_untradable_instrument_starts_halted() -> None:
    venue = Recorder(instrument(tradable=False))

    cid = venue.submit(BUY, "1", "99.00")

    assert venue.reports_for(cid)[0].reason == R.INSTRUMENT_HALTED


def test_exchange_cancel_working_order_reports_canceled(venue: Recorder) -> None:
    cid = venue.submit(BUY, "10", "99.00")

    venue.cancel(cid)

    last = venue.reports_for(cid)[-1]
    assert (last.kind, last.reason) == (K.CANCELED, R.CANCELED_BY_CLIENT)
    assert last.leaves_qty.raw == 0
    assert venue.exchange.book(INSTRUMENT_ID).best_bid() is None


def test_exchange_cancel_filled_order_is_rejected_too_late(venue: Recorder) -> None:
    _seed_asks(venue)
    cid = venue.submit(BUY, "5", "100.00")

    venue.cancel(cid)

    last = venue.reports_for(cid)[-1]
    assert (last.kind, last.reason) == (K.CANCEL_REJECTED, R.TOO_LATE)


def test_exchange_cancel_unknown_order_is_rejected_unknown(venue: Recorder) -> None:
    venue.cancel("never-sent")

    [report] = venue.reports
    assert (report.kind, report.reason) == (K.CANCEL_REJECTED, R.UNKNOWN_ORDER)


def test_exchange_cancel_all_cancels_only_that_strategy(venue: Recorder) -> None:
    a = venue.submit(BUY, "1", "99.00")
    b = venue.submit(SELL, "1", "101.00")

    venue.exchange.cancel_all(CancelAllOrders(strategy_id="s1", ts_init=0))

    assert venue.reports_for(a)[-1].kind is K.CANCELED
    assert venue.reports_for(b)[-1].kind is K.CANCELED
    assert venue.exchange.book(INSTRUMENT_ID).depth(True) == []


def test_exchange_modify_size_decrease_keeps_priority(venue: Recorder) -> None:
    first = venue.submit(BUY, "10", "99.00")
    second = venue.submit(BUY, "10", "99.00")

    venue.modify(first, quantity="4")
    venue.submit(SELL, "5", "99.00", owner="mm")

    assert venue.reports_for(first)[1].kind is K.MODIFIED
    assert venue.reports_for(first)[-1].kind is K.FILL
    assert venue.reports_for(first)[-1].leaves_qty.raw == 0
    assert venue.reports_for(second)[-1].last_qty is not None
    assert venue.reports_for(second)[-1].cum_qty.raw == raw("1")


def test_exchange_modify_size_increase_loses_priority(venue: Recorder) -> None:
    first = venue.submit(BUY, "10", "99.00")
    second = venue.submit(BUY, "10", "99.00")

    venue.modify(first, quantity="12")
    venue.submit(SELL, "5", "99.00", owner="mm")

    assert venue.reports_for(second)[-1].kind is K.FILL
    assert venue.reports_for(first)[-1].kind is K.MODIFIED
    assert venue.reports_for(first)[-1].leaves_qty.raw == raw("12")


def test_exchange_modify_price_loses_priority_and_can_cross(venue: Recorder) -> None:
    _seed_asks(venue)
    cid = venue.submit(BUY, "10", "99.00")

    venue.modify(cid, price="100.00")

    reports = venue.reports_for(cid)
    assert [r.kind for r in reports] == [K.ACCEPTED, K.MODIFIED, K.FILL]
    assert (reports[-1].cum_qty.raw, reports[-1].leaves_qty.raw) == (raw("5"), raw("5"))
    assert venue.exchange.book(INSTRUMENT_ID).best_bid() == raw("100")


def test_exchange_modify_of_partially_filled_order_keeps_cum(venue: Recorder) -> None:
    cid = venue.submit(BUY, "10", "99.00")
    venue.submit(SELL, "4", "99.00", owner="mm")

    venue.modify(cid, quantity="8")

    last = venue.reports_for(cid)[-1]
    assert last.kind is K.MODIFIED
    assert (last.cum_qty.raw, last.leaves_qty.raw) == (raw("4"), raw("4"))


def test_exchange_modify_below_filled_is_rejected(venue: Recorder) -> None:
    cid = venue.submit(BUY, "10", "99.00")
    venue.submit(SELL, "4", "99.00", owner="mm")

    venue.modify(cid, quantity="4")

    last = venue.reports_for(cid)[-1]
    assert (last.kind, last.reason) == (K.MODIFY_REJECTED, R.QUANTITY_BELOW_FILLED)


def test_exchange_modify_post_only_into_cross_is_rejected(venue: Recorder) -> None:
    _seed_asks(venue)
    cid = venue.submit(BUY, "1", "99.00", post_only=True)

    venue.modify(cid, price="100.00")

    last = venue.reports_for(cid)[-1]
    assert (last.kind, last.reason) == (K.MODIFY_REJECTED, R.POST_ONLY_WOULD_CROSS)
    assert venue.exchange.book(INSTRUMENT_ID).best_bid() == raw("99")


def test_exchange_modify_unknown_and_done_orders_are_rejected(venue: Recorder) -> None:
    cid = venue.submit(BUY, "1", "99.00")
    venue.cancel(cid)

    venue.modify(cid, quantity="2")
    venue.modify("nope", quantity="2")

    assert venue.reports[-2].reason == R.TOO_LATE
    assert (venue.reports[-1].kind, venue.reports[-1].reason) == (
        K.MODIFY_REJECTED,
        R.UNKNOWN_ORDER,
    )


def test_exchange_resting_node_order_gets_maker_fill(venue: Recorder) -> None:
    cid = venue.submit(SELL, "3", "101.00")

    venue.submit(BUY, "5", "101.00", owner="taker")

    fill = venue.reports_for(cid)[-1]
    assert fill.kind is K.FILL
    assert fill.liquidity_side is LiquiditySide.MAKER
    assert fill.cum_qty.raw + fill.leaves_qty.raw == raw("3")


def test_exchange_deltas_are_gap_free_and_mark_last_of_step(venue: Recorder) -> None:
    _seed_asks(venue)
    venue.submit(BUY, "2", "99.00", owner="mm")

    venue.submit(BUY, "12")

    assert [d.sequence for d in venue.deltas] == list(range(1, len(venue.deltas) + 1))
    sweep = venue.deltas[4:]
    assert [(d.action, d.side, d.last) for d in sweep] == [
        (BookAction.DELETE, BookSide.ASK, False),
        (BookAction.DELETE, BookSide.ASK, False),
        (BookAction.UPDATE, BookSide.ASK, True),
    ]
    assert sweep[-1].size.raw == raw("8")
    assert venue.exchange.sequence(INSTRUMENT_ID) == len(venue.deltas)


def test_exchange_snapshot_matches_book_and_sequence(venue: Recorder) -> None:
    _seed_asks(venue)
    venue.submit(BUY, "2", "99.00", owner="mm")

    snapshot = venue.exchange.snapshot(INSTRUMENT_ID)

    assert [(lv.price.raw, lv.size.raw) for lv in snapshot.asks] == [
        (raw("100"), raw("5")),
        (raw("100.01"), raw("5")),
        (raw("100.02"), raw("10")),
    ]
    assert [lv.price.raw for lv in snapshot.bids] == [raw("99")]
    assert snapshot.sequence == 4


def test_exchange_order_status_reports_current_state(venue: Recorder) -> None:
    cid = venue.submit(BUY, "10", "99.00")
    venue.submit(SELL, "4", "99.00", owner="mm")

    status = venue.exchange.order_status(cid)

    assert status is not None
    assert status.kind is K.STATUS
    assert status.reason == "PARTIALLY_FILLED"
    assert (status.cum_qty.raw, status.leaves_qty.raw) == (raw("4"), raw("6"))
    assert venue.exchange.order_status("unknown") is None


def test_exchange_background_place_and_withdraw_move_the_book(venue: Recorder) -> None:
    order = venue.exchange.place("mm", INSTRUMENT_ID, True, raw("99"), raw("5"))
    assert order is not None

    venue.exchange.withdraw(order)

    assert venue.exchange.book(INSTRUMENT_ID).best_bid() is None
    assert [d.action for d in venue.deltas] == [BookAction.ADD, BookAction.DELETE]


def test_exchange_modify_requeue_within_level_does_not_duplicate_order(venue: Recorder) -> None:
    venue.submit(BUY, "1", "99.00", owner="mm")
    cid = venue.submit(BUY, "1", "99.00")

    venue.modify(cid, quantity="2")
    venue.modify(cid, quantity="3")

    book = venue.exchange.book(INSTRUMENT_ID)
    assert book.level_size(True, raw("99")) == raw("4")
    assert sum(o.leaves for o in book.orders_at(True, raw("99"))) == raw("4")


def test_exchange_gtd_without_expire_time_is_rejected(venue: Recorder) -> None:
    cid = venue.submit(BUY, "1", "99.00", tif=TimeInForce.GTD)

    assert venue.reports_for(cid)[0].reason == R.MISSING_EXPIRE_TIME


def test_exchange_expire_working_order_reports_expired(venue: Recorder) -> None:
    cid = venue.submit(BUY, "10", "99.00")
    venue.submit(SELL, "4", "99.00", owner="mm")

    venue.exchange.expire(cid)
    venue.exchange.expire(cid)

    reports = venue.reports_for(cid)
    assert [r.kind for r in reports] == [K.ACCEPTED, K.FILL, K.EXPIRED]
    assert (reports[-1].cum_qty.raw, reports[-1].leaves_qty.raw) == (raw("4"), 0)
    status = venue.exchange.order_status(cid)
    assert status is not None and status.reason == "EXPIRED"
