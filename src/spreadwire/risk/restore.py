"""Rebuilding the risk engine from the stored messages (node restart).

The store holds, in commit order, the commands the node accepted and the events the
engines published. :class:`RiskRestorer` takes each one as a fact, without publishing,
forwarding or tripping anything:

* order events rebuild the working orders (what every limit counts), positions, cash,
  exposure and the PnL high-water mark. Quotes are normally not stored, so a fill marks
  its instrument at the fill price (the log's last traded price); a stored ``QuoteTick``
  marks it at its mid. The first live quote after the restart re-marks everything;
* a ``ModifyOrder`` reserves the amended order as the live gate did on approval, undone
  when the next message is the gate's own denial of it;
* ``TradingStateChanged`` sets the trading state and the breaker's trips (an automatic
  trip keeps its cool-down from its own time); kill-switch state changes are skipped:
  ``EngageKillSwitch`` / ``ReleaseKillSwitch`` rebuild the kill switch and its history;
* ``VenueStateChanged`` sets each venue breaker (open stays open until ``open_ns`` after
  the stored change, then probes);
* every ``OrderInitialized`` id enters the duplicate-id memory.

Not rebuilt: token buckets and the breaker's sliding windows (deny/reject rate, latency,
venue-error burst), which start empty; a trip they caused is restored from its event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, final

from spreadwire.domain.commands import EngageKillSwitch, ModifyOrder, ReleaseKillSwitch
from spreadwire.domain.enums import OrderSide
from spreadwire.domain.events import (
    OrderCanceled,
    OrderExpired,
    OrderFill,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPartiallyFilled,
    OrderRejected,
    OrderUpdated,
    TradingStateChanged,
    VenueStateChanged,
)
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.reasons import KILL_SWITCH_ENGAGED_BY, KILL_SWITCH_RELEASED_BY
from spreadwire.risk.breaker import CircuitBreaker
from spreadwire.risk.exposure import WorkingOrder
from spreadwire.risk.gate import Gate
from spreadwire.risk.killswitch import KillSwitch
from spreadwire.risk.reasons import GATE_REASONS, TripReason
from spreadwire.risk.venue_breaker import VenueBreaker, VenueState

#: trip reasons the breaker raises by itself (a cool-down applies to their reset)
AUTOMATIC: Final = frozenset(
    {
        TripReason.DAILY_LOSS,
        TripReason.DRAWDOWN,
        TripReason.DENY_REJECT_RATE,
        TripReason.STALE_MARKET_DATA,
        TripReason.PRICE_BAND,
        TripReason.LATENCY_P99,
        TripReason.VENUE_ERRORS,
    }
)
#: trips remembered under the reason without its ``:detail`` (the measured value)
_KEYED_BY_PREFIX: Final = frozenset({TripReason.DENY_REJECT_RATE, TripReason.LATENCY_P99})
_KILL_SWITCH_CHANGES: Final = (KILL_SWITCH_ENGAGED_BY, KILL_SWITCH_RELEASED_BY)
_TERMINAL: Final = (OrderCanceled, OrderExpired, OrderRejected)

Saved = tuple[int, int, int | None]


@final
class RiskRestorer:
    __slots__ = (
        "_breaker",
        "_gate",
        "_handlers",
        "_kill",
        "_pending_modify",
        "_reserve_modify",
        "_tentative",
        "_venues",
    )

    def __init__(
        self,
        *,
        gate: Gate,
        breaker: CircuitBreaker,
        kill: KillSwitch,
        venues: dict[str, VenueBreaker],
        pending_modify: dict[str, Saved],
        reserve_modify: Callable[[WorkingOrder, int, int | None, Saved], None],
        on_initialized: Callable[[OrderInitialized], None],
        on_updated: Callable[[OrderUpdated], None],
        on_modify_rejected: Callable[[OrderModifyRejected], None],
    ) -> None:
        self._gate = gate
        self._breaker = breaker
        self._kill = kill
        self._venues = venues
        self._pending_modify = pending_modify
        self._reserve_modify = reserve_modify
        # a modify reserved from its command: (id, reservation before, pending before)
        self._tentative: tuple[str, Saved, Saved | None] | None = None
        # OrderDenied is not here: the gate never counted a denied order
        self._handlers: dict[type, Callable[[Any], None]] = {
            OrderInitialized: on_initialized,
            OrderCanceled: self._terminal,
            OrderExpired: self._terminal,
            OrderRejected: self._terminal,
            OrderPartiallyFilled: self._fill,
            OrderFilled: self._fill,
            OrderUpdated: on_updated,
            OrderModifyRejected: on_modify_rejected,
            ModifyOrder: self._modify,
            TradingStateChanged: self._trading_state,
            EngageKillSwitch: self._kill_switch,
            ReleaseKillSwitch: self._kill_switch,
            VenueStateChanged: self._venue,
            QuoteTick: self._quote,
        }

    def restore(self, message: object) -> None:
        tentative = self._tentative
        if tentative is not None:
            self._tentative = None
            if (
                type(message) is OrderModifyRejected
                and message.client_order_id == tentative[0]
                and message.reason in GATE_REASONS
            ):
                self._undo_modify(*tentative)
        handler = self._handlers.get(type(message))
        if handler is not None:
            handler(message)

    def _terminal(self, event: OrderCanceled | OrderExpired | OrderRejected) -> None:
        self._gate.close(event.client_order_id)
        self._pending_modify.pop(event.client_order_id, None)

    # -- orders

    def _fill(self, event: OrderFill) -> None:
        gate = self._gate
        leg = gate.leg(event.strategy_id, event.instrument_id, event.ts_init)
        if leg is None:
            return
        portfolio = gate.portfolio
        price = event.last_px.raw
        quantity = event.last_qty.raw
        portfolio.mark(leg.instrument, price)
        portfolio.apply_fill(leg, 1 if event.side is OrderSide.BUY else -1, quantity, price)
        order = portfolio.order(event.client_order_id)
        if order is not None:
            if type(event) is OrderFilled:
                gate.close(event.client_order_id)
            else:
                portfolio.reduce_order(order, quantity)
        gate.refresh()

    def _modify(self, cmd: ModifyOrder) -> None:
        portfolio = self._gate.portfolio
        client_order_id = cmd.client_order_id
        order = portfolio.order(client_order_id)
        if order is None:
            return  # the gate denied it (UNKNOWN_ORDER)
        saved = (order.leaves, order.notional_price, order.resting_price)
        previous = self._pending_modify.get(client_order_id)
        portfolio.remove_order(client_order_id)
        quantity = cmd.quantity.raw if cmd.quantity is not None else saved[0] + order.filled
        price_raw = cmd.price.raw if cmd.price is not None else saved[2]
        self._reserve_modify(order, quantity, price_raw, saved)
        self._tentative = (client_order_id, saved, previous)

    def _undo_modify(self, client_order_id: str, saved: Saved, previous: Saved | None) -> None:
        portfolio = self._gate.portfolio
        order = portfolio.remove_order(client_order_id)
        if order is None:
            return
        order.leaves, order.notional_price, order.resting_price = saved
        portfolio.add_order(order)
        if previous is None:
            self._pending_modify.pop(client_order_id, None)
        else:
            self._pending_modify[client_order_id] = previous

    # -- state

    def _trading_state(self, event: TradingStateChanged) -> None:
        reason = event.reason
        if reason.startswith(_KILL_SWITCH_CHANGES):
            return  # rebuilt from the kill-switch commands
        prefix = reason.partition(":")[0]
        self._breaker.restore(
            event.state,
            reason,
            event.ts_event,
            automatic=prefix in AUTOMATIC,
            key=prefix if prefix in _KEYED_BY_PREFIX else reason,
        )

    def _kill_switch(self, cmd: EngageKillSwitch | ReleaseKillSwitch) -> None:
        kill = self._kill
        if type(cmd) is EngageKillSwitch:
            if cmd.scope != "all" and not cmd.target:
                return  # refused live (a scope needs a target)
            if kill.is_engaged(cmd.scope, cmd.target):
                return  # engaged again: live, it changed nothing (not even the history)
            kill.engage(cmd.scope, cmd.target, cmd.operator, cmd.reason, cmd.ts_init)
        elif kill.is_engaged(cmd.scope, cmd.target):
            kill.release(cmd.scope, cmd.target, cmd.operator, cmd.reason, cmd.ts_init)
        self._gate.refresh()

    def _venue(self, event: VenueStateChanged) -> None:
        breaker = self._venues.get(event.venue)
        if breaker is None:
            return
        breaker.restore(VenueState(event.state), event.ts_event)
        gate = self._gate
        gate.venue_blocked = any(v.state is not VenueState.CLOSED for v in self._venues.values())
        gate.refresh()

    def _quote(self, quote: QuoteTick) -> None:
        gate = self._gate
        inst = gate.instruments.get(quote.instrument_id)
        bid = quote.bid_price.raw
        ask = quote.ask_price.raw
        if inst is None or bid <= 0 or ask <= 0:
            return
        gate.portfolio.mark(inst, (bid + ask) // 2)
        gate.refresh()
