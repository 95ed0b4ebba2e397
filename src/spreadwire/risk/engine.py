"""The risk engine: pre-trade gate, circuit breaker and kill switch in one engine.

``execute(command)`` is the only way an order reaches the OMS. A ``SubmitOrder`` or
``ModifyOrder`` runs the checks of :mod:`spreadwire.risk.gate` in their fixed order and
either goes on through ``forward`` or is refused: a submit becomes ``OrderDenied`` with a
distinct :class:`~spreadwire.risk.reasons.DenyReason`, a modify ``OrderModifyRejected``
(the working order stays as it was). Cancels always pass. A ``SubmitPairOrder`` passes
only if both legs do. ``EngageKillSwitch`` / ``ReleaseKillSwitch`` / ``ResetTradingState``
/ ``TripTradingState`` are the audited operator commands: the node records each before it
is applied, and one that would change nothing (a second engage, a release or a reset with
nothing to undo, a trip to where the breaker is) publishes no ``TradingStateChanged``.

The engine keeps its own view of the world from the bus (``on_quote``, ``on_event``) and
trips the breaker automatically (:mod:`spreadwire.risk.tripwires`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final, final

import msgspec

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    EngageKillSwitch,
    ModifyOrder,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
    SubmitPairOrder,
    TripTradingState,
)
from spreadwire.domain.enums import OrderSide, OrderType, TradingState
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPartiallyFilled,
    OrderRejected,
    OrderUpdated,
    TradingAlert,
    TradingStateChanged,
    VenueStateChanged,
)
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import DataGap, QuoteTick, TradeTick
from spreadwire.domain.reasons import (
    KILL_SWITCH_ENGAGED_BY,
    KILL_SWITCH_RELEASED_BY,
    denied_by_gate,
)
from spreadwire.domain.values import Price, Quantity
from spreadwire.risk.breaker import BreakerTrip, CircuitBreaker
from spreadwire.risk.config import RiskConfig
from spreadwire.risk.exposure import WorkingOrder, sum_at_most
from spreadwire.risk.gate import Denial, Gate, money_text
from spreadwire.risk.killswitch import KillSwitch
from spreadwire.risk.reasons import DenyReason as R
from spreadwire.risk.reasons import TripReason
from spreadwire.risk.records import RiskStats
from spreadwire.risk.restore import RiskRestorer
from spreadwire.risk.throttle import TokenBucket
from spreadwire.risk.tripwires import Tripwires
from spreadwire.risk.venue_breaker import VenueBreaker, VenueState

log = logging.getLogger("spreadwire.risk")

#: the stored operator command that changes risk limits (``ChangeRiskLimits``, a field
#: ``changes`` of ``RiskConfig`` names and values), recognised by its message tag
LIMIT_CHANGE_TAG: Final = "ChangeRiskLimits"


def _tag(message: object) -> object:
    config = getattr(type(message), "__struct_config__", None)
    return config.tag if config is not None else None


_BUY: Final = OrderSide.BUY
#: OMS alert codes that count as venue errors (no answer within the ack timeout, the
#: reconciliation port failing)
VENUE_ERROR_ALERTS: Final = frozenset({"UNKNOWN_OUTCOME", "RECONCILE_FAILED"})


@final
class RiskEngine:
    """Pre-trade gate + breaker + kill switch; single writer, driven by the dispatch loop."""

    __slots__ = (
        "_breaker",
        "_cancel_bucket",
        "_cancels",
        "_clock",
        "_config",
        "_denied",
        "_denied_by_reason",
        "_event_handlers",
        "_forward",
        "_gate",
        "_kill",
        "_pending_modify",
        "_publish",
        "_restorer",
        "_trips",
        "_venues",
    )

    def __init__(
        self,
        config: RiskConfig,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        *,
        forward: Callable[[Any], None],
        publish: Callable[[object], None],
    ) -> None:
        """``forward`` receives approved commands (the OMS), ``publish`` every event."""
        self._config = config
        self._clock = clock
        self._forward = forward
        self._publish = publish
        now = clock.timestamp_ns()
        self._kill = KillSwitch()
        self._venues: dict[str, VenueBreaker] = {}
        for instrument in instruments.values():
            if instrument.venue not in self._venues:
                self._venues[instrument.venue] = VenueBreaker(
                    instrument.venue, config.breaker.venue, self._on_venue_change
                )
        self._gate = Gate(config, instruments, self._kill, self._venues, now)
        self._gate.bind(
            clock=clock, forward=forward, ordered=self._submit, other=self._execute_command
        )
        self._cancel_bucket = TokenBucket(
            config.cancel_rate.limit, config.cancel_rate.interval_ns, now
        )
        self._breaker = CircuitBreaker(publish, cooldown_ns=config.breaker.reducing_cooldown_ns)
        self._breaker.on_change = self._on_state_change
        self._trips = Tripwires(config.breaker, self._breaker)
        self._pending_modify: dict[str, tuple[int, int, int | None]] = {}
        self._denied = 0
        self._cancels = 0
        self._denied_by_reason: Counter[str] = Counter()
        self._restorer: RiskRestorer | None = None
        self._event_handlers: dict[type, Callable[[Any], None]] = {
            OrderInitialized: self._on_initialized,
            OrderRejected: self._on_rejected,
            OrderCanceled: self._on_terminal,
            OrderExpired: self._on_terminal,
            OrderPartiallyFilled: self._on_fill,
            OrderFilled: self._on_fill,
            OrderAccepted: self._on_accepted,
            OrderUpdated: self._on_updated,
            OrderModifyRejected: self._on_modify_rejected,
            DataGap: self._on_data_gap,
            TradingAlert: self._on_alert,
            QuoteTick: self.on_quote,
            TradeTick: self._on_trade,
        }

    # ------------------------------------------------------------------ queries

    @property
    def config(self) -> RiskConfig:
        """The limits in force (the constructor's, or the last :meth:`set_limits`)."""
        return self._config

    @property
    def trading_state(self) -> TradingState:
        return self._breaker.state

    @property
    def breaker_trips(self) -> list[dict[str, object]]:
        """Every trip as ``{reason, ts_ns, state}`` (for the run summary)."""
        return [msgspec.to_builtins(trip) for trip in self._breaker.trips]

    @property
    def trips(self) -> list[BreakerTrip]:
        return list(self._breaker.trips)

    @property
    def kill_switch(self) -> KillSwitch:
        return self._kill

    def venue_state(self, venue: str) -> VenueState:
        return self._venues[venue].state

    def position_raw(self, strategy_id: str, instrument_id: str) -> int:
        """Signed position (raw, scale 1e9) as the engine sees it."""
        strategy = self._gate.portfolio.strategies.get(strategy_id)
        leg = strategy.legs.get(instrument_id) if strategy is not None else None
        return leg.position if leg is not None else 0

    def open_orders(self) -> list[str]:
        """Client order ids the engine counts as working."""
        return list(self._gate.portfolio.orders)

    def stats(self) -> RiskStats:
        portfolio = self._gate.portfolio
        return RiskStats(
            approved=self._gate.approved,
            denied=self._denied,
            denied_by_reason=dict(self._denied_by_reason),
            cancels=self._cancels,
            open_orders=portfolio.open_count,
            trading_state=str(self._breaker.state),
            kill_switch=self._kill.labels(),
            pnl=money_text(portfolio.pnl2),
            high_water=money_text(portfolio.high_water2),
            drawdown=money_text(portfolio.drawdown2),
            gross_exposure=money_text(portfolio.gross2),
            net_exposure=money_text(portfolio.net2),
        )

    # ------------------------------------------------------------------ commands

    def execute(self, command: object) -> bool:
        """Gate one command, True when it was forwarded: :meth:`Gate.execute`, a native
        call. A plain limit order that passes is approved and forwarded there; anything
        else comes back to :meth:`_submit` (the ordered checks) or
        :meth:`_execute_command`."""
        return self._gate.execute(command)

    def _execute_command(self, command: object) -> bool:
        """Every command but a submit."""
        kind = type(command)
        if kind is CancelOrder or kind is CancelAllOrders:
            return self._cancel(command)  # type: ignore[arg-type]
        if kind is ModifyOrder:
            return self._modify(command)  # type: ignore[arg-type]
        match command:
            case SubmitPairOrder():
                return self._submit_pair(command)
            case EngageKillSwitch():
                self.engage_kill_switch(command)
                return False
            case ReleaseKillSwitch():
                self.release_kill_switch(command)
                return False
            case ResetTradingState():
                return self.reset(command.operator, command.reason)
            case TripTradingState():
                self.trip_by(command)
                return False
        raise TypeError(f"command: {type(command).__name__} is not a risk command")

    def _submit(self, cmd: SubmitOrder, now: int) -> bool:
        """The ordered path: every check in turn; deny with the first that fails."""
        result = self._gate.approve(cmd, now)
        if type(result) is WorkingOrder:
            self._gate.commit(result, now)
            self._gate.approved += 1
            self._forward(cmd)
            return True
        self._deny(cmd, result, now)
        return False

    def _deny(self, cmd: SubmitOrder, denial: Denial, now: int) -> None:
        reason, message = denial
        self._publish(
            OrderDenied(
                strategy_id=cmd.strategy_id,
                instrument_id=cmd.instrument_id,
                client_order_id=cmd.client_order_id,
                reason=str(reason),
                message=message,
                ts_event=now,
                ts_init=now,
            )
        )
        self._count_denial(reason, now)

    def _deny_modify(self, cmd: ModifyOrder, denial: Denial, now: int) -> None:
        """A denied modify leaves the working order as it was: ``OrderModifyRejected``."""
        reason, message = denial
        log.info("modify of %s denied: %s %s", cmd.client_order_id, reason, message)
        self._publish(
            OrderModifyRejected(
                strategy_id=cmd.strategy_id,
                instrument_id=cmd.instrument_id,
                client_order_id=cmd.client_order_id,
                reason=str(reason),
                ts_event=now,
                ts_init=now,
            )
        )
        self._count_denial(reason, now)

    def _count_denial(self, reason: str, now: int) -> None:
        self._denied += 1
        self._denied_by_reason[reason] += 1
        self._trips.outcome(now, self._gate.approved, bad=True, counted=True)

    # -- pairs

    def _submit_pair(self, cmd: SubmitPairOrder) -> bool:
        """Both legs pass the gate or neither is sent (``PAIR_LEG_DENIED`` for the other)."""
        now = self._clock.timestamp_ns()
        gate = self._gate
        first = gate.approve(cmd.first, now)
        if type(first) is not WorkingOrder:
            self._deny(cmd.first, first, now)
            reason = first[0]
            self._deny(cmd.second, (R.PAIR_LEG_DENIED, f"other leg denied: {reason}"), now)
            return False
        gate.commit(first, now)
        second = gate.approve(cmd.second, now)
        if type(second) is not WorkingOrder:
            gate.rollback(first)
            reason = second[0]
            self._deny(cmd.first, (R.PAIR_LEG_DENIED, f"other leg denied: {reason}"), now)
            self._deny(cmd.second, second, now)
            return False
        gate.commit(second, now)
        self._gate.approved += 2
        self._forward(cmd)
        return True

    # -- modify and cancel

    def _modify(self, cmd: ModifyOrder) -> bool:
        """A modify runs the submit checks on the amended order (without its old
        reservation); in a restricted state it may only shrink the order."""
        now = self._clock.timestamp_ns()
        gate = self._gate
        order = gate.portfolio.order(cmd.client_order_id)
        if order is None:
            self._deny_modify(cmd, (R.UNKNOWN_ORDER, "no working order with this id"), now)
            return False
        if not gate.fast_ok and self._modify_increases(cmd, order):
            denial = self._check_restricted_modify(cmd)
            if denial is not None:
                self._deny_modify(cmd, denial, now)
                return False
        saved = (order.leaves, order.notional_price, order.resting_price)
        gate.portfolio.remove_order(order.client_order_id)
        quantity = cmd.quantity.raw if cmd.quantity is not None else saved[0] + order.filled
        price_raw = cmd.price.raw if cmd.price is not None else saved[2]
        result = self._approve_modify(cmd, order, quantity, price_raw, now)
        if isinstance(result, tuple):
            self._restore(order, saved)
            self._deny_modify(cmd, result, now)
            return False
        self._reserve_modify(order, quantity, price_raw, saved)
        gate.order_bucket.take(now)
        order.leg.strategy.order_bucket.take(now)
        self._gate.approved += 1
        self._forward(cmd)
        return True

    def _reserve_modify(
        self,
        order: WorkingOrder,
        quantity: int,
        price_raw: int | None,
        saved: tuple[int, int, int | None],
    ) -> None:
        """An approved modify counts at once as the amended order (the old reservation
        is kept aside until the venue answers)."""
        self._pending_modify[order.client_order_id] = saved
        order.leaves = max(0, quantity - order.filled)
        order.notional_price = price_raw if price_raw is not None else saved[1]
        order.resting_price = price_raw if saved[2] is not None else None
        self._gate.portfolio.add_order(order)

    def _approve_modify(
        self, cmd: ModifyOrder, order: WorkingOrder, quantity: int, price_raw: int | None, now: int
    ) -> WorkingOrder | Denial:
        inst = order.leg.instrument
        sign = order.sign
        probe = SubmitOrder(
            strategy_id=cmd.strategy_id,
            instrument_id=cmd.instrument_id,
            client_order_id=cmd.client_order_id,
            side=_BUY if sign > 0 else OrderSide.SELL,
            order_type=OrderType.LIMIT if price_raw is not None else OrderType.MARKET,
            quantity=Quantity(raw=quantity, precision=inst.size_precision),
            price=(
                Price(raw=price_raw, precision=inst.price_precision)
                if price_raw is not None
                else None
            ),
            ts_init=cmd.ts_init,
        )
        gate = self._gate
        # the order is out of the working orders while it is checked as amended; its id
        # is no duplicate of itself
        remembered = gate.forget(cmd.client_order_id)
        try:
            return gate.approve(probe, now)
        finally:
            if remembered:
                gate.remember(cmd.client_order_id)

    def _restore(self, order: WorkingOrder, saved: tuple[int, int, int | None]) -> None:
        order.leaves, order.notional_price, order.resting_price = saved
        self._gate.portfolio.add_order(order)

    @staticmethod
    def _modify_increases(cmd: ModifyOrder, order: WorkingOrder) -> bool:
        return (cmd.quantity is not None and cmd.quantity.raw > order.leaves + order.filled) or (
            cmd.price is not None and cmd.price.raw != order.resting_price
        )

    def _check_restricted_modify(self, cmd: ModifyOrder) -> Denial | None:
        if self._gate.halted:
            return R.TRADING_HALTED, "trading is HALTED; a modify may only reduce quantity"
        if self._kill.blocks(cmd.strategy_id, cmd.instrument_id):
            return R.KILL_SWITCH, "kill switch engaged; a modify may only reduce quantity"
        if self._gate.reducing:
            return R.REDUCE_ONLY, "REDUCING: a modify may only reduce quantity"
        return None

    def _cancel(self, cmd: CancelOrder | CancelAllOrders) -> bool:
        """Cancels always pass; an exhausted cancel rate blocks the strategy's new orders
        until a cancel token is free again (``CANCEL_RATE``)."""
        now = self._clock.timestamp_ns()
        self._cancels += 1
        strategy = self._gate.portfolio.strategies.get(cmd.strategy_id)
        if strategy is not None and not strategy.cancel_bucket.try_take(now):
            strategy.cancel_blocked_until = strategy.cancel_bucket.next_token_ns(now)
        if not self._cancel_bucket.try_take(now) and strategy is not None:
            strategy.cancel_blocked_until = max(
                strategy.cancel_blocked_until, self._cancel_bucket.next_token_ns(now)
            )
        self._forward(cmd)
        return True

    # -- kill switch and reset

    def engage_kill_switch(self, cmd: EngageKillSwitch) -> int:
        """Block risk-increasing orders in scope at once and cancel its working orders;
        return how many cancels were sent. Engaged already: the state and the switch's
        engaged time stay (no ``TradingStateChanged``, as for a release or a reset with
        nothing to undo; the node recorded the request), the scope's working orders are
        canceled again."""
        now = self._clock.timestamp_ns()
        if self._kill.is_engaged(cmd.scope, cmd.target):
            log.warning(
                "kill switch %s %s already engaged; engaged again by %s: %s",
                cmd.scope,
                cmd.target or "",
                cmd.operator,
                cmd.reason,
            )
            return self._cancel_scope(cmd.scope, cmd.target, now)
        label = self._kill.engage(cmd.scope, cmd.target, cmd.operator, cmd.reason, now)
        self._gate.refresh()
        reason = f"{KILL_SWITCH_ENGAGED_BY}{cmd.operator}: {cmd.reason}"
        log.warning("kill switch engaged (%s): %s", label, reason)
        self._publish(
            TradingStateChanged(
                state=TradingState.REDUCING,
                previous=TradingState.ACTIVE,
                reason=reason,
                scope=label,
                operator=cmd.operator,
                ts_event=now,
                ts_init=now,
            )
        )
        self._alert("KILL_SWITCH", f"{label}: {reason}", now, "critical")
        return self._cancel_scope(cmd.scope, cmd.target, now)

    def _cancel_scope(self, scope: str, target: str | None, now: int) -> int:
        sent = self._kill.cancel_working(
            scope, target, self._gate.portfolio.orders, self._forward, now
        )
        self._cancels += sent
        return sent

    def release_kill_switch(self, cmd: ReleaseKillSwitch) -> None:
        now = self._clock.timestamp_ns()
        if not self._kill.is_engaged(cmd.scope, cmd.target):
            return
        label = self._kill.release(cmd.scope, cmd.target, cmd.operator, cmd.reason, now)
        self._gate.refresh()
        reason = f"{KILL_SWITCH_RELEASED_BY}{cmd.operator}: {cmd.reason}"
        log.warning("kill switch released (%s): %s", label, reason)
        # what the scope may do now: the breaker's state (a release does not lift a
        # trip), and REDUCING while the global switch still holds a narrower scope
        state = self._breaker.state
        if (
            state is TradingState.ACTIVE
            and cmd.scope != "all"
            and self._kill.is_engaged("all", None)
        ):
            state = TradingState.REDUCING
        self._publish(
            TradingStateChanged(
                state=state,
                previous=TradingState.REDUCING,
                reason=reason,
                scope=label,
                operator=cmd.operator,
                ts_event=now,
                ts_init=now,
            )
        )
        self._alert("KILL_SWITCH_RELEASED", f"{label}: {reason}", now, "warning")

    def reset(self, operator: str, reason: str = "") -> bool:
        """Audited return to ACTIVE; False when refused (cool-down) or already ACTIVE."""
        return self._breaker.reset(operator, reason, self._clock.timestamp_ns())

    def reset_cooldown_until(self) -> int | None:
        """When the cool-down after an automatic REDUCING trip ends, while it refuses a
        reset now; None when a reset now is not refused for it."""
        return self._breaker.cooldown_until(self._clock.timestamp_ns())

    def trip(self, state: TradingState, reason: str, operator: str | None = None) -> bool:
        """Manual trip (operator, or the node itself) to REDUCING or HALTED; False when
        the breaker is already there or beyond (nothing is published then)."""
        now = self._clock.timestamp_ns()
        return self._breaker.trip(state, reason, now, automatic=False, operator=operator)

    def trip_by(self, cmd: TripTradingState) -> bool:
        """An operator's trip (``TripTradingState``, recorded by the node before this):
        the breaker's ``TradingStateChanged`` says ``MANUAL by <operator>: <reason>``."""
        reason = f"{TripReason.MANUAL} by {cmd.operator}: {cmd.reason}"
        return self.trip(cmd.state, reason, cmd.operator)

    def set_limits(self, config: RiskConfig) -> None:
        """New limits, in force for the next order (the node records the operator's
        command first; headroom moves by each limit's change; the breaker settings stay
        as configured at start-up)."""
        now = self._clock.timestamp_ns()
        if config.cancel_rate != self._config.cancel_rate:
            rate = config.cancel_rate
            self._cancel_bucket = TokenBucket(rate.limit, rate.interval_ns, now)
        self._config = config
        self._gate.reconfigure(config, now)
        log.warning("risk limits changed")

    def change_limits(self, changes: Mapping[str, Any]) -> RiskConfig:
        """Merge ``changes`` (``RiskConfig`` field names and values, as in the config
        file) into the limits in force and apply them; return the new config. Raises
        ``msgspec.ValidationError`` naming the field when a value is invalid (nothing
        changes then). ``breaker`` cannot be changed at run time."""
        if "breaker" in changes:
            raise msgspec.ValidationError("breaker: cannot be changed at run time")
        config = msgspec.convert(msgspec.to_builtins(self._config) | dict(changes), RiskConfig)
        self.set_limits(config)
        return config

    def start_day(self) -> None:
        """Start a new trading day: the daily loss is measured from the current PnL."""
        self._gate.portfolio.start_day()
        self._gate.refresh()

    def _on_state_change(self, state: TradingState) -> None:
        gate = self._gate
        gate.halted = state is TradingState.HALTED
        gate.reducing = state is TradingState.REDUCING
        gate.refresh()

    def _alert(self, code: str, message: str, now: int, severity: str = "warning") -> None:
        self._publish(
            TradingAlert(
                source="risk",
                code=code,
                message=message,
                severity=severity,
                ts_event=now,
                ts_init=now,
            )
        )

    # ------------------------------------------------------------------ restart

    def restore(self, message: object) -> None:
        """Rebuild state from one stored message (commit order) without publishing,
        forwarding or tripping: the working orders, positions, exposure, PnL and its
        high-water mark (order events and fills), the trading state and breaker trips
        (``TradingStateChanged``), kill switches (``EngageKillSwitch`` /
        ``ReleaseKillSwitch``), venue breakers (``VenueStateChanged``), limits
        (``ChangeRiskLimits``, through :meth:`change_limits`) and the duplicate id
        memory. See :mod:`spreadwire.risk.restore`."""
        restorer = self._restorer
        if restorer is None:
            restorer = self._restorer = RiskRestorer(
                gate=self._gate,
                breaker=self._breaker,
                kill=self._kill,
                venues=self._venues,
                pending_modify=self._pending_modify,
                reserve_modify=self._reserve_modify,
                on_initialized=self._on_initialized,
                on_updated=self._on_updated,
                on_modify_rejected=self._on_modify_rejected,
            )
        if _tag(message) == LIMIT_CHANGE_TAG:
            self._restore_limits(message)
            return
        restorer.restore(message)

    def _restore_limits(self, message: object) -> None:
        """A stored limit change, applied as the node applied it (an invalid one changed
        nothing then and changes nothing now)."""
        changes = getattr(message, "changes", None)
        if not isinstance(changes, Mapping):
            return
        try:
            self.change_limits(changes)
        except msgspec.ValidationError:
            return

    # ------------------------------------------------------------------ bus input

    def event_handler(self, message_type: type) -> Callable[[Any], None] | None:
        """What :meth:`on_event` calls for a message of exactly this type (None: nothing),
        so that a router can call it directly."""
        return self._event_handlers.get(message_type)

    def on_event(self, event: object) -> None:
        """Feed one bus message (order events, fills, quotes, trades, data gaps)."""
        handler = self._event_handlers.get(type(event))
        if handler is not None:
            handler(event)

    def on_quote(self, quote: QuoteTick) -> None:
        """Reference price (collar, staleness), marks (exposure, PnL), price band. On the
        tick-to-order path: an unchanged mid only ages the reference, a mid within the
        band's precomputed bounds or a flat instrument's mark calls nothing."""
        self.on_top(quote.instrument_id, quote.bid_price.raw, quote.ask_price.raw, quote.ts_init)

    def on_top(self, instrument_id: str, bid: int, ask: int, now: int) -> None:
        """:meth:`on_quote` from the quote's fields (raw prices, ``ts_init``), which the
        node has read once for every consumer of the quote."""
        gate = self._gate
        inst = gate.instruments.get(instrument_id)
        if inst is None:
            return
        if bid > 0 and ask > 0:
            mid = (bid + ask) // 2
        else:
            mid = bid if bid > ask else ask
            if mid <= 0:
                return
        if mid != inst.reference:
            inst.set_reference(mid, now, gate.limits.max_age)
        else:
            inst.touch_reference(now, gate.limits.max_age)
        moved = False
        if mid != inst.mark:
            if inst.abs_position:
                moved = gate.portfolio.mark(inst, mid)
            else:
                inst.mark = mid  # Portfolio.mark of a flat instrument
        trips = self._trips
        if now > inst.band_until or not inst.band_low <= mid <= inst.band_high:
            trips.band(inst, mid, now)
        if moved:
            self._pnl_moved(now)
        if now >= trips.next_stale_check:
            self.check(now)

    def _pnl_moved(self, now: int) -> None:
        """A mark moved PnL and exposure: the loss/drawdown trips and the gate's rooms
        follow at once (a mark that moved nothing leaves both as they are). The breach
        test of ``Tripwires.pnl`` and ``Gate.refresh``, made once."""
        gate = self._gate
        portfolio = gate.portfolio
        limits = gate.limits
        pnl = portfolio.pnl
        # pnl - day_start <= -loss, high_water - pnl >= drawdown, in machine words
        if (limits.loss2 and sum_at_most(pnl, limits.loss, portfolio.day_start)) or (
            limits.drawdown2 and sum_at_most(pnl, limits.drawdown, portfolio.high_water)
        ):
            self._trips.pnl(portfolio, limits, now)
            gate.refresh()
        else:
            gate.refresh_unbreached()

    def _on_trade(self, trade: TradeTick) -> None:
        gate = self._gate
        inst = gate.instruments.get(trade.instrument_id)
        if inst is not None and inst.reference and trade.ts_init > inst.reference_ts:
            inst.touch_reference(trade.ts_init, gate.limits.max_age)

    def _on_initialized(self, event: OrderInitialized) -> None:
        """An order the gate did not approve itself (made by the OMS): count it too."""
        gate = self._gate
        if event.client_order_id in gate.portfolio.orders:
            return
        leg = gate.leg(event.strategy_id, event.instrument_id, event.ts_init)
        if leg is None:
            return
        price = event.price
        trigger = event.trigger_price
        if price is not None:
            notional_price = price.raw
        else:
            notional_price = trigger.raw if trigger is not None else leg.instrument.reference
        resting = price.raw if price is not None and event.order_type is OrderType.LIMIT else None
        sign = 1 if event.side is _BUY else -1
        gate.portfolio.add_order(
            WorkingOrder(
                event.client_order_id, leg, sign, event.quantity.raw, notional_price, resting
            )
        )

    def _on_terminal(self, event: OrderCanceled | OrderExpired) -> None:
        self._gate.close(event.client_order_id)
        self._pending_modify.pop(event.client_order_id, None)

    def _on_rejected(self, event: OrderRejected) -> None:
        self._gate.close(event.client_order_id)
        self._pending_modify.pop(event.client_order_id, None)
        self._trips.outcome(event.ts_init, self._gate.approved, bad=True, counted=False)

    def _on_accepted(self, event: OrderAccepted) -> None:
        inst = self._gate.instruments.get(event.instrument_id)
        if inst is not None:
            self._venues[inst.venue].record(True, event.ts_init)

    def _on_fill(self, event: OrderPartiallyFilled | OrderFilled) -> None:
        gate = self._gate
        leg = gate.leg(event.strategy_id, event.instrument_id, event.ts_init)
        if leg is None:
            return
        sign = 1 if event.side is _BUY else -1
        portfolio = gate.portfolio
        portfolio.apply_fill(leg, sign, event.last_qty.raw, event.last_px.raw)
        order = portfolio.order(event.client_order_id)
        if order is not None:
            if type(event) is OrderFilled:
                gate.close(event.client_order_id)
            else:
                portfolio.reduce_order(order, event.last_qty.raw)
        self._trips.pnl(portfolio, gate.limits, event.ts_init)
        gate.refresh()

    def _on_updated(self, event: OrderUpdated) -> None:
        self._pending_modify.pop(event.client_order_id, None)
        portfolio = self._gate.portfolio
        order = portfolio.order(event.client_order_id)
        if order is None:
            return
        portfolio.remove_order(event.client_order_id)
        order.leaves = max(0, event.quantity.raw - order.filled)
        if event.price is not None:
            order.notional_price = event.price.raw
            if order.resting_price is not None:
                order.resting_price = event.price.raw
        portfolio.add_order(order)

    def _on_modify_rejected(self, event: OrderModifyRejected) -> None:
        pending = self._pending_modify
        if denied_by_gate(event.reason, modify_in_flight=event.client_order_id in pending):
            return  # the gate's own denial: a modify approved before is still pending
        saved = pending.pop(event.client_order_id, None)
        portfolio = self._gate.portfolio
        order = portfolio.order(event.client_order_id)
        if saved is None or order is None:
            return
        portfolio.remove_order(event.client_order_id)
        self._restore(order, saved)

    def _on_alert(self, alert: TradingAlert) -> None:
        """An OMS alert that means the venue did not answer counts as a venue error."""
        if alert.source != "oms" or alert.code not in VENUE_ERROR_ALERTS:
            return
        order = self._gate.portfolio.order(alert.client_order_id or "")
        if order is not None:
            self.record_venue_error(order.leg.instrument.venue, alert.code)

    def _on_data_gap(self, gap: DataGap) -> None:
        if gap.reason == "stale":
            self._trips.stale(gap.instrument_id, gap.ts_init)

    # ------------------------------------------------------------------ breaker inputs

    def record_latency(self, latency_ns: int) -> None:
        """One tick-to-order latency sample (trips on a window's p99)."""
        self._trips.latency(latency_ns, self._clock.timestamp_ns())

    def record_venue_error(self, venue: str, reason: str = "") -> None:
        """A technical venue error (timeout, malformed reply, gateway error)."""
        now = self._clock.timestamp_ns()
        breaker = self._venues.get(venue)
        if breaker is not None:
            breaker.record(False, now, reason)
        self._trips.venue_error(venue, now)

    def on_venue_disconnected(self, venue: str, reason: str = "disconnect") -> None:
        """The venue session dropped: its breaker opens (new orders denied there)."""
        breaker = self._venues.get(venue)
        if breaker is not None:
            breaker.disconnected(self._clock.timestamp_ns(), reason)

    def check(self, now: int | None = None) -> None:
        """Periodic checks (call on a timer): stale data, latency window, deny rate, PnL."""
        if now is None:
            now = self._clock.timestamp_ns()
        gate = self._gate
        trips = self._trips
        trips.check_stale(gate.instruments.values(), now)
        trips.close_latency_window(now)
        trips.check_deny_rate(now, self._gate.approved)
        trips.pnl(gate.portfolio, gate.limits, now)
        gate.trim_seen()

    def _on_venue_change(
        self, venue: str, state: VenueState, previous: VenueState, reason: str, now: int
    ) -> None:
        gate = self._gate
        gate.venue_blocked = any(v.state is not VenueState.CLOSED for v in self._venues.values())
        gate.refresh()
        self._publish(
            VenueStateChanged(
                venue=venue,
                state=str(state),
                previous=str(previous),
                reason=reason,
                ts_event=now,
                ts_init=now,
            )
        )
        self._alert(f"VENUE_{str(state).upper()}", f"{venue}: {reason}", now)
