"""Rebuilding the order manager from its stored events (node restart).

The event store holds, in commit order, the commands the node accepted and every event
the engines published. The OMS's own facts are the order events it published; from them
:class:`OmsRestorer` rebuilds, without publishing, sending or alerting:

* orders (``OrderInitialized``, then every event through the state machine) and their
  trade ids; closed orders beyond ``retain_closed`` are purged as they would have been;
* positions (every fill event, also one for an order already purged: the fill is a fact);
* held stop orders (emulated stops not triggered yet), pending expiries (a cancel sent at
  or after the order's deadline) and the requests still in flight, due at once, so the
  timer reconciles what :meth:`~spreadwire.oms.manager.OrderManager.reconcile_all` did
  not settle;
* pair orders (the stored ``SubmitPairOrder``, its ``PairStateChanged`` events and the
  orders the pair sent itself);
* marks, if quotes were stored.

The risk gate's ``OrderDenied`` and its denied modifies (an ``OrderModifyRejected`` whose
reason is a :class:`~spreadwire.domain.reasons.DenyReason`, unless it is one a venue
answers with too and the order's modify is in flight: see
:func:`~spreadwire.domain.reasons.denied_by_gate`) never reached the OMS and are
skipped. A stored order event the state machine refuses for an order that is held means
the log is not this node's history: :class:`~spreadwire.domain.order.IllegalTransition`
is raised.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Final, final

from spreadwire.domain.commands import SubmitOrder, SubmitPairOrder
from spreadwire.domain.enums import OrderStatus, OrderType
from spreadwire.domain.events import (
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFill,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    PairStateChanged,
)
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.order import Order
from spreadwire.domain.position import Position
from spreadwire.domain.reasons import denied_by_gate
from spreadwire.domain.values import Price
from spreadwire.errors import InvariantError
from spreadwire.oms.book import OrderBook
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.inflight import QUANTITY_BELOW_FILLED, InFlight
from spreadwire.oms.pairs import PairBook
from spreadwire.oms.stops import StopBook, expiry_deadline

S = OrderStatus
#: the events that send a request to the venue
_REQUESTS: Final[dict[type[OrderEvent], str]] = {
    OrderSubmitted: "submit",
    OrderPendingCancel: "cancel",
    OrderPendingUpdate: "modify",
}
_STOPS: Final = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
#: the events that answer a cancel or a modify in flight (any event answers a submit;
#: a fill alone answers neither, a closed order answers all)
_ANSWERS: Final[dict[str, tuple[type[OrderEvent], ...]]] = {
    "cancel": (OrderCanceled, OrderCancelRejected, OrderExpired, OrderRejected),
    "modify": (OrderUpdated, OrderModifyRejected, OrderCanceled, OrderExpired, OrderRejected),
}


@final
class OmsRestorer:
    __slots__ = (
        "_book",
        "_config",
        "_expiring",
        "_in_flight",
        "_marks",
        "_pairs",
        "_position",
        "_stops",
    )

    def __init__(
        self,
        *,
        book: OrderBook,
        stops: StopBook,
        pairs: PairBook,
        in_flight: dict[str, InFlight],
        expiring: set[str],
        position: Callable[[str, str], Position],
        marks: MutableMapping[str, Price],
        config: OmsConfig,
    ) -> None:
        self._book = book
        self._stops = stops
        self._pairs = pairs
        self._in_flight = in_flight
        self._expiring = expiring
        self._position = position
        self._marks = marks
        self._config = config

    def restore(self, message: object) -> None:
        match message:
            case OrderInitialized():
                self._initialized(message)
            case OrderDenied():
                return
            case OrderModifyRejected() if self._denied_by_gate(message):
                return
            case OrderFill():
                self._fill(message)
            case OrderEvent():
                self._event(message)
            case SubmitPairOrder():
                self._pairs.restore_command(message)
            case SubmitOrder() if message.pair_id is not None:
                self._pairs.restore_child(message)
            case PairStateChanged():
                self._pairs.restore_state(message)
            case QuoteTick():
                self._mark(message)

    def _denied_by_gate(self, event: OrderModifyRejected) -> bool:
        order = self._book.get(event.client_order_id)
        in_flight = order is not None and order.status is S.PENDING_UPDATE
        return denied_by_gate(event.reason, modify_in_flight=in_flight)

    def _initialized(self, event: OrderInitialized) -> None:
        if event.client_order_id in self._book:
            raise InvariantError(f"order {event.client_order_id} initialized twice in the log")
        order = Order(event)
        self._book.add(order)
        self._pairs.restore_order(order)

    def _event(self, event: OrderEvent) -> None:
        order = self._book.get(event.client_order_id)
        if order is None:
            return  # purged (closed long ago) or never held: nothing to rebuild
        order.apply(event)
        self._settle(order, event)

    def _fill(self, event: OrderFill) -> None:
        order = self._book.get(event.client_order_id)
        if order is not None:
            if order.can_apply(event):
                order.apply(event)
            else:
                order.trade_ids.add(event.trade_id)  # kept in an illegal state (alerted live)
            self._settle(order, event)
        self._position(event.strategy_id, event.instrument_id).apply_fill(
            event.side, event.last_qty, event.last_px
        )

    def _settle(self, order: Order, event: OrderEvent) -> None:
        """Indexes, held stops, expiries and in-flight requests after ``event``."""
        client_order_id = order.client_order_id
        status = order.status
        was_held = self._stops.holds(order)
        if status.is_terminal:
            self._stops.remove(order)
            self._expiring.discard(client_order_id)
            self._in_flight.pop(client_order_id, None)
            self._book.settle(order)
            return
        if type(event) is OrderSubmitted and self._holds_stop(order):
            self._stops.add(order)
        elif status is not S.SUBMITTED:
            self._stops.remove(order)
        if type(event) is OrderPendingCancel:
            deadline = expiry_deadline(order, self._config.session_close_ns)
            if deadline is not None and event.ts_event >= deadline:
                self._expiring.add(client_order_id)
        self._track_request(order, event, was_held)

    def _holds_stop(self, order: Order) -> bool:
        return order.order_type in _STOPS and self._config.emulate_stops

    def _track_request(self, order: Order, event: OrderEvent, was_held: bool) -> None:
        """The request the order still waits for, as the live manager tracked it (due at
        once: the timer reconciles it). A report that changed nothing left no event, so
        a request may be restored that was answered: reconciling it again is harmless."""
        client_order_id = order.client_order_id
        kind = type(event)
        request = _REQUESTS.get(kind)
        if kind is OrderSubmitted and self._stops.holds(order):
            request = None  # held here: nothing was sent
        elif kind is OrderTriggered and was_held:
            request = "submit"  # the released stop was sent
        if request is not None:
            self._in_flight[client_order_id] = InFlight(request, 0)
            return
        flight = self._in_flight.get(client_order_id)
        if flight is None or getattr(event, "reason", None) == QUANTITY_BELOW_FILLED:
            return
        if flight.request == "submit" or kind in _ANSWERS[flight.request]:
            del self._in_flight[client_order_id]

    def _mark(self, quote: QuoteTick) -> None:
        bid = quote.bid_price
        ask = quote.ask_price
        if bid.raw > 0 and ask.raw > 0:
            self._marks[quote.instrument_id] = Price(
                raw=(bid.raw + ask.raw) // 2,
                precision=min(9, max(bid.precision, ask.precision) + 1),
            )
