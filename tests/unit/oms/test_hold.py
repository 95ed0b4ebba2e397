"""Held submits: orders go to the venue first, their events follow at release, and each
order's events stay in order whatever reaches the manager in between."""

from __future__ import annotations

from spreadwire.domain.enums import OrderStatus, ReportKind
from spreadwire.domain.events import OrderEvent
from spreadwire.domain.order import Order
from tests.unit.oms.support import Harness

K = ReportKind
S = OrderStatus


def _order_events(h: Harness) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.client_order_id) for e in h.published if isinstance(e, OrderEvent)]


def _status(order: Order) -> OrderStatus:
    return order.status  # read through a call: the status changes under mypy's narrowing


def test_held_submits_are_sent_at_once_and_announced_at_release_in_order() -> None:
    h = Harness()
    h.oms.hold()
    first = h.submit(client_order_id="A")
    second = h.submit(client_order_id="B", instrument_id="BBB.SIM")

    assert [c.client_order_id for c in h.sent] == ["A", "B"]
    assert _order_events(h) == []
    assert first.status is S.INITIALIZED and first.events == []

    h.oms.release()

    assert _order_events(h) == [
        ("OrderInitialized", "A"),
        ("OrderSubmitted", "A"),
        ("OrderInitialized", "B"),
        ("OrderSubmitted", "B"),
    ]
    assert _status(first) is S.SUBMITTED and _status(second) is S.SUBMITTED
    assert [type(e).__name__ for e in first.events] == ["OrderInitialized", "OrderSubmitted"]


def test_without_hold_the_events_follow_the_send_within_submit() -> None:
    h = Harness()
    order = h.submit()

    assert len(h.sent) == 1
    assert order.status is S.SUBMITTED
    assert h.events() == ["OrderInitialized", "OrderSubmitted"]


def test_a_report_while_held_announces_the_held_orders_first() -> None:
    h = Harness()
    h.oms.hold()
    order = h.submit(client_order_id="A")

    h.report(order, K.ACCEPTED)  # a venue answering before the hold is released

    assert _order_events(h) == [
        ("OrderInitialized", "A"),
        ("OrderSubmitted", "A"),
        ("OrderAccepted", "A"),
    ]
    h.oms.release()
    assert order.status is S.ACCEPTED
    assert len(_order_events(h)) == 3


def test_a_cancel_while_held_announces_the_held_orders_first() -> None:
    h = Harness()
    h.oms.hold()
    order = h.submit(client_order_id="A")

    assert h.cancel(order)

    assert _order_events(h) == [
        ("OrderInitialized", "A"),
        ("OrderSubmitted", "A"),
        ("OrderPendingCancel", "A"),
    ]
    h.oms.release()
    assert order.status is S.PENDING_CANCEL


def test_a_duplicate_client_order_id_is_refused_while_held() -> None:
    h = Harness()
    h.oms.hold()
    h.submit(client_order_id="X")

    assert h.oms.submit(h.sent[0]) is None

    h.oms.release()
    assert h.alerts() == ["DUPLICATE_CLIENT_ORDER_ID"]
    assert len(h.sent) == 1
    assert h.events("X") == ["OrderInitialized", "OrderSubmitted"]


def test_a_venue_answering_inside_send_sees_an_announced_order() -> None:
    h = Harness()
    seen: list[OrderStatus] = []

    def send(command: object) -> None:
        h.sent.append(command)
        order = h.oms.order(h.sent[-1].client_order_id)
        assert order is not None
        h.report(order, K.ACCEPTED)
        seen.append(order.status)

    h.oms._send = send  # a synchronous venue
    h.oms.hold()
    order = h.submit(client_order_id="A")
    h.oms.release()

    assert seen == [S.ACCEPTED]
    assert [type(e).__name__ for e in order.events] == [
        "OrderInitialized",
        "OrderSubmitted",
        "OrderAccepted",
    ]
