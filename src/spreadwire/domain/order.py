"""The order aggregate and its table-driven state machine.

``TRANSITIONS[(status, event type)]`` gives the next status; a pair missing from the
table is an illegal transition and raises :class:`IllegalTransition`. ``PREVIOUS`` means
"back to the status before the pending request" (a rejected modify or cancel, or the
update that answers a modify).
"""

from __future__ import annotations

from typing import Any, Final, final

from msgspec.structs import astuple

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFill,
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
)
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import InvariantError

S: Final = OrderStatus
_INITIALIZED: Final = OrderStatus.INITIALIZED
PREVIOUS: Final = None

_WORKING_MOVES: dict[type[OrderEvent], OrderStatus | None] = {
    OrderPendingUpdate: S.PENDING_UPDATE,
    OrderPendingCancel: S.PENDING_CANCEL,
    OrderCanceled: S.CANCELED,
    OrderExpired: S.EXPIRED,
    OrderPartiallyFilled: S.PARTIALLY_FILLED,
    OrderFilled: S.FILLED,
}


def _table() -> dict[tuple[OrderStatus, type[OrderEvent]], OrderStatus | None]:
    table: dict[tuple[OrderStatus, type[OrderEvent]], OrderStatus | None] = {
        (S.INITIALIZED, OrderDenied): S.DENIED,
        (S.INITIALIZED, OrderSubmitted): S.SUBMITTED,
        (S.INITIALIZED, OrderRejected): S.REJECTED,
        (S.SUBMITTED, OrderAccepted): S.ACCEPTED,
        (S.SUBMITTED, OrderRejected): S.REJECTED,
        (S.SUBMITTED, OrderTriggered): S.TRIGGERED,
        (S.ACCEPTED, OrderTriggered): S.TRIGGERED,
        (S.ACCEPTED, OrderUpdated): S.ACCEPTED,
        (S.TRIGGERED, OrderUpdated): S.TRIGGERED,
        (S.PARTIALLY_FILLED, OrderUpdated): S.PARTIALLY_FILLED,
        (S.PENDING_UPDATE, OrderUpdated): PREVIOUS,
        (S.PENDING_UPDATE, OrderModifyRejected): PREVIOUS,
        (S.PENDING_UPDATE, OrderAccepted): S.PENDING_UPDATE,
        (S.PENDING_UPDATE, OrderTriggered): S.PENDING_UPDATE,
        (S.PENDING_CANCEL, OrderCancelRejected): PREVIOUS,
        (S.PENDING_CANCEL, OrderAccepted): S.PENDING_CANCEL,
        (S.PENDING_CANCEL, OrderModifyRejected): S.PENDING_CANCEL,
        (S.PENDING_CANCEL, OrderUpdated): S.PENDING_CANCEL,
        # a modify or cancel the venue has not answered yet may be overtaken by a fill
        (S.ACCEPTED, OrderModifyRejected): S.ACCEPTED,
        (S.ACCEPTED, OrderCancelRejected): S.ACCEPTED,
        (S.PARTIALLY_FILLED, OrderModifyRejected): S.PARTIALLY_FILLED,
        (S.PARTIALLY_FILLED, OrderCancelRejected): S.PARTIALLY_FILLED,
        (S.TRIGGERED, OrderModifyRejected): S.TRIGGERED,
        (S.TRIGGERED, OrderCancelRejected): S.TRIGGERED,
        # "too late to cancel": the fill already closed the order
        (S.FILLED, OrderCancelRejected): S.FILLED,
        (S.FILLED, OrderModifyRejected): S.FILLED,
        # a request answered before the venue acknowledged the order
        (S.SUBMITTED, OrderModifyRejected): S.SUBMITTED,
        (S.SUBMITTED, OrderCancelRejected): S.SUBMITTED,
        # the venue acknowledges a released (triggered) stop order
        (S.TRIGGERED, OrderAccepted): S.TRIGGERED,
        # the venue rejects the order itself while a request is pending
        (S.PENDING_UPDATE, OrderRejected): S.REJECTED,
        (S.PENDING_CANCEL, OrderRejected): S.REJECTED,
        # late fills after a cancel or expiry ("real world possibility"): the order stays
        # closed unless the fill completes it; the fill always counts
        (S.CANCELED, OrderPartiallyFilled): S.CANCELED,
        (S.CANCELED, OrderFilled): S.FILLED,
        (S.EXPIRED, OrderPartiallyFilled): S.EXPIRED,
        (S.EXPIRED, OrderFilled): S.FILLED,
        # a fill the venue reports after rejecting the order: a venue fault, but the fill
        # happened and counts (the OMS alerts); the order stays rejected
        (S.REJECTED, OrderPartiallyFilled): S.REJECTED,
        (S.REJECTED, OrderFilled): S.REJECTED,
        # an overfill: the order stays filled, the extra fill is kept (and alerted)
        (S.FILLED, OrderPartiallyFilled): S.FILLED,
        (S.FILLED, OrderFilled): S.FILLED,
    }
    for status in (
        S.SUBMITTED,
        S.ACCEPTED,
        S.TRIGGERED,
        S.PENDING_UPDATE,
        S.PENDING_CANCEL,
        S.PARTIALLY_FILLED,
    ):
        for event_type, target in _WORKING_MOVES.items():
            table.setdefault((status, event_type), target)
    return table


TRANSITIONS: Final = _table()


class IllegalTransition(InvariantError):
    """An event that the order's current status does not allow."""


@final
class Order:
    """One order's state, changed only by applying its events in order."""

    __slots__ = (
        "_previous",
        "avg_px_numerator",
        "client_order_id",
        "events",
        "expire_time_ns",
        "filled_qty",
        "instrument_id",
        "order_type",
        "pair_id",
        "post_only",
        "price",
        "quantity",
        "reduce_only",
        "side",
        "status",
        "strategy_id",
        "time_in_force",
        "trade_ids",
        "trigger_price",
        "ts_init",
        "ts_last",
        "venue_order_id",
    )

    def __init__(self, init: OrderInitialized | SubmitOrder, ts_init: int = 0) -> None:
        """The order of its ``OrderInitialized`` event; or, from :meth:`sent`, of a
        ``SubmitOrder`` at ``ts_init``, with no events yet."""
        self._fields(init)
        self.events: list[OrderEvent]
        if isinstance(init, OrderInitialized):
            self.events = [init]
            self.ts_init = init.ts_init
            self.ts_last = init.ts_event
        else:
            self.events = []
            self.ts_init = self.ts_last = ts_init

    @staticmethod
    def sent(command: SubmitOrder, ts_init: int) -> Order:
        """The order of ``command`` as handed to the venue before its first events exist:
        INITIALIZED with no events yet. The caller applies ``OrderInitialized`` with
        :meth:`initialized` and then ``OrderSubmitted`` before anything else can reach the
        order (an order manager that sends first and records right after, in one step of
        the event loop)."""
        return Order(command, ts_init)

    def initialized(self, init: OrderInitialized) -> None:
        """Record ``init`` as the first event of an order made by :meth:`sent`."""
        if self.events or init.client_order_id != self.client_order_id:
            raise InvariantError(
                f"order {self.client_order_id}: OrderInitialized must be its first event"
            )
        self.events.append(init)
        self.ts_last = init.ts_event

    def _fields(self, init: OrderInitialized | SubmitOrder) -> None:
        fields: tuple[Any, ...]
        if type(init) is SubmitOrder:
            # an order the node sends (on the tick-to-order path): one call reads every
            # field of the command; its first 13, in declared order, are the order's
            fields = astuple(init)
        else:
            fields = (
                init.strategy_id,
                init.instrument_id,
                init.client_order_id,
                init.side,
                init.order_type,
                init.quantity,
                init.price,
                init.trigger_price,
                init.time_in_force,
                init.expire_time_ns,
                init.post_only,
                init.reduce_only,
                init.pair_id,
            )
        self.strategy_id: str = fields[0]
        self.instrument_id: str = fields[1]
        self.client_order_id: str = fields[2]
        self.side: OrderSide = fields[3]
        self.order_type: OrderType = fields[4]
        self.quantity: Quantity = fields[5]
        self.price: Price | None = fields[6]
        self.trigger_price: Price | None = fields[7]
        self.time_in_force: TimeInForce = fields[8]
        self.expire_time_ns: int | None = fields[9]
        self.post_only: bool = fields[10]
        self.reduce_only: bool = fields[11]
        self.pair_id: str | None = fields[12]
        self.status = _INITIALIZED
        self._previous = _INITIALIZED
        self.venue_order_id: str | None = None
        self.filled_qty: Quantity = _ZERO_QUANTITY[self.quantity.precision]
        self.avg_px_numerator = 0
        self.trade_ids: set[str] = set()

    @property
    def leaves_qty(self) -> Quantity:
        """Quantity still working (0 once closed, never negative on an overfill)."""
        if self.status.is_terminal:
            return Quantity(raw=0, precision=self.quantity.precision)
        return Quantity(
            raw=max(0, self.quantity.raw - self.filled_qty.raw), precision=self.quantity.precision
        )

    @property
    def overfilled_raw(self) -> int:
        """Raw quantity filled beyond the order quantity (0 normally)."""
        return max(0, self.filled_qty.raw - self.quantity.raw)

    @property
    def avg_px(self) -> float | None:
        if not self.filled_qty.raw:
            return None
        return self.avg_px_numerator / self.filled_qty.raw / 1e9

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def can_apply(self, event: OrderEvent) -> bool:
        return (self.status, type(event)) in TRANSITIONS

    def apply(self, event: OrderEvent) -> None:
        """Apply ``event``; raise :class:`IllegalTransition` when the table forbids it."""
        if event.client_order_id != self.client_order_id:
            raise InvariantError(
                f"event for {event.client_order_id} applied to order {self.client_order_id}"
            )
        key = (self.status, type(event))
        if key not in TRANSITIONS:
            raise IllegalTransition(
                f"order {self.client_order_id}: {type(event).__name__} is not allowed "
                f"in status {self.status}"
            )
        target = TRANSITIONS[key]
        if target is PREVIOUS:
            target = self._previous
        elif target in (S.PENDING_UPDATE, S.PENDING_CANCEL) and self.status not in (
            S.PENDING_UPDATE,
            S.PENDING_CANCEL,
        ):
            self._previous = self.status
        if type(event) in _FIELD_EVENTS:
            self._apply_fields(event)
        self.status = target
        self.events.append(event)
        self.ts_last = event.ts_event

    def apply_submitted(self, event: OrderSubmitted) -> None:
        """:meth:`apply` for the move every new order makes (INITIALIZED -> SUBMITTED),
        without the table lookup; any other status goes through :meth:`apply`."""
        if self.status is not S.INITIALIZED or event.client_order_id != self.client_order_id:
            self.apply(event)
            return
        self.status = S.SUBMITTED
        self.events.append(event)
        self.ts_last = event.ts_event

    def _apply_fields(self, event: OrderEvent) -> None:
        if isinstance(event, OrderFill):
            self.trade_ids.add(event.trade_id)
            self.filled_qty = event.cum_qty
            self.avg_px_numerator += event.last_px.raw * event.last_qty.raw
            self.venue_order_id = event.venue_order_id
            if self._previous in (S.ACCEPTED, S.SUBMITTED, S.TRIGGERED):
                self._previous = S.PARTIALLY_FILLED
        elif isinstance(event, OrderAccepted):
            self.venue_order_id = event.venue_order_id
        elif isinstance(event, OrderUpdated):
            self.quantity = event.quantity
            if event.price is not None:
                self.price = event.price
            if event.trigger_price is not None:
                self.trigger_price = event.trigger_price
        elif isinstance(event, OrderTriggered) and self._previous in (S.ACCEPTED, S.SUBMITTED):
            self._previous = S.TRIGGERED


#: events that change fields besides the status (the others only move the status)
_FIELD_EVENTS: Final = frozenset(
    {OrderPartiallyFilled, OrderFilled, OrderAccepted, OrderUpdated, OrderTriggered}
)
#: zero quantities per precision (immutable values, shared)
_ZERO_QUANTITY: Final = tuple(Quantity(raw=0, precision=p) for p in range(10))


def fill_event_type(leaves_qty: Quantity) -> type[OrderPartiallyFilled] | type[OrderFilled]:
    """``OrderFilled`` when nothing is left, else ``OrderPartiallyFilled``."""
    return OrderFilled if leaves_qty.raw == 0 else OrderPartiallyFilled
