"""Order life cycle in the OMS: submit, reports, races, idempotency, positions."""

from __future__ import annotations

from spreadwire.domain.enums import OrderSide, OrderStatus, ReportKind
from spreadwire.domain.values import Price
from tests.unit.oms.support import Harness

K = ReportKind
S = OrderStatus


def test_submit_new_order_publishes_initialized_then_submitted_and_sends() -> None:
    h = Harness()

    order = h.submit()

    assert h.events() == ["OrderInitialized", "OrderSubmitted"]
    assert order.status is S.SUBMITTED
    assert h.sent[0].client_order_id == order.client_order_id


def test_submit_reused_client_order_id_is_refused_with_an_alert() -> None:
    h = Harness()
    h.submit(client_order_id="X")

    again = h.oms.submit(h.sent[0])

    assert again is None
    assert h.alerts() == ["DUPLICATE_CLIENT_ORDER_ID"]
    assert len(h.sent) == 1


def test_report_accepted_moves_order_to_accepted() -> None:
    h = Harness()
    order = h.submit()

    h.report(order, K.ACCEPTED)

    assert order.status is S.ACCEPTED
    assert order.venue_order_id == f"V-{order.client_order_id}"


def test_report_fills_update_order_and_position() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)

    h.fill(order, "4", "100.00")
    h.fill(order, "6", "101.00")

    position = h.oms.position("S1", "AAA.SIM")
    assert order.status is S.FILLED
    assert position is not None
    assert position.quantity_raw == 10 * 10**9
    assert position.avg_open_price() == Price.parse("100.60").as_fraction()
    assert h.events()[-2:] == ["OrderPartiallyFilled", "OrderFilled"]


def test_report_duplicate_trade_id_is_ignored() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.fill(order, "4", trade_id="T-1")

    h.fill(order, "4", trade_id="T-1", cum="4", leaves="6")

    position = h.oms.position("S1", "AAA.SIM")
    assert position is not None and position.quantity_raw == 4 * 10**9
    assert h.oms.duplicates_ignored == 1
    assert h.events().count("OrderPartiallyFilled") == 1


def test_report_cum_plus_leaves_mismatch_raises_an_alert() -> None:
    h = Harness()
    order = h.submit(quantity="10")

    h.report(order, K.ACCEPTED, cum="0", leaves="9")

    assert "CUM_LEAVES_MISMATCH" in h.alerts()


def test_report_overfill_raises_alert_and_keeps_the_fill() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.fill(order, "10")

    h.fill(order, "2", cum="12", leaves="0")

    position = h.oms.position("S1", "AAA.SIM")
    assert "OVERFILL" in h.alerts()
    assert position is not None and position.quantity_raw == 12 * 10**9
    assert order.status is S.FILLED
    assert order.overfilled_raw == 2 * 10**9


def test_cancel_working_order_goes_pending_then_canceled() -> None:
    h = Harness()
    order = h.submit()
    h.report(order, K.ACCEPTED)

    h.cancel(order)
    pending = order.status
    h.report(order, K.CANCELED, leaves="0")

    assert pending is S.PENDING_CANCEL
    assert order.status is S.CANCELED
    assert h.sent[-1].client_order_id == order.client_order_id


def test_fill_after_cancel_request_fills_the_order() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.cancel(order)

    h.fill(order, "10")
    h.report(order, K.CANCEL_REJECTED, reason="TOO_LATE", leaves="0")

    assert order.status is S.FILLED
    assert "ILLEGAL_TRANSITION" not in h.alerts()


def test_cancel_rejected_too_late_returns_partially_filled_order_to_working() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.fill(order, "3")
    h.cancel(order)

    h.report(order, K.CANCEL_REJECTED, reason="TOO_LATE")

    assert order.status is S.PARTIALLY_FILLED


def test_late_fill_after_cancel_counts_in_the_position() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.cancel(order)
    h.report(order, K.CANCELED, leaves="0")

    h.fill(order, "3", cum="3", leaves="0")

    position = h.oms.position("S1", "AAA.SIM")
    assert order.status is S.CANCELED
    assert position is not None and position.quantity_raw == 3 * 10**9


def test_modify_partially_filled_order_updates_quantity() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.fill(order, "4")

    h.modify(order, quantity="6")
    pending = order.status
    h.report(order, K.MODIFIED, quantity="6")

    assert pending is S.PENDING_UPDATE
    assert order.status is S.PARTIALLY_FILLED
    assert order.quantity.raw == 6 * 10**9
    assert order.leaves_qty.raw == 2 * 10**9


def test_modify_below_filled_quantity_is_rejected_locally() -> None:
    h = Harness()
    order = h.submit(quantity="10")
    h.report(order, K.ACCEPTED)
    h.fill(order, "4")

    ok = h.modify(order, quantity="4")

    assert not ok
    assert h.events()[-1] == "OrderModifyRejected"
    assert order.status is S.PARTIALLY_FILLED


def test_venue_reject_moves_submitted_order_to_rejected() -> None:
    h = Harness()
    order = h.submit()

    h.report(order, K.REJECTED, cum="0", leaves="0", reason="POST_ONLY_WOULD_CROSS")

    assert order.status is S.REJECTED
    assert order.events[-1].reason == "POST_ONLY_WOULD_CROSS"  # type: ignore[attr-defined]


def test_report_for_unknown_order_raises_an_alert() -> None:
    h = Harness()
    order = Harness().submit(client_order_id="ELSEWHERE-1")

    h.report(order, K.ACCEPTED)

    assert h.alerts() == ["UNKNOWN_ORDER_REPORT"]


def test_open_orders_filters_by_strategy_and_instrument() -> None:
    h = Harness()
    h.submit(strategy_id="S1")
    h.submit(strategy_id="S2")
    h.submit(strategy_id="S2", instrument_id="BBB.SIM", price="50.00")

    assert len(h.oms.open_orders()) == 3
    assert len(h.oms.open_orders("S2")) == 2
    assert len(h.oms.open_orders("S2", "BBB.SIM")) == 1


def test_pnl_reports_realized_and_unrealized_at_marks() -> None:
    h = Harness()
    buy = h.submit(quantity="10")
    h.fill(buy, "10", "100.00")
    sell = h.submit(OrderSide.SELL, quantity="4", price="101.00")
    h.fill(sell, "4", "101.00")

    lines = h.oms.pnl({"AAA.SIM": Price.parse("102.00")})

    assert lines[0].realized == "4.00"
    assert lines[0].unrealized == "12.00"
    assert lines[0].total == "16.00"
