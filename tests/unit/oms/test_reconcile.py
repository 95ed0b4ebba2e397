"""Unknown outcomes: requests without an answer are reconciled with the venue's status."""

from __future__ import annotations

from spreadwire.domain.enums import OrderStatus, ReportKind
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Quantity
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.manager import UNKNOWN_AT_VENUE
from tests.unit.oms.support import SECOND, Harness

S = OrderStatus


def _status(h: Harness, client_order_id: str, venue_status: S, cum: int, leaves: int) -> None:
    order = h.oms.order(client_order_id)
    assert order is not None
    h.venue[client_order_id] = ExecutionReport(
        kind=ReportKind.STATUS,
        instrument_id=order.instrument_id,
        client_order_id=client_order_id,
        venue_order_id=f"V-{client_order_id}",
        side=order.side,
        cum_qty=Quantity(raw=cum * 10**9, precision=0),
        leaves_qty=Quantity(raw=leaves * 10**9, precision=0),
        quantity=order.quantity,
        price=order.price,
        reason=str(venue_status),
        ts_event=h.clock.timestamp_ns(),
    )


def test_in_flight_submit_before_timeout_is_not_queried() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    h.submit()
    h.clock.advance(SECOND - 1)

    due = h.oms.check_in_flight()

    assert due == 0
    assert h.alerts() == []


def test_in_flight_submit_working_at_venue_becomes_accepted() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    order = h.submit(quantity="10")
    _status(h, order.client_order_id, S.ACCEPTED, 0, 10)
    h.clock.advance(SECOND)

    h.oms.check_in_flight()

    assert order.status is S.ACCEPTED
    assert h.oms.in_flight() == []
    assert "UNKNOWN_OUTCOME" in h.alerts()


def test_in_flight_submit_unknown_at_venue_stays_in_flight_until_confirmed() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND, unknown_confirmations=2))
    order = h.submit()
    h.clock.advance(SECOND)

    h.oms.check_in_flight()
    after_first = order.status
    h.clock.advance(SECOND)
    h.oms.check_in_flight()

    assert after_first is S.SUBMITTED
    assert order.status is S.REJECTED
    assert order.events[-1].reason == UNKNOWN_AT_VENUE  # type: ignore[attr-defined]


def test_in_flight_without_reconciliation_port_stays_unknown() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    h.oms._query_order = None
    order = h.submit()
    h.clock.advance(10 * SECOND)

    h.oms.check_in_flight()
    h.oms.check_in_flight(h.clock.timestamp_ns() + 5 * SECOND)

    assert order.status is S.SUBMITTED
    assert h.alerts().count("UNKNOWN_OUTCOME") == 1
    assert h.oms.in_flight() == [order.client_order_id]


def test_in_flight_cancel_still_working_at_venue_returns_to_accepted() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    order = h.submit(quantity="10")
    h.report(order, ReportKind.ACCEPTED)
    h.cancel(order)
    _status(h, order.client_order_id, S.ACCEPTED, 0, 10)
    h.clock.advance(SECOND)

    h.oms.check_in_flight()

    assert order.status is S.ACCEPTED


def test_in_flight_cancel_done_at_venue_becomes_canceled() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    order = h.submit(quantity="10")
    h.report(order, ReportKind.ACCEPTED)
    h.cancel(order)
    _status(h, order.client_order_id, S.CANCELED, 0, 0)
    h.clock.advance(SECOND)

    h.oms.check_in_flight()

    assert order.status is S.CANCELED


def test_reconcile_with_more_venue_fills_waits_for_them_and_alerts() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    order = h.submit(quantity="10")
    h.report(order, ReportKind.ACCEPTED)
    h.cancel(order)
    _status(h, order.client_order_id, S.PARTIALLY_FILLED, 4, 6)
    h.clock.advance(SECOND)

    h.oms.check_in_flight()

    assert "RECONCILE_MISSING_FILLS" in h.alerts()
    assert order.filled_qty.raw == 0
    assert h.oms.position("S1", "AAA.SIM") is None
    assert h.oms.in_flight() == [order.client_order_id]


def test_disconnect_makes_in_flight_requests_due_now() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=10 * SECOND))
    h.submit()

    marked = h.oms.on_disconnect("SIM")
    due = h.oms.check_in_flight()

    assert marked == 1
    assert due == 1


def test_reconcile_all_queries_every_open_order() -> None:
    h = Harness()
    first = h.submit()
    second = h.submit()
    h.report(first, ReportKind.ACCEPTED)
    h.report(second, ReportKind.ACCEPTED)
    _status(h, first.client_order_id, S.CANCELED, 0, 0)
    _status(h, second.client_order_id, S.ACCEPTED, 0, 10)

    count = h.oms.reconcile_all("SIM")

    assert count == 2
    assert first.status is S.CANCELED
    assert second.status is S.ACCEPTED


def test_in_flight_cancel_stays_in_flight_after_a_fill_until_answered() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    order = h.submit(quantity="10")
    h.report(order, ReportKind.ACCEPTED)
    h.cancel(order)

    h.fill(order, "3")
    after_fill = h.oms.in_flight()
    h.report(order, ReportKind.CANCELED, leaves="0")

    assert after_fill == [order.client_order_id]
    assert h.oms.in_flight() == []
    assert order.status is S.CANCELED


def test_in_flight_lost_cancel_after_a_fill_is_settled_by_the_venue_status() -> None:
    h = Harness(OmsConfig(ack_timeout_ns=SECOND))
    order = h.submit(quantity="10")
    h.report(order, ReportKind.ACCEPTED)
    h.cancel(order)
    h.fill(order, "3")
    _status(h, order.client_order_id, S.PARTIALLY_FILLED, 3, 7)
    h.clock.advance(SECOND)

    h.oms.check_in_flight()

    assert order.status is S.PARTIALLY_FILLED
    assert h.oms.in_flight() == []
