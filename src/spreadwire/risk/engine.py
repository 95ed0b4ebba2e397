"""The pre-trade risk gate, the circuit breaker and the kill switch.

``execute(command)`` is the only way an order reaches the OMS: a ``SubmitOrder`` or
``ModifyOrder`` runs the checks below in this fixed order, cheapest first, and either
goes on through ``forward`` or becomes an ``OrderDenied`` event with a distinct
:class:`~spreadwire.risk.reasons.DenyReason`; cancels always pass.

 1. trading state (HALTED) and kill switch      TRADING_HALTED, KILL_SWITCH
 2. instrument tradable, venue breaker          INSTRUMENT_NOT_TRADABLE, VENUE_UNAVAILABLE
 3. order shape, price and quantity precision   INVALID_ORDER, PRICE_/QUANTITY_PRECISION
 4. min/max quantity, min/max notional          QUANTITY_BELOW_MIN/ABOVE_MAX, NOTIONAL_*
 5. reference price and collar                  NO_/STALE_REFERENCE_PRICE, PRICE_COLLAR
 6. reduce-only (flag, or REDUCING state)       REDUCE_ONLY
 7. available balance / margin                  INSUFFICIENT_MARGIN
 8. max open orders (global, strategy)          MAX_OPEN_ORDERS, STRATEGY_MAX_OPEN_ORDERS
 9. order rate (strategy, global), cancel rate  STRATEGY_ORDER_RATE, ORDER_RATE, CANCEL_RATE
10. duplicate client order id                   DUPLICATE_CLIENT_ORDER_ID
11. self-trade against own resting orders       SELF_TRADE
12. position limit (strategy, instrument)       POSITION_LIMIT
13. strategy notional budget                    STRATEGY_NOTIONAL_BUDGET
14. portfolio gross and net exposure            GROSS_EXPOSURE, NET_EXPOSURE
15. daily loss, drawdown from high-water mark   DAILY_LOSS_LIMIT, MAX_DRAWDOWN

Checks 7 and 12-15 let a risk-reducing order through (it only shrinks a position,
counting the working orders on its side). The engine keeps its own view of the world
from the bus (``on_quote``, ``on_event``) and trips the breaker automatically on loss,
drawdown, deny/reject rate, stale data, tick-to-order latency and venue error bursts.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any, final

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
)
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce, TradingState
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
from spreadwire.domain.values import FIXED_SCALAR, Price, Quantity
from spreadwire.risk.breaker import BreakerTrip, CircuitBreaker
from spreadwire.risk.config import PriceBandTrip, RiskConfig
from spreadwire.risk.exposure import (
    InstrumentRisk,
    Leg,
    Portfolio,
    StrategyRisk,
    WorkingOrder,
    raw_amount,
)
from spreadwire.risk.killswitch import KillSwitch
from spreadwire.risk.monitors import BurstWindow, LatencyWindow, RateWindow
from spreadwire.risk.reasons import DenyReason as R
from spreadwire.risk.reasons import TripReason
from spreadwire.risk.throttle import TokenBucket
from spreadwire.risk.venue_breaker import VenueBreaker, VenueState

log = logging.getLogger("spreadwire.risk")

_BUY = OrderSide.BUY
_MARKET = OrderType.MARKET
_STOPS = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
_NEEDS_PRICE = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_S = FIXED_SCALAR
Denial = tuple[str, str]


class RiskStats(msgspec.Struct, frozen=True, kw_only=True):
    approved: int
    denied: int
    denied_by_reason: dict[str, int]
    cancels: int
    open_orders: int
    trading_state: str
    kill_switch: list[str]
    pnl: str
    high_water: str
    drawdown: str
    gross_exposure: str
    net_exposure: str


def _money(raw2: int) -> str:
    """A raw2 (scale 1e18) amount as a decimal string with 2 decimals (truncated)."""
    cents = abs(raw2) // (_S * _S // 100)
    sign = "-" if raw2 < 0 and cents else ""
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@final
class RiskEngine:
    """Pre-trade gate + breaker + kill switch; single writer, driven by the dispatch loop."""

    __slots__ = (
        "_approved",
        "_breaker",
        "_burst",
        "_cancel_bucket",
        "_cancels",
        "_clock",
        "_config",
        "_denied",
        "_denied_by_reason",
        "_deny_window",
        "_event_handlers",
        "_forward",
        "_instruments",
        "_kill",
        "_latency",
        "_limits",
        "_next_stale_check",
        "_order_bucket",
        "_pending_modify",
        "_portfolio",
        "_publish",
        "_reducing",
        "_restricted",
        "_seen_ids",
        "_seen_order",
        "_venue_blocked",
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
        self._config = config
        self._clock = clock
        self._forward = forward
        self._publish = publish
        now = clock.timestamp_ns()
        self._instruments = {key: self._instrument_risk(i) for key, i in instruments.items()}
        self._portfolio = Portfolio(self._instruments)
        self._limits = _Limits(config)
        self._order_bucket = TokenBucket(
            config.order_rate.limit, config.order_rate.interval_ns, now
        )
        self._cancel_bucket = TokenBucket(
            config.cancel_rate.limit, config.cancel_rate.interval_ns, now
        )
        self._breaker = CircuitBreaker(publish, cooldown_ns=config.breaker.reducing_cooldown_ns)
        self._breaker.on_change = self._on_state_change
        self._kill = KillSwitch()
        self._restricted = False
        self._reducing = False
        breaker = config.breaker
        self._deny_window = (
            RateWindow(breaker.deny_reject.window_ns) if breaker.deny_reject else None
        )
        self._burst = (
            BurstWindow(breaker.venue_errors.count, breaker.venue_errors.window_ns)
            if breaker.venue_errors
            else None
        )
        self._latency = (
            LatencyWindow(
                breaker.latency.window_ns, breaker.latency.p99_ns, breaker.latency.min_count
            )
            if breaker.latency
            else None
        )
        self._venues: dict[str, VenueBreaker] = {}
        for instrument in self._instruments.values():
            if instrument.venue not in self._venues:
                self._venues[instrument.venue] = VenueBreaker(
                    instrument.venue, breaker.venue, self._on_venue_change
                )
        self._venue_blocked = False
        self._seen_ids: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._pending_modify: dict[str, tuple[int, int, int | None]] = {}
        self._next_stale_check = 0
        self._approved = 0
        self._denied = 0
        self._cancels = 0
        self._denied_by_reason: Counter[str] = Counter()
        self._event_handlers: dict[type, Callable[[Any], None]] = {
            OrderInitialized: self._on_initialized,
            OrderDenied: self._on_terminal,
            OrderRejected: self._on_rejected,
            OrderCanceled: self._on_terminal,
            OrderExpired: self._on_terminal,
            OrderPartiallyFilled: self._on_fill,
            OrderFilled: self._on_fill,
            OrderAccepted: self._on_accepted,
            OrderUpdated: self._on_updated,
            OrderModifyRejected: self._on_modify_rejected,
            DataGap: self._on_data_gap,
            QuoteTick: self.on_quote,
            TradeTick: self._on_trade,
        }

    def _instrument_risk(self, instrument: Instrument) -> InstrumentRisk:
        config = self._config
        limits = config.instrument_limits.get(instrument.instrument_id)

        def pick(name: str) -> str:
            value = getattr(limits, name) if limits is not None else None
            return value if value is not None else str(getattr(config, name))

        min_notional2 = instrument.min_notional.raw * _S if config.check_min_notional else 0
        return InstrumentRisk(
            instrument,
            min_quantity=raw_amount(pick("min_order_quantity")),
            max_quantity=raw_amount(pick("max_order_quantity")),
            min_notional2=min_notional2,
            max_notional2=raw_amount(pick("max_order_notional")) * _S,
            max_position=raw_amount(pick("max_position")),
            collar_bps=int(pick("collar_bps")),
        )

    # ------------------------------------------------------------------ queries

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
        strategy = self._portfolio.strategies.get(strategy_id)
        leg = strategy.legs.get(instrument_id) if strategy is not None else None
        return leg.position if leg is not None else 0

    def open_orders(self) -> list[str]:
        return list(self._portfolio.orders)

    def stats(self) -> RiskStats:
        portfolio = self._portfolio
        return RiskStats(
            approved=self._approved,
            denied=self._denied,
            denied_by_reason=dict(self._denied_by_reason),
            cancels=self._cancels,
            open_orders=portfolio.open_count,
            trading_state=str(self._breaker.state),
            kill_switch=self._kill_labels(),
            pnl=_money(portfolio.pnl2),
            high_water=_money(portfolio.high_water2),
            drawdown=_money(portfolio.drawdown2),
            gross_exposure=_money(portfolio.gross2),
            net_exposure=_money(portfolio.net2),
        )

    def _kill_labels(self) -> list[str]:
        kill = self._kill
        labels = ["all"] if kill.all else []
        labels += [f"strategy:{s}" for s in sorted(kill.strategies)]
        labels += [f"instrument:{i}" for i in sorted(kill.instruments)]
        return labels

    # ------------------------------------------------------------------ commands

    def execute(self, command: object) -> bool:
        """Gate one command; True when it was forwarded."""
        kind = type(command)
        if kind is SubmitOrder:
            assert isinstance(command, SubmitOrder)
            return self._submit(command)
        if kind is CancelOrder or kind is CancelAllOrders:
            assert isinstance(command, (CancelOrder, CancelAllOrders))
            return self._cancel(command)
        if kind is ModifyOrder:
            assert isinstance(command, ModifyOrder)
            return self._modify(command)
        return self._execute_other(command)

    def _execute_other(self, command: object) -> bool:
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
        raise TypeError(f"command: {type(command).__name__} is not a risk command")

    def _submit(self, cmd: SubmitOrder) -> bool:
        now = self._clock.timestamp_ns()
        result = self._approve(cmd, now)
        if type(result) is WorkingOrder:
            self._commit(cmd, result, now)
            self._forward(cmd)
            return True
        assert isinstance(result, tuple)
        self._deny(cmd, result, now)
        return False

    def _approve(self, cmd: SubmitOrder, now: int) -> WorkingOrder | Denial:
        inst = self._instruments.get(cmd.instrument_id)
        strategy = self._portfolio.strategies.get(cmd.strategy_id) or self._new_strategy(
            cmd.strategy_id, now
        )
        if inst is None:
            return R.INSTRUMENT_NOT_TRADABLE, f"unknown instrument {cmd.instrument_id}"
        leg = strategy.legs.get(cmd.instrument_id) or self._portfolio.leg(strategy, inst)
        sign = 1 if cmd.side is _BUY else -1
        quantity = cmd.quantity.raw
        denial = self._check_shape(cmd, inst, leg, sign, now)
        if denial is not None:
            return denial
        price = cmd.price
        notional_price = (
            price.raw
            if price is not None
            else (cmd.trigger_price.raw if cmd.trigger_price is not None else inst.reference)
        )
        notional2 = notional_price * quantity
        denial = self._check_market(cmd, inst, leg, notional2, now)
        if denial is None:
            denial = self._check_flow(cmd, inst, strategy, sign, now)
        if denial is None:
            denial = self._check_exposure(leg, sign, quantity, notional2)
        if denial is not None:
            return denial
        resting = (
            price.raw if price is not None and cmd.order_type is not OrderType.STOP_LIMIT else None
        )
        return WorkingOrder(
            cmd.client_order_id, leg, sign, quantity, notional_price, resting_price=resting
        )

    def _check_shape(
        self, cmd: SubmitOrder, inst: InstrumentRisk, leg: Leg, sign: int, now: int
    ) -> Denial | None:
        if self._restricted:
            denial = self._check_state(cmd, leg, sign)
            if denial is not None:
                return denial
        if not inst.tradable:
            return R.INSTRUMENT_NOT_TRADABLE, f"{inst.instrument_id} is not tradable"
        if self._venue_blocked and not self._venues[inst.venue].allow(now):
            return R.VENUE_UNAVAILABLE, f"venue {inst.venue} breaker is open"
        denial = self._check_type(cmd, now)
        if denial is not None:
            return denial
        price = cmd.price
        trigger = cmd.trigger_price
        if (price is not None and price.raw % inst.tick) or (
            trigger is not None and trigger.raw % inst.tick
        ):
            return R.PRICE_PRECISION, f"price is not on the tick grid {inst.tick / _S}"
        quantity = cmd.quantity.raw
        if quantity % inst.lot:
            return R.QUANTITY_PRECISION, f"quantity {cmd.quantity} is not a multiple of the lot"
        if quantity < inst.min_quantity:
            return R.QUANTITY_BELOW_MIN, f"quantity {cmd.quantity} < {inst.min_quantity / _S}"
        if quantity > inst.max_quantity:
            return R.QUANTITY_ABOVE_MAX, f"quantity {cmd.quantity} > {inst.max_quantity / _S}"
        return None

    @staticmethod
    def _check_type(cmd: SubmitOrder, now: int) -> Denial | None:
        order_type = cmd.order_type
        if (cmd.price is None) is (order_type in _NEEDS_PRICE) or (
            (cmd.trigger_price is None) is (order_type in _STOPS)
        ):
            return R.INVALID_ORDER, (
                f"{order_type} with price={cmd.price} trigger_price={cmd.trigger_price}"
            )
        if cmd.time_in_force is TimeInForce.GTD and (
            cmd.expire_time_ns is None or cmd.expire_time_ns <= now
        ):
            return R.INVALID_ORDER, "GTD order needs an expire_time_ns in the future"
        return None

    def _check_state(self, cmd: SubmitOrder, leg: Leg, sign: int) -> Denial | None:
        if self._breaker.state is TradingState.HALTED:
            return R.TRADING_HALTED, "trading is HALTED; only cancels pass"
        if self._kill.blocks(cmd.strategy_id, cmd.instrument_id) and not leg.reduces(
            sign, cmd.quantity.raw
        ):
            return R.KILL_SWITCH, "kill switch engaged; only risk-reducing orders pass"
        return None

    def _check_market(
        self,
        cmd: SubmitOrder,
        inst: InstrumentRisk,
        leg: Leg,
        notional2: int,
        now: int,
    ) -> Denial | None:
        limits = self._limits
        sign = 1 if cmd.side is _BUY else -1
        if notional2:
            if notional2 < inst.min_notional2:
                return R.NOTIONAL_BELOW_MIN, f"notional {_money(notional2)} below the minimum"
            if notional2 > inst.max_notional2:
                return R.NOTIONAL_ABOVE_MAX, f"notional {_money(notional2)} above the maximum"
        reference = inst.reference
        if reference == 0:
            if limits.require_reference or cmd.order_type is _MARKET:
                return R.NO_REFERENCE_PRICE, f"no reference price for {inst.instrument_id}"
        elif limits.max_age and now - inst.reference_ts > limits.max_age:
            return R.STALE_REFERENCE_PRICE, f"reference price of {inst.instrument_id} is stale"
        elif self._outside_collar(cmd, inst, reference):
            return R.PRICE_COLLAR, f"price outside the collar around {reference / _S}"
        if (cmd.reduce_only or self._reducing) and not leg.reduces(sign, cmd.quantity.raw):
            return R.REDUCE_ONLY, "order would not reduce the position"
        portfolio = self._portfolio
        if (portfolio.gross2 + portfolio.open_notional2 + notional2) * limits.margin_bps > (
            limits.balance2 + portfolio.pnl2
        ) * 10_000 and not leg.reduces(sign, cmd.quantity.raw):
            return R.INSUFFICIENT_MARGIN, "not enough available balance for the margin"
        return None

    def _outside_collar(self, cmd: SubmitOrder, inst: InstrumentRisk, reference: int) -> bool:
        price = cmd.price
        if price is not None and abs(price.raw - reference) * 10_000 > inst.collar_bps * reference:
            return True
        trigger = cmd.trigger_price
        return (
            trigger is not None
            and abs(trigger.raw - reference) * 10_000 > self._limits.stop_collar_bps * reference
        )

    def _check_flow(
        self, cmd: SubmitOrder, inst: InstrumentRisk, strategy: StrategyRisk, sign: int, now: int
    ) -> Denial | None:
        limits = self._limits
        if self._portfolio.open_count >= limits.max_open_orders:
            return R.MAX_OPEN_ORDERS, f"{limits.max_open_orders} orders already open"
        if strategy.open_count >= limits.strategy_max_open_orders:
            return R.STRATEGY_MAX_OPEN_ORDERS, f"{strategy.open_count} orders already open"
        if not strategy.order_bucket.available(now):
            return R.STRATEGY_ORDER_RATE, f"strategy {cmd.strategy_id} order rate exceeded"
        if not self._order_bucket.available(now):
            return R.ORDER_RATE, "global order rate exceeded"
        if now < strategy.cancel_blocked_until:
            return R.CANCEL_RATE, f"strategy {cmd.strategy_id} cancel rate exceeded"
        if cmd.client_order_id in self._seen_ids:
            return R.DUPLICATE_CLIENT_ORDER_ID, f"client order id {cmd.client_order_id} reused"
        if limits.self_trade and self._crosses_own(cmd, inst, sign):
            return R.SELF_TRADE, "order would trade against an own resting order"
        return None

    @staticmethod
    def _crosses_own(cmd: SubmitOrder, inst: InstrumentRisk, sign: int) -> bool:
        opposite = inst.best_own_ask if sign > 0 else inst.best_own_bid
        if opposite is None or cmd.order_type in _STOPS:
            return False
        price = cmd.price
        if price is None:
            return True
        return price.raw >= opposite if sign > 0 else price.raw <= opposite

    def _check_exposure(self, leg: Leg, sign: int, quantity: int, notional2: int) -> Denial | None:
        portfolio = self._portfolio
        limits = self._limits
        strategy = leg.strategy
        if sign > 0:
            projected = leg.position + leg.open_buy + quantity
        else:
            projected = leg.open_sell + quantity - leg.position
        denial: Denial | None = None
        if projected > leg.instrument.max_position:
            denial = R.POSITION_LIMIT, f"projected position {projected / _S} over the limit"
        elif strategy.gross2 + strategy.open_notional2 + notional2 > limits.budget2:
            denial = R.STRATEGY_NOTIONAL_BUDGET, f"strategy {strategy.strategy_id} budget spent"
        elif portfolio.gross2 + portfolio.open_notional2 + notional2 > limits.gross2:
            denial = R.GROSS_EXPOSURE, "portfolio gross exposure cap"
        elif abs(portfolio.net2 + sign * notional2) > limits.net2:
            denial = R.NET_EXPOSURE, "portfolio net exposure cap"
        elif limits.loss2 and portfolio.daily_pnl2 <= -limits.loss2:
            denial = R.DAILY_LOSS_LIMIT, f"daily PnL {_money(portfolio.daily_pnl2)}"
        elif limits.drawdown2 and portfolio.drawdown2 >= limits.drawdown2:
            denial = R.MAX_DRAWDOWN, f"drawdown {_money(portfolio.drawdown2)}"
        if denial is not None and leg.reduces(sign, quantity):
            return None
        return denial

    def _commit(self, cmd: SubmitOrder, order: WorkingOrder, now: int) -> None:
        order.leg.strategy.order_bucket.take()
        self._order_bucket.take()
        self._remember(cmd.client_order_id)
        self._portfolio.add_order(order)
        self._approved += 1
        window = self._deny_window
        if window is not None:
            window.record(now, False)
            if window.bad:
                self._check_deny_rate(now)

    def _remember(self, client_order_id: str) -> None:
        self._seen_ids.add(client_order_id)
        self._seen_order.append(client_order_id)
        if len(self._seen_order) > self._config.duplicate_id_memory:
            self._seen_ids.discard(self._seen_order.popleft())

    def _rollback(self, order: WorkingOrder) -> None:
        self._portfolio.remove_order(order.client_order_id)
        order.leg.strategy.order_bucket.take_back()
        self._order_bucket.take_back()
        self._seen_ids.discard(order.client_order_id)
        self._approved -= 1

    def _deny_modify(self, cmd: ModifyOrder, denial: Denial, now: int) -> None:
        """A denied modify leaves the working order as it was: ``OrderModifyRejected``."""
        reason, message = denial
        self._count_denial(reason, now)
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

    def _count_denial(self, reason: str, now: int) -> None:
        self._denied += 1
        self._denied_by_reason[reason] += 1
        window = self._deny_window
        if window is not None:
            window.record(now, True)
            self._check_deny_rate(now)

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

    def _new_strategy(self, strategy_id: str, now: int) -> StrategyRisk:
        config = self._config
        strategy = StrategyRisk(
            strategy_id,
            TokenBucket(
                config.strategy_order_rate.limit, config.strategy_order_rate.interval_ns, now
            ),
            TokenBucket(
                config.strategy_cancel_rate.limit, config.strategy_cancel_rate.interval_ns, now
            ),
        )
        self._portfolio.strategies[strategy_id] = strategy
        return strategy

    # -- pairs

    def _submit_pair(self, cmd: SubmitPairOrder) -> bool:
        """Both legs pass the gate or neither is sent (``PAIR_LEG_DENIED`` for the other)."""
        now = self._clock.timestamp_ns()
        first = self._approve(cmd.first, now)
        if type(first) is WorkingOrder:
            self._commit(cmd.first, first, now)
            second = self._approve(cmd.second, now)
            if type(second) is WorkingOrder:
                self._commit(cmd.second, second, now)
                self._forward(cmd)
                return True
            self._rollback(first)
            assert isinstance(second, tuple)
            self._deny(cmd.first, (R.PAIR_LEG_DENIED, f"other leg denied: {second[0]}"), now)
            self._deny(cmd.second, second, now)
            return False
        assert isinstance(first, tuple)
        self._deny(cmd.first, first, now)
        self._deny(cmd.second, (R.PAIR_LEG_DENIED, f"other leg denied: {first[0]}"), now)
        return False

    # -- modify and cancel

    def _modify(self, cmd: ModifyOrder) -> bool:
        now = self._clock.timestamp_ns()
        order = self._portfolio.orders.get(cmd.client_order_id)
        if order is None:
            self._deny_modify(cmd, (R.UNKNOWN_ORDER, "no working order with this id"), now)
            return False
        leg = order.leg
        side = OrderSide.BUY if order.sign > 0 else OrderSide.SELL
        if self._restricted and self._modify_increases(cmd, order):
            denial = self._check_restricted_modify(cmd)
            if denial is not None:
                self._deny_modify(cmd, denial, now)
                return False
        saved = (order.leaves, order.notional_price, order.resting_price)
        self._portfolio.remove_order(order.client_order_id)
        quantity = cmd.quantity.raw if cmd.quantity is not None else saved[0]
        price_raw = cmd.price.raw if cmd.price is not None else saved[2]
        probe = _ModifyProbe(cmd, side, quantity, price_raw, leg.instrument)
        result = self._approve_modify(probe.order, leg, now)
        if isinstance(result, tuple):
            self._restore(order, saved)
            self._deny_modify(cmd, result, now)
            return False
        self._pending_modify[cmd.client_order_id] = saved
        order.leaves = max(0, quantity - order.filled)
        order.notional_price = price_raw if price_raw is not None else saved[1]
        order.resting_price = price_raw if saved[2] is not None else None
        self._portfolio.add_order(order)
        self._order_bucket.take()
        leg.strategy.order_bucket.take()
        self._forward(cmd)
        return True

    def _approve_modify(self, probe: SubmitOrder, leg: Leg, now: int) -> WorkingOrder | Denial:
        seen = probe.client_order_id in self._seen_ids
        self._seen_ids.discard(probe.client_order_id)
        try:
            return self._approve(probe, now)
        finally:
            if seen:
                self._seen_ids.add(probe.client_order_id)

    def _restore(self, order: WorkingOrder, saved: tuple[int, int, int | None]) -> None:
        order.leaves, order.notional_price, order.resting_price = saved
        self._portfolio.add_order(order)

    def _modify_increases(self, cmd: ModifyOrder, order: WorkingOrder) -> bool:
        return (cmd.quantity is not None and cmd.quantity.raw > order.leaves) or (
            cmd.price is not None and cmd.price.raw != order.resting_price
        )

    def _check_restricted_modify(self, cmd: ModifyOrder) -> Denial | None:
        if self._breaker.state is TradingState.HALTED:
            return R.TRADING_HALTED, "trading is HALTED; a modify may only reduce quantity"
        if self._kill.blocks(cmd.strategy_id, cmd.instrument_id):
            return R.KILL_SWITCH, "kill switch engaged; a modify may only reduce quantity"
        if self._reducing:
            return R.REDUCE_ONLY, "REDUCING: a modify may only reduce quantity"
        return None

    def _cancel(self, cmd: CancelOrder | CancelAllOrders) -> bool:
        """Cancels always pass; an exhausted cancel rate blocks the strategy's new orders."""
        now = self._clock.timestamp_ns()
        self._cancels += 1
        strategy = self._portfolio.strategies.get(cmd.strategy_id)
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
        """Block risk-increasing orders in scope and cancel its working orders; return
        how many cancels were sent."""
        now = self._clock.timestamp_ns()
        label = self._kill.engage(cmd.scope, cmd.target, cmd.operator, cmd.reason, now)
        self._update_restricted()
        reason = f"{TripReason.KILL_SWITCH} by {cmd.operator}: {cmd.reason}"
        log.warning("kill switch engaged (%s): %s", label, reason)
        self._publish(
            TradingStateChanged(
                state=TradingState.REDUCING,
                previous=TradingState.ACTIVE,
                reason=reason,
                scope=label,
                ts_event=now,
                ts_init=now,
            )
        )
        self._alert("KILL_SWITCH", f"{label}: {reason}", now, "critical")
        return self._cancel_scope(cmd.scope, cmd.target, now)

    def _cancel_scope(self, scope: str, target: str | None, now: int) -> int:
        in_scope = self._kill.in_scope
        forward = self._forward
        sent = 0
        for order in list(self._portfolio.orders.values()):
            leg = order.leg
            strategy_id = leg.strategy.strategy_id
            instrument_id = leg.instrument.instrument_id
            if in_scope(scope, target, strategy_id, instrument_id):
                forward(
                    CancelOrder(
                        strategy_id=strategy_id,
                        instrument_id=instrument_id,
                        client_order_id=order.client_order_id,
                        ts_init=now,
                    )
                )
                sent += 1
        self._cancels += sent
        return sent

    def release_kill_switch(self, cmd: ReleaseKillSwitch) -> None:
        now = self._clock.timestamp_ns()
        if not self._kill.is_engaged(cmd.scope, cmd.target):
            return
        label = self._kill.release(cmd.scope, cmd.target, cmd.operator, cmd.reason, now)
        self._update_restricted()
        reason = f"KILL_SWITCH_RELEASED by {cmd.operator}: {cmd.reason}"
        log.warning("kill switch released (%s): %s", label, reason)
        self._publish(
            TradingStateChanged(
                state=TradingState.ACTIVE,
                previous=TradingState.REDUCING,
                reason=reason,
                scope=label,
                ts_event=now,
                ts_init=now,
            )
        )
        self._alert("KILL_SWITCH_RELEASED", f"{label}: {reason}", now, "warning")

    def reset(self, operator: str, reason: str = "") -> bool:
        """Audited return to ACTIVE; False when refused (cool-down) or already ACTIVE."""
        return self._breaker.reset(operator, reason, self._clock.timestamp_ns())

    def trip(self, state: TradingState, reason: str) -> bool:
        """Manual trip (operator) to REDUCING or HALTED."""
        return self._breaker.trip(state, reason, self._clock.timestamp_ns(), automatic=False)

    def start_day(self) -> None:
        """Start a new trading day: the daily loss is measured from the current PnL."""
        self._portfolio.start_day()

    def _on_state_change(self, state: TradingState) -> None:
        self._update_restricted()

    def _update_restricted(self) -> None:
        state = self._breaker.state
        self._reducing = state is TradingState.REDUCING
        self._restricted = state is not TradingState.ACTIVE or self._kill.engaged

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

    # ------------------------------------------------------------------ bus input

    def on_event(self, event: object) -> None:
        """Feed one bus message (order events, fills, quotes, data gaps)."""
        handler = self._event_handlers.get(type(event))
        if handler is not None:
            handler(event)

    def on_quote(self, quote: QuoteTick) -> None:
        inst = self._instruments.get(quote.instrument_id)
        if inst is None:
            return
        bid = quote.bid_price.raw
        ask = quote.ask_price.raw
        mid = (bid + ask) // 2 if bid > 0 and ask > 0 else max(bid, ask)
        if mid <= 0:
            return
        now = quote.ts_init
        inst.reference = mid
        inst.reference_ts = now
        self._portfolio.mark(inst, mid)
        band = self._config.breaker.price_band
        if band is not None:
            self._check_band(inst, mid, now, band)
        self._check_pnl(now)
        if now >= self._next_stale_check:
            self.check(now)

    def _on_trade(self, trade: TradeTick) -> None:
        inst = self._instruments.get(trade.instrument_id)
        if inst is not None and inst.reference:
            inst.reference_ts = max(inst.reference_ts, trade.ts_init)

    def _leg_for(self, strategy_id: str, instrument_id: str) -> Leg | None:
        inst = self._instruments.get(instrument_id)
        if inst is None:
            return None
        strategy = self._portfolio.strategies.get(strategy_id) or self._new_strategy(
            strategy_id, self._clock.timestamp_ns()
        )
        return self._portfolio.leg(strategy, inst)

    def _on_initialized(self, event: OrderInitialized) -> None:
        if event.client_order_id in self._portfolio.orders:
            return
        leg = self._leg_for(event.strategy_id, event.instrument_id)
        if leg is None:
            return
        price = event.price
        trigger = event.trigger_price
        notional_price = (
            price.raw
            if price is not None
            else (trigger.raw if trigger else leg.instrument.reference)
        )
        resting = (
            price.raw
            if price is not None and event.order_type is not OrderType.STOP_LIMIT
            else None
        )
        sign = 1 if event.side is _BUY else -1
        self._remember(event.client_order_id)
        self._portfolio.add_order(
            WorkingOrder(
                event.client_order_id,
                leg,
                sign,
                event.quantity.raw,
                notional_price,
                resting_price=resting,
            )
        )

    def _on_terminal(self, event: OrderDenied | OrderCanceled | OrderExpired) -> None:
        self._portfolio.remove_order(event.client_order_id)
        self._pending_modify.pop(event.client_order_id, None)

    def _on_rejected(self, event: OrderRejected) -> None:
        self._on_terminal(event)  # type: ignore[arg-type]
        window = self._deny_window
        if window is not None:
            window.record_bad(event.ts_init)
            self._check_deny_rate(event.ts_init)

    def _on_accepted(self, event: OrderAccepted) -> None:
        inst = self._instruments.get(event.instrument_id)
        if inst is not None:
            self._venues[inst.venue].record(True, event.ts_init)

    def _on_fill(self, event: OrderPartiallyFilled | OrderFilled) -> None:
        leg = self._leg_for(event.strategy_id, event.instrument_id)
        if leg is None:
            return
        sign = 1 if event.side is _BUY else -1
        portfolio = self._portfolio
        portfolio.apply_fill(leg, sign, event.last_qty.raw, event.last_px.raw)
        order = portfolio.orders.get(event.client_order_id)
        if order is not None:
            if type(event) is OrderFilled:
                portfolio.remove_order(event.client_order_id)
            else:
                portfolio.reduce_order(order, event.last_qty.raw)
        self._check_pnl(event.ts_init)

    def _on_updated(self, event: OrderUpdated) -> None:
        self._pending_modify.pop(event.client_order_id, None)
        order = self._portfolio.orders.get(event.client_order_id)
        if order is None:
            return
        self._portfolio.remove_order(event.client_order_id)
        order.leaves = max(0, event.quantity.raw - order.filled)
        if event.price is not None:
            order.notional_price = event.price.raw
            if order.resting_price is not None:
                order.resting_price = event.price.raw
        self._portfolio.add_order(order)

    def _on_modify_rejected(self, event: OrderModifyRejected) -> None:
        saved = self._pending_modify.pop(event.client_order_id, None)
        order = self._portfolio.orders.get(event.client_order_id)
        if saved is None or order is None:
            return
        self._portfolio.remove_order(event.client_order_id)
        self._restore(order, saved)

    def _on_data_gap(self, gap: DataGap) -> None:
        if gap.reason == "stale":
            self._trip_stale(gap.instrument_id, gap.ts_init)

    # ------------------------------------------------------------------ breaker inputs

    def record_latency(self, latency_ns: int) -> None:
        """One tick-to-order latency sample (trips on the window's p99)."""
        window = self._latency
        if window is None:
            return
        now = self._clock.timestamp_ns()
        breach = window.record(latency_ns, now)
        if breach:
            self._trip_latency(breach, now)

    def record_venue_error(self, venue: str, reason: str = "") -> None:
        """A technical venue error (timeout, malformed reply, gateway error)."""
        now = self._clock.timestamp_ns()
        breaker = self._venues.get(venue)
        if breaker is not None:
            breaker.record(False, now, reason)
        burst = self._burst
        config = self._config.breaker.venue_errors
        if burst is not None and config is not None and burst.record(now):
            self._breaker.trip(config.trip_state, f"{TripReason.VENUE_ERRORS}:{venue}", now)

    def on_venue_disconnected(self, venue: str, reason: str = "disconnect") -> None:
        breaker = self._venues.get(venue)
        if breaker is not None:
            breaker.disconnected(self._clock.timestamp_ns(), reason)

    def check(self, now: int | None = None) -> None:
        """Periodic checks (call on a timer): stale data, latency window, PnL."""
        if now is None:
            now = self._clock.timestamp_ns()
        stale_after = self._config.breaker.stale_after_ns
        if stale_after:
            self._next_stale_check = now + max(1, stale_after // 10)
            for inst in self._instruments.values():
                if inst.reference_ts and now - inst.reference_ts > stale_after:
                    self._trip_stale(inst.instrument_id, now)
        if self._latency is not None:
            breach = self._latency.close_if_due(now)
            if breach:
                self._trip_latency(breach, now)
        self._check_pnl(now)

    def _trip_stale(self, instrument_id: str, now: int) -> None:
        reason = f"{TripReason.STALE_MARKET_DATA}:{instrument_id}"
        if not self._breaker.is_tripped(reason):
            self._breaker.trip(self._config.breaker.stale_trip_state, reason, now)

    def _check_band(self, inst: InstrumentRisk, mid: int, now: int, band: PriceBandTrip) -> None:
        anchor = inst.band_anchor
        if anchor == 0 or now - inst.band_anchor_ts > band.window_ns:
            inst.band_anchor = mid
            inst.band_anchor_ts = now
        elif abs(mid - anchor) * 10_000 > band.band_bps * anchor:
            reason = f"{TripReason.PRICE_BAND}:{inst.instrument_id}"
            if not self._breaker.is_tripped(reason):
                self._breaker.trip(band.trip_state, reason, now)

    def _trip_latency(self, p99: int, now: int) -> None:
        config = self._config.breaker.latency
        assert config is not None
        self._breaker.trip(config.trip_state, f"{TripReason.LATENCY_P99}:{p99}ns", now)

    def _check_deny_rate(self, now: int) -> None:
        window = self._deny_window
        config = self._config.breaker.deny_reject
        if window is None or config is None:
            return
        window.counts(now)
        if window.breached(config.threshold_pct, config.min_count):
            reason = str(TripReason.DENY_REJECT_RATE)
            if not self._breaker.is_tripped(reason):
                self._breaker.trip(
                    config.trip_state, f"{reason}:{window.bad}/{window.total}", now, key=reason
                )

    def _check_pnl(self, now: int) -> None:
        portfolio = self._portfolio
        limits = self._limits
        breaker = self._breaker
        if (
            limits.loss2
            and portfolio.pnl2 - portfolio.day_start_pnl2 <= -limits.loss2
            and not breaker.is_tripped(TripReason.DAILY_LOSS)
        ):
            breaker.trip(self._config.breaker.loss_trip_state, TripReason.DAILY_LOSS, now)
        if (
            limits.drawdown2
            and portfolio.high_water2 - portfolio.pnl2 >= limits.drawdown2
            and not breaker.is_tripped(TripReason.DRAWDOWN)
        ):
            breaker.trip(self._config.breaker.drawdown_trip_state, TripReason.DRAWDOWN, now)

    def _on_venue_change(
        self, venue: str, state: VenueState, previous: VenueState, reason: str, now: int
    ) -> None:
        self._venue_blocked = any(v.state is not VenueState.CLOSED for v in self._venues.values())
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


@final
class _Limits:
    """Config limits converted once to raw ints (raw2 for money, scale 1e18)."""

    __slots__ = (
        "balance2",
        "budget2",
        "drawdown2",
        "gross2",
        "loss2",
        "margin_bps",
        "max_age",
        "max_open_orders",
        "net2",
        "require_reference",
        "self_trade",
        "stop_collar_bps",
        "strategy_max_open_orders",
    )

    def __init__(self, config: RiskConfig) -> None:
        self.max_age = config.reference_max_age_ns
        self.require_reference = config.require_reference_price
        self.stop_collar_bps = config.stop_collar_bps
        self.margin_bps = config.margin_bps
        self.balance2 = raw_amount(config.starting_balance) * _S
        self.max_open_orders = config.max_open_orders
        self.strategy_max_open_orders = config.strategy_max_open_orders
        self.self_trade = config.self_trade_check
        self.budget2 = raw_amount(config.strategy_notional_budget) * _S
        self.gross2 = raw_amount(config.max_gross_exposure) * _S
        self.net2 = raw_amount(config.max_net_exposure) * _S
        self.loss2 = raw_amount(config.daily_loss_limit) * _S
        self.drawdown2 = raw_amount(config.max_drawdown) * _S


@final
class _ModifyProbe:
    """The amended order as a ``SubmitOrder`` so a modify runs the same checks."""

    __slots__ = ("order",)

    def __init__(
        self,
        cmd: ModifyOrder,
        side: OrderSide,
        quantity: int,
        price_raw: int | None,
        inst: InstrumentRisk,
    ) -> None:
        self.order = SubmitOrder(
            strategy_id=cmd.strategy_id,
            instrument_id=cmd.instrument_id,
            client_order_id=cmd.client_order_id,
            side=side,
            order_type=OrderType.LIMIT if price_raw is not None else OrderType.MARKET,
            quantity=Quantity(raw=quantity, precision=inst.size_precision),
            price=(
                Price(raw=price_raw, precision=inst.price_precision)
                if price_raw is not None
                else None
            ),
            ts_init=cmd.ts_init,
        )
