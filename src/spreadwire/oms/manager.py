"""The order manager: orders through their state machine, fills into positions.

Commands come in (from the risk gate) and go out to the venue through ``send``; venue
execution reports come back through :meth:`OrderManager.on_report`. Every fact is an
order event applied to the :class:`~spreadwire.domain.order.Order` aggregate and then
published (so the event store records it). Guarantees:

* client order ids are unique (a reused id is refused with an alert, never overwrites);
* reports are idempotent: a fill whose ``trade_id`` was seen is ignored;
* ``cum + leaves == quantity`` is checked on every live report; a mismatch or an overfill
  raises an alert and the fill is kept (positions always equal the sum of fills);
* a request without an answer within ``ack_timeout_ns`` stays in flight and is reconciled
  against the venue's order status (``query_order``); nothing is assumed or invented;
* stop and stop-limit orders are held here and released when triggered (``emulate_stops``);
  DAY and GTD orders are expired (canceled at the venue, reported as ``OrderExpired``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from fractions import Fraction
from typing import Any, Final, final

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    ModifyOrder,
    SubmitOrder,
    SubmitPairOrder,
)
from spreadwire.domain.enums import (
    LiquiditySide,
    OrderStatus,
    OrderType,
    ReportKind,
)
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPartiallyFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    TradingAlert,
)
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.order import Order
from spreadwire.domain.position import Position
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.oms.book import OrderBook
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.inflight import QUANTITY_BELOW_FILLED, InFlight
from spreadwire.oms.marks import QuoteMarks
from spreadwire.oms.pairs import PairBook, PairOrder
from spreadwire.oms.pnl import PnlLine, pnl_lines, total_pnl
from spreadwire.oms.restore import OmsRestorer
from spreadwire.oms.stops import StopBook, released_order

log = logging.getLogger("spreadwire.oms")

S: Final = OrderStatus
K: Final = ReportKind
_LIVE_REPORTS: Final = frozenset({K.ACCEPTED, K.FILL, K.MODIFIED, K.TRIGGERED})
UNKNOWN_AT_VENUE: Final = "UNKNOWN_AT_VENUE"
#: The longest wait, in ack timeouts, between queries for an order the venue had
#: acknowledged and no longer knows (the wait doubles from one ack timeout).
RECONCILE_BACKOFF_MAX: Final = 32


@final
class OrderManager:
    __slots__ = (
        "_alerts",
        "_book",
        "_clock",
        "_config",
        "_duplicates",
        "_expiring",
        "_held",
        "_holding",
        "_in_flight",
        "_instruments",
        "_marks",
        "_pairs",
        "_positions",
        "_publish",
        "_query_order",
        "_report_handlers",
        "_restorer",
        "_route",
        "_send",
        "_stops",
    )

    def __init__(
        self,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        *,
        send: Callable[[Any], None],
        publish: Callable[[object], None],
        query_order: Callable[[str], ExecutionReport | None] | None = None,
        route: Callable[[SubmitOrder], object] | None = None,
        config: OmsConfig | None = None,
    ) -> None:
        """``send`` goes to the venue gateway, ``publish`` to the bus; ``query_order`` is
        the reconciliation port (the venue's STATUS report, None when the venue does not
        know the order); ``route`` is where orders this manager creates itself (pair
        completion and unwind) go, normally the risk gate's ``execute`` (default: submit
        them directly)."""
        self._clock = clock
        self._instruments = dict(instruments)
        self._send = send
        self._publish = publish
        self._query_order = query_order
        self._route = route
        self._config = config or OmsConfig()
        self._book = OrderBook(
            retain_closed=self._config.retain_closed,
            session_close_ns=self._config.session_close_ns,
            on_purge=self._on_purge,
        )
        self._positions: dict[tuple[str, str], Position] = {}
        self._in_flight: dict[str, InFlight] = {}
        # orders sent while held, whose events follow at release (see hold)
        self._holding = False
        self._held: list[tuple[Order, SubmitOrder, int]] = []
        self._expiring: set[str] = set()
        self._marks = QuoteMarks()
        self._alerts = 0
        self._duplicates = 0
        self._stops = StopBook()
        self._pairs = PairBook(
            clock,
            route=route or self.submit,
            cancel=self.cancel,
            lookup=self._book.get,
            publish=publish,
            retain_final=self._config.retain_closed,
        )
        self._restorer: OmsRestorer | None = None
        self._report_handlers: dict[ReportKind, Callable[[Order, ExecutionReport], None]] = {
            K.ACCEPTED: self._on_accepted,
            K.REJECTED: self._on_rejected,
            K.FILL: self._on_fill,
            K.CANCELED: self._on_canceled,
            K.EXPIRED: self._on_expired,
            K.MODIFIED: self._on_modified,
            K.TRIGGERED: self._on_triggered,
            K.CANCEL_REJECTED: self._on_cancel_rejected,
            K.MODIFY_REJECTED: self._on_modify_rejected,
            K.STATUS: self._on_status,
        }

    # ------------------------------------------------------------------ commands

    def execute(self, command: object) -> None:
        """Dispatch one trading command (what the risk gate forwards)."""
        match command:
            case SubmitOrder():
                self.submit(command)
            case CancelOrder():
                self.cancel(command)
            case ModifyOrder():
                self.modify(command)
            case CancelAllOrders():
                self.cancel_all(command)
            case SubmitPairOrder():
                self.submit_pair(command)
            case _:
                raise TypeError(f"command: {type(command).__name__} is not an OMS command")

    def submit(self, cmd: SubmitOrder) -> Order | None:
        """Create the order, send it, then publish ``OrderInitialized`` +
        ``OrderSubmitted`` (held until :meth:`release` while :meth:`hold` is on).

        The venue gets the order before its events are built: reports come back through
        the event loop, never inside this call, so the order (booked and in flight before
        the send) has its two events before anything can answer it. Emulated stop orders
        are not sent: they are booked with their events and held until triggered."""
        client_order_id = cmd.client_order_id
        if client_order_id in self._book:
            self._alert(
                "DUPLICATE_CLIENT_ORDER_ID",
                f"client order id {client_order_id} is already in use; command ignored",
                client_order_id,
                "critical",
            )
            return None
        now = self._clock.timestamp_ns()
        order = Order.sent(cmd, now)
        self._book.add(order)
        if cmd.order_type in _STOPS and self._config.emulate_stops:
            self._announce(order, cmd, now)
            self._stops.add(order)
            return order
        self._in_flight[client_order_id] = InFlight("submit", now + self._config.ack_timeout_ns)
        self._held.append((order, cmd, now))
        self._send(cmd)
        if not self._holding:
            self._announce_held()
        return order

    def hold(self) -> None:
        """From now until :meth:`release`, :meth:`submit` sends at once and publishes the
        new orders' events afterwards: the second order of a decision (a pair's other
        leg) reaches the venue without waiting for the first one's events. Anything else
        that reaches the manager meanwhile (a report from a venue that answers inside
        ``send``, a cancel) publishes the held events first, so every order's events
        stay in order."""
        self._holding = True

    def release(self) -> None:
        """Publish the events of the orders sent while held, in the order sent."""
        self._holding = False
        if self._held:
            self._announce_held()

    def _announce_held(self) -> None:
        held = self._held
        self._held = []
        for order, cmd, now in held:
            self._announce(order, cmd, now)

    def _announce(self, order: Order, cmd: SubmitOrder, now: int) -> None:
        strategy_id = cmd.strategy_id
        instrument_id = cmd.instrument_id
        client_order_id = cmd.client_order_id
        init = OrderInitialized(
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            client_order_id=client_order_id,
            side=cmd.side,
            order_type=cmd.order_type,
            quantity=cmd.quantity,
            price=cmd.price,
            trigger_price=cmd.trigger_price,
            time_in_force=cmd.time_in_force,
            expire_time_ns=cmd.expire_time_ns,
            post_only=cmd.post_only,
            reduce_only=cmd.reduce_only,
            pair_id=cmd.pair_id,
            ts_event=now,
            ts_init=now,
        )
        order.initialized(init)
        publish = self._publish
        publish(init)
        submitted = OrderSubmitted(
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            client_order_id=client_order_id,
            ts_event=now,
            ts_init=now,
        )
        # a SUBMITTED order is not closed: nothing for the book to settle
        order.apply_submitted(submitted)
        publish(submitted)

    def cancel(self, cmd: CancelOrder) -> bool:
        """Ask the venue to cancel a working order (publishes ``OrderPendingCancel``)."""
        if self._held:
            self._announce_held()
        order = self._book.get(cmd.client_order_id)
        if order is None or not order.is_open:
            return False
        now = self._clock.timestamp_ns()
        if self._stops.holds(order):
            self._stops.remove(order)
            self._apply(order, self._event(OrderPendingCancel, order, now))
            self._apply(order, self._event(OrderCanceled, order, now))
            return True
        if order.status is not S.PENDING_CANCEL:
            self._apply(
                order,
                OrderPendingCancel(
                    strategy_id=order.strategy_id,
                    instrument_id=order.instrument_id,
                    client_order_id=order.client_order_id,
                    ts_event=now,
                    ts_init=now,
                ),
            )
        self._in_flight[order.client_order_id] = InFlight(
            "cancel", now + self._config.ack_timeout_ns
        )
        self._send(cmd)
        return True

    def modify(self, cmd: ModifyOrder) -> bool:
        """Ask the venue to amend a working order (publishes ``OrderPendingUpdate``)."""
        if self._held:
            self._announce_held()
        order = self._book.get(cmd.client_order_id)
        if order is None or not order.is_open or order.status is S.PENDING_CANCEL:
            return False
        now = self._clock.timestamp_ns()
        if cmd.quantity is not None and cmd.quantity.raw <= order.filled_qty.raw:
            self._apply(
                order,
                self._event(OrderModifyRejected, order, now, reason=QUANTITY_BELOW_FILLED),
            )
            return False
        if self._stops.holds(order):
            self._apply(order, self._event(OrderPendingUpdate, order, now))
            self._apply(order, self._updated(order, cmd, now))
            return True
        self._apply(order, self._event(OrderPendingUpdate, order, now))
        self._in_flight[order.client_order_id] = InFlight(
            "modify", now + self._config.ack_timeout_ns
        )
        self._send(cmd)
        return True

    def cancel_all(self, cmd: CancelAllOrders) -> int:
        """Cancel every working order of the strategy (one instrument or all)."""
        sent = 0
        for order in self.open_orders(cmd.strategy_id, cmd.instrument_id):
            if order.status is not S.PENDING_CANCEL:
                sent += self.cancel(
                    CancelOrder(
                        strategy_id=order.strategy_id,
                        instrument_id=order.instrument_id,
                        client_order_id=order.client_order_id,
                        ts_init=cmd.ts_init,
                    )
                )
        return sent

    def submit_pair(self, cmd: SubmitPairOrder) -> bool:
        """Submit both legs as one decision and manage legging (see ``oms.pairs``)."""
        if self._held:
            self._announce_held()
        return self._pairs.submit(cmd, self.submit)

    # ------------------------------------------------------------------ reports

    def on_report(self, report: ExecutionReport) -> None:
        """Apply one venue execution report through the order's state machine."""
        if self._held:
            self._announce_held()
        order = self._book.get(report.client_order_id)
        if order is None:
            self._unknown_report(report)
            return
        if report.kind in _LIVE_REPORTS:
            self._check_quantities(order, report)
        self._report_handlers[report.kind](order, report)
        flight = self._in_flight.get(order.client_order_id)
        if flight is not None and flight.answered_by(order, report):
            del self._in_flight[order.client_order_id]
        self._pairs.on_order(order)

    def _unknown_report(self, report: ExecutionReport) -> None:
        """A report for an order this manager does not hold: never seen, or closed and
        purged (``retain_closed``). Nothing is applied; a fill is critical, since it may
        be a late fill the position does not count (or a duplicate: it cannot tell)."""
        if report.kind is K.FILL:
            self._alert(
                "FILL_FOR_UNKNOWN_ORDER",
                f"fill {report.trade_id} for {report.client_order_id}, an order not held "
                "(unknown or purged): not applied; reconcile the position with the venue",
                report.client_order_id,
                "critical",
            )
            return
        self._alert(
            "UNKNOWN_ORDER_REPORT",
            f"{report.kind} report for unknown order {report.client_order_id}",
            report.client_order_id,
        )

    def _on_purge(self, client_order_id: str) -> None:
        """A closed order left memory: drop whatever else was kept for it."""
        self._in_flight.pop(client_order_id, None)
        self._expiring.discard(client_order_id)

    def _check_quantities(self, order: Order, report: ExecutionReport) -> None:
        quantity = report.quantity.raw if report.quantity is not None else order.quantity.raw
        total = report.cum_qty.raw + report.leaves_qty.raw
        if total not in (quantity, order.quantity.raw):
            self._alert(
                "CUM_LEAVES_MISMATCH",
                f"{order.client_order_id}: cum {report.cum_qty} + leaves {report.leaves_qty} "
                f"!= quantity {order.quantity}",
                order.client_order_id,
            )

    def _on_accepted(self, order: Order, report: ExecutionReport) -> None:
        event = OrderAccepted(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=report.venue_order_id,
            ts_event=report.ts_event,
            ts_init=self._clock.timestamp_ns(),
        )
        if order.can_apply(event) and order.venue_order_id is None:
            self._apply(order, event)
        else:
            self._duplicates += 1

    def _on_rejected(self, order: Order, report: ExecutionReport) -> None:
        self._stops.remove(order)
        self._transition(
            order, self._event(OrderRejected, order, report.ts_event, reason=report.reason)
        )

    def _on_fill(self, order: Order, report: ExecutionReport) -> None:
        trade_id = report.trade_id
        last_qty = report.last_qty
        last_px = report.last_px
        if trade_id is None or last_qty is None or last_px is None or last_qty.raw <= 0:
            self._alert("MALFORMED_FILL", f"fill report without trade id, qty or price: {report}")
            return
        if trade_id in order.trade_ids:
            self._duplicates += 1
            return
        cum = order.filled_qty.raw + last_qty.raw
        if cum != report.cum_qty.raw:
            self._alert(
                "CUM_QTY_GAP",
                f"{order.client_order_id}: venue cum {report.cum_qty}, sum of fills "
                f"{Quantity(raw=cum, precision=last_qty.precision)} (a fill is missing or late)",
                order.client_order_id,
            )
        quantity = order.quantity.raw
        if cum > quantity:
            self._alert(
                "OVERFILL",
                f"{order.client_order_id}: filled {cum} raw of {quantity} raw; fill kept",
                order.client_order_id,
                "critical",
            )
        leaves = max(0, quantity - cum)
        event_type = OrderFilled if leaves == 0 else OrderPartiallyFilled
        precision = max(order.quantity.precision, last_qty.precision)
        event = event_type(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=report.venue_order_id,
            trade_id=trade_id,
            side=order.side,
            last_qty=last_qty,
            last_px=last_px,
            cum_qty=_same_or_new(report.cum_qty, cum, precision),
            leaves_qty=_same_or_new(report.leaves_qty, leaves, precision),
            liquidity_side=report.liquidity_side or _TAKER,
            ts_event=report.ts_event,
            ts_init=self._clock.timestamp_ns(),
        )
        self._stops.remove(order)
        if order.status is S.REJECTED:
            self._alert(
                "FILL_AFTER_REJECT",
                f"{order.client_order_id}: the venue filled a rejected order; fill kept",
                order.client_order_id,
                "critical",
            )
        if order.can_apply(event):
            order.apply(event)
            self._book.settle(order)
        else:
            order.trade_ids.add(trade_id)
            self._alert(
                "FILL_IN_ILLEGAL_STATE",
                f"{order.client_order_id}: fill in status {order.status}; position updated",
                order.client_order_id,
                "critical",
            )
        self._position(order.strategy_id, order.instrument_id).apply_fill(
            order.side, last_qty, last_px
        )
        self._publish(event)

    def _on_canceled(self, order: Order, report: ExecutionReport) -> None:
        self._stops.remove(order)
        if order.client_order_id in self._expiring:
            self._expiring.discard(order.client_order_id)
            self._transition(order, self._event(OrderExpired, order, report.ts_event))
            return
        self._transition(order, self._event(OrderCanceled, order, report.ts_event))

    def _on_expired(self, order: Order, report: ExecutionReport) -> None:
        self._stops.remove(order)
        self._expiring.discard(order.client_order_id)
        self._transition(order, self._event(OrderExpired, order, report.ts_event))

    def _on_modified(self, order: Order, report: ExecutionReport) -> None:
        event = OrderUpdated(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            quantity=report.quantity if report.quantity is not None else order.quantity,
            price=report.price,
            ts_event=report.ts_event,
            ts_init=self._clock.timestamp_ns(),
        )
        self._transition(order, event)

    def _on_triggered(self, order: Order, report: ExecutionReport) -> None:
        self._transition(order, self._event(OrderTriggered, order, report.ts_event))

    def _on_cancel_rejected(self, order: Order, report: ExecutionReport) -> None:
        self._transition(
            order, self._event(OrderCancelRejected, order, report.ts_event, reason=report.reason)
        )

    def _on_modify_rejected(self, order: Order, report: ExecutionReport) -> None:
        self._transition(
            order, self._event(OrderModifyRejected, order, report.ts_event, reason=report.reason)
        )

    def _on_status(self, order: Order, report: ExecutionReport) -> None:
        """A STATUS report (reconciliation): derive only what the venue's view proves."""
        if report.cum_qty.raw > order.filled_qty.raw:
            self._alert(
                "RECONCILE_MISSING_FILLS",
                f"{order.client_order_id}: venue cum {report.cum_qty} > ours "
                f"{order.filled_qty}; waiting for the fills",
                order.client_order_id,
                "critical",
            )
            return
        if report.leaves_qty.raw > 0:
            self._reconcile_working(order, report)
        elif not order.is_terminal:
            venue_status = report.reason
            if venue_status == S.FILLED:
                return  # the fills are missing, alerted above when cum differs
            event_type = OrderExpired if venue_status == S.EXPIRED else OrderCanceled
            if venue_status == S.REJECTED:
                self._transition(
                    order, self._event(OrderRejected, order, report.ts_event, reason="RECONCILED")
                )
                return
            self._transition(order, self._event(event_type, order, report.ts_event))

    def _reconcile_working(self, order: Order, report: ExecutionReport) -> None:
        status = order.status
        now = report.ts_event
        if status is S.SUBMITTED and order.venue_order_id is None:
            self._on_accepted(order, report)
        elif status is S.PENDING_CANCEL:
            self._transition(
                order,
                self._event(OrderCancelRejected, order, now, reason="RECONCILED_STILL_WORKING"),
            )
        elif status is S.PENDING_UPDATE:
            quantity = report.quantity or order.quantity
            if quantity != order.quantity or (
                report.price is not None and report.price != order.price
            ):
                self._on_modified(order, report)
            else:
                self._transition(
                    order, self._event(OrderModifyRejected, order, now, reason="RECONCILED")
                )

    # ------------------------------------------------------------------ restart

    def restore(self, message: object) -> None:
        """Rebuild state from one stored message (commit order), without publishing,
        sending or alerting: orders (``OrderInitialized`` + every order event), trade ids,
        positions, held stops, in-flight requests, pending expiries and pair orders.
        Messages that are not the OMS's facts (denials, risk and market-data events) are
        skipped. After the whole log, call :meth:`reconcile_all` (see ``docs/risk.md``).
        """
        restorer = self._restorer
        if restorer is None:
            restorer = self._restorer = OmsRestorer(
                book=self._book,
                stops=self._stops,
                pairs=self._pairs,
                in_flight=self._in_flight,
                expiring=self._expiring,
                position=self._position,
                marks=self._marks,
                config=self._config,
            )
        restorer.restore(message)

    # ------------------------------------------------------------------ timers

    def check_in_flight(self, now: int | None = None) -> int:
        """Reconcile requests unanswered for ``ack_timeout_ns``; return how many were due."""
        if now is None:
            now = self._clock.timestamp_ns()
        due = [cid for cid, flight in self._in_flight.items() if flight.due_ns <= now]
        for client_order_id in due:
            self._reconcile(client_order_id, now)
        return len(due)

    def _reconcile(self, client_order_id: str, now: int) -> None:
        flight = self._in_flight[client_order_id]
        order = self._book[client_order_id]
        flight.attempts += 1
        flight.due_ns = now + self._config.ack_timeout_ns
        if flight.attempts == 1:
            self._alert(
                "UNKNOWN_OUTCOME",
                f"{client_order_id}: no answer to {flight.request} within the ack timeout",
                client_order_id,
            )
        if self._query_order is None:
            return
        try:
            report = self._query_order(client_order_id)
        except Exception as exc:
            self._alert("RECONCILE_FAILED", f"{client_order_id}: {exc!r}", client_order_id)
            return
        if report is None:
            self._on_unknown_at_venue(order, flight)
            return
        flight.unknown = 0
        self.on_report(report)

    def _on_unknown_at_venue(self, order: Order, flight: InFlight) -> None:
        flight.unknown += 1
        if order.status is not S.SUBMITTED or flight.request != "submit":
            # An order the venue acknowledged and no longer knows is for an operator to
            # settle (it may have filled): one critical alert, then the queries go on at
            # a doubling interval (up to RECONCILE_BACKOFF_MAX ack timeouts), not a new
            # alert and query every ack timeout for as long as it takes.
            if flight.unknown == 1:
                self._alert(
                    "RECONCILE_UNKNOWN",
                    f"{order.client_order_id}: the venue does not know this order",
                    order.client_order_id,
                    "critical",
                )
            backoff = min(1 << (flight.unknown - 1), RECONCILE_BACKOFF_MAX)
            flight.due_ns = self._clock.timestamp_ns() + backoff * self._config.ack_timeout_ns
            return
        if flight.unknown >= self._config.unknown_confirmations:
            self._transition(
                order,
                self._event(
                    OrderRejected, order, self._clock.timestamp_ns(), reason=UNKNOWN_AT_VENUE
                ),
            )
            self._in_flight.pop(order.client_order_id, None)
            self._pairs.on_order(order)

    def on_disconnect(self, venue: str) -> int:
        """The venue session dropped: every request in flight there is due now."""
        count = 0
        for client_order_id, flight in self._in_flight.items():
            instrument = self._instruments.get(self._book[client_order_id].instrument_id)
            if instrument is not None and instrument.venue == venue:
                flight.due_ns = 0
                count += 1
        return count

    def reconcile_all(self, venue: str | None = None) -> int:
        """Query the venue for every open order (after a reconnect, or after
        :meth:`restore` on start-up): the venue's STATUS report is applied like any
        report; an order the venue does not know (or a failing query) stays in flight and
        the timer's unknown-outcome path resolves it. Return how many were queried."""
        count = 0
        for order in list(self.open_orders()):
            instrument = self._instruments.get(order.instrument_id)
            if venue is not None and (instrument is None or instrument.venue != venue):
                continue
            if self._stops.holds(order) or self._query_order is None:
                continue
            client_order_id = order.client_order_id
            count += 1
            try:
                report = self._query_order(client_order_id)
            except Exception as exc:
                self._alert("RECONCILE_FAILED", f"{client_order_id}: {exc!r}", client_order_id)
                report = None
            if report is not None:
                self.on_report(report)
            elif client_order_id not in self._in_flight:
                # the unknown-outcome path takes over at the next timer
                self._in_flight[client_order_id] = InFlight("submit", 0)
        return count

    def check_expiry(self, now: int | None = None) -> int:
        """Expire DAY orders at the session close and GTD orders at their expire time."""
        if now is None:
            now = self._clock.timestamp_ns()
        count = 0
        for order in self._book.due(now):
            if order.client_order_id in self._expiring:
                continue
            count += 1
            if self._stops.holds(order):
                self._stops.remove(order)
                self._apply(order, self._event(OrderExpired, order, now))
                continue
            if self._config.expire_locally and order.status is not S.PENDING_CANCEL:
                self._expiring.add(order.client_order_id)
                self.cancel(
                    CancelOrder(
                        strategy_id=order.strategy_id,
                        instrument_id=order.instrument_id,
                        client_order_id=order.client_order_id,
                        ts_init=now,
                    )
                )
        return count

    def on_timer(self, now: int | None = None) -> None:
        """Periodic work: in-flight reconciliation, expiry, pair legging bounds."""
        if now is None:
            now = self._clock.timestamp_ns()
        self.check_in_flight(now)
        self.check_expiry(now)
        self._pairs.check(now)

    # ------------------------------------------------------------------ market data

    def on_quote(self, quote: QuoteTick) -> None:
        """Marks for PnL, and the trigger check of held stop orders."""
        self.on_top(quote, quote.instrument_id, quote.bid_price.raw, quote.ask_price.raw)

    def on_top(self, quote: QuoteTick, instrument_id: str, bid: int, ask: int) -> None:
        """:meth:`on_quote` with the quote's id and raw prices, which the node has read
        once for every consumer of the quote."""
        if bid > 0 and ask > 0:
            # the mark's Price is built when read (views, PnL): see QuoteMarks
            self._marks.quotes[instrument_id] = quote
        if self._stops:
            for order in self._stops.triggered(quote):
                self._release_stop(order)

    def _release_stop(self, order: Order) -> None:
        now = self._clock.timestamp_ns()
        self._stops.remove(order)
        self._apply(order, self._event(OrderTriggered, order, now))
        child = released_order(order, now)
        self._in_flight[order.client_order_id] = InFlight(
            "submit", now + self._config.ack_timeout_ns
        )
        self._send(child)

    # ------------------------------------------------------------------ queries

    def order(self, client_order_id: str) -> Order | None:
        """The order, if held (closed orders beyond ``retain_closed`` are purged)."""
        return self._book.get(client_order_id)

    def orders(self) -> list[Order]:
        """Every order held: the live ones and the ``retain_closed`` latest closed ones."""
        return list(self._book.all())

    def open_orders(
        self, strategy_id: str | None = None, instrument_id: str | None = None
    ) -> list[Order]:
        return [
            order
            for order in self._book.live()
            if order.status.is_open
            and (strategy_id is None or order.strategy_id == strategy_id)
            and (instrument_id is None or order.instrument_id == instrument_id)
        ]

    def in_flight(self) -> list[str]:
        """Client order ids whose last request has no answer yet."""
        return list(self._in_flight)

    def positions(self) -> list[Position]:
        return list(self._positions.values())

    def position(self, strategy_id: str, instrument_id: str) -> Position | None:
        return self._positions.get((strategy_id, instrument_id))

    def mark(self, instrument_id: str) -> Price | None:
        return self._marks.get(instrument_id)

    def pnl(
        self, marks: Mapping[str, Price] | None = None, strategy_id: str | None = None
    ) -> list[PnlLine]:
        """PnL per strategy and instrument at ``marks`` (default: the last quote mids)."""
        return pnl_lines(self._positions, self._marks if marks is None else marks, strategy_id)

    def total_pnl(self, marks: Mapping[str, Price] | None = None) -> Fraction:
        """Exact realized + unrealized PnL over every position."""
        return total_pnl(self._positions, self._marks if marks is None else marks)

    @property
    def alerts(self) -> int:
        return self._alerts

    @property
    def duplicates_ignored(self) -> int:
        return self._duplicates

    def pair(self, pair_id: str) -> PairOrder | None:
        """The state and residual exposure of a pair order."""
        return self._pairs.get(pair_id)

    def pairs(self) -> list[PairOrder]:
        return self._pairs.pairs()

    def iter_orders(self) -> Iterator[Order]:
        return self._book.all()

    # ------------------------------------------------------------------ internals

    def _position(self, strategy_id: str, instrument_id: str) -> Position:
        key = (strategy_id, instrument_id)
        position = self._positions.get(key)
        if position is None:
            instrument = self._instruments.get(instrument_id)
            position = Position(
                strategy_id,
                instrument_id,
                size_precision=instrument.size_precision if instrument else 9,
                currency=instrument.currency if instrument else "USD",
                money_precision=instrument.min_notional.precision if instrument else 2,
            )
            self._positions[key] = position
        return position

    def _event(
        self, event_type: type[Any], order: Order, ts_event: int, **fields: Any
    ) -> OrderEvent:
        event: OrderEvent = event_type(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            ts_event=ts_event,
            ts_init=self._clock.timestamp_ns(),
            **fields,
        )
        return event

    def _updated(self, order: Order, cmd: ModifyOrder, now: int) -> OrderUpdated:
        return OrderUpdated(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            quantity=cmd.quantity if cmd.quantity is not None else order.quantity,
            price=cmd.price,
            trigger_price=cmd.trigger_price,
            ts_event=now,
            ts_init=now,
        )

    def _apply(self, order: Order, event: OrderEvent) -> None:
        order.apply(event)
        self._book.settle(order)
        self._publish(event)

    def _transition(self, order: Order, event: OrderEvent) -> None:
        """Apply a venue fact if the state machine allows it; otherwise alert (duplicate
        or out-of-order report) and keep the order as it is."""
        if order.can_apply(event):
            self._apply(order, event)
            return
        if order.status.is_terminal and type(event) in _CLOSING:
            self._duplicates += 1
            return
        self._alert(
            "ILLEGAL_TRANSITION",
            f"{order.client_order_id}: {type(event).__name__} in status {order.status} ignored",
            order.client_order_id,
        )

    def _alert(
        self,
        code: str,
        message: str,
        client_order_id: str | None = None,
        severity: str = "warning",
    ) -> None:
        self._alerts += 1
        log.warning("%s: %s", code, message)
        now = self._clock.timestamp_ns()
        self._publish(
            TradingAlert(
                source="oms",
                code=code,
                message=message,
                severity=severity,
                client_order_id=client_order_id,
                ts_event=now,
                ts_init=now,
            )
        )


def _same_or_new(quantity: Quantity, raw: int, precision: int) -> Quantity:
    """The venue's quantity object when it says the same, else a new one (no re-parse)."""
    if quantity.raw == raw and quantity.precision == precision:
        return quantity
    return Quantity(raw=raw, precision=precision)


_MARKET: Final = OrderType.MARKET
_STOPS: Final = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
_TAKER: Final = LiquiditySide.TAKER
_CLOSING: Final = (OrderCanceled, OrderExpired, OrderRejected)
