"""The pre-trade gate: every check, in a fixed order, cheapest first.

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

Checks 7 and 12-15 let a risk-reducing order through (it only shrinks the strategy's
position in the instrument, counting its working orders on the same side).

Two paths give the same answer. :meth:`Gate.execute` (the engine's ``execute``) evaluates
every check of a plain limit order as one boolean expression over precomputed bounds
(collar, reference expiry, margin and gross capacity) and commits at once when all pass,
keeping the approved command itself as the working order; anything else - a failing
check, a stop or market order, a restricted state - goes through :meth:`Gate.approve`,
which runs the checks one by one in the order above and names the first that fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any, Final, NoReturn, final

from msgspec.structs import astuple

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import FIXED_SCALAR
from spreadwire.risk.config import RiskConfig
from spreadwire.risk.exposure import (
    NO_ASK,
    NO_BID,
    InstrumentRisk,
    Leg,
    Portfolio,
    Room,
    StrategyRisk,
    WorkingOrder,
    at_least,
    raw1_notional,
    raw_amount,
)
from spreadwire.risk.killswitch import KillSwitch
from spreadwire.risk.reasons import DenyReason as R
from spreadwire.risk.throttle import TokenBucket
from spreadwire.risk.venue_breaker import VenueBreaker

_S: Final = FIXED_SCALAR
_BUY: Final = OrderSide.BUY
_LIMIT: Final = OrderType.LIMIT
_MARKET: Final = OrderType.MARKET
_GTD: Final = TimeInForce.GTD
_STOPS: Final = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
_NEEDS_PRICE: Final = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_UNLIMITED: Final = 2**200
_MISSING: Final = object()

# ``Gate.execute`` reads a submit's fields from one ``astuple`` (a C loop over the slots)
# instead of one generic attribute lookup each; these are their positions.
_FIELDS: Final = SubmitOrder.__struct_fields__
_F_STRATEGY: Final = _FIELDS.index("strategy_id")
_F_INSTRUMENT: Final = _FIELDS.index("instrument_id")
_F_CID: Final = _FIELDS.index("client_order_id")
_F_SIDE: Final = _FIELDS.index("side")
_F_TYPE: Final = _FIELDS.index("order_type")
_F_QUANTITY: Final = _FIELDS.index("quantity")
_F_PRICE: Final = _FIELDS.index("price")
_F_TRIGGER: Final = _FIELDS.index("trigger_price")
_F_TIF: Final = _FIELDS.index("time_in_force")
_F_REDUCE: Final = _FIELDS.index("reduce_only")

Denial = tuple[str, str]


def _unbound(*args: object) -> NoReturn:
    raise RuntimeError("Gate.execute: call Gate.bind first")


@final
class _UnboundClock(Clock):
    """The clock of a gate not bound yet: reading it is the error of :func:`_unbound`."""

    __slots__ = ()

    def timestamp_ns(self) -> int:
        _unbound()


_unbound_forward: Callable[[Any], None] = _unbound
_unbound_ordered: Callable[[SubmitOrder, int], bool] = _unbound
_unbound_other: Callable[[Any], bool] = _unbound


def money_text(raw2: int) -> str:
    """A raw2 (scale 1e18) amount as a decimal string with 2 decimals (truncated)."""
    cents = abs(raw2) // (_S * _S // 100)
    sign = "-" if raw2 < 0 and cents else ""
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@final
class Limits:
    """Config limits converted once to raw ints (raw2 for money, scale 1e18)."""

    __slots__ = (
        "balance",
        "balance2",
        "budget2",
        "drawdown",
        "drawdown2",
        "full_gross",
        "full_gross_pnl2",
        "gross",
        "gross2",
        "loss",
        "loss2",
        "margin_bps",
        "max_age",
        "max_open_orders",
        "net1",
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
        self.net1 = raw_amount(config.max_net_exposure)
        self.net2 = self.net1 * _S
        self.loss2 = raw_amount(config.daily_loss_limit) * _S
        self.drawdown2 = raw_amount(config.max_drawdown) * _S
        # from this PnL on, the margin allows the whole gross cap: (balance + pnl) *
        # 10_000 // margin_bps >= gross2  <=>  pnl >= ceil(gross2 * margin_bps / 10_000)
        # - balance (no division per mark)
        self.full_gross_pnl2 = -(-self.gross2 * self.margin_bps // 10_000) - self.balance2
        # the same, split (see Room), for the tests a mark makes in machine words
        self.loss = Room(self.loss2)
        self.drawdown = Room(self.drawdown2)
        self.full_gross = Room(self.full_gross_pnl2)
        self.gross = Room(self.gross2)
        self.balance = Room(self.balance2)

    def margin_cap2(self, pnl2: int) -> int:
        """Gross notional (positions + working orders) the margin allows at ``pnl2``."""
        return (self.balance2 + pnl2) * 10_000 // self.margin_bps

    def gross_cap2(self, pnl2: int) -> int:
        """The gross cap in force at ``pnl2``: the configured cap or the margin's."""
        if pnl2 >= self.full_gross_pnl2:
            return self.gross2
        return self.margin_cap2(pnl2)


def _instrument_risk(config: RiskConfig, instrument: Instrument) -> InstrumentRisk:
    limits = config.instrument_limits.get(instrument.instrument_id)

    def pick(name: str) -> str:
        """The instrument's own amount ``name``, else the engine's."""
        value = getattr(limits, name) if limits is not None else None
        return str(getattr(config, name) if value is None else value)

    own_collar = limits.collar_bps if limits is not None else None
    min_notional2 = instrument.min_notional.raw * _S if config.check_min_notional else 0
    return InstrumentRisk(
        instrument,
        min_quantity=raw_amount(pick("min_order_quantity")),
        max_quantity=raw_amount(pick("max_order_quantity")),
        min_notional2=min_notional2,
        max_notional2=raw_amount(pick("max_order_notional")) * _S,
        max_position=raw_amount(pick("max_position")),
        collar_bps=config.collar_bps if own_collar is None else own_collar,
    )


@final
class Gate:
    """Limits, the world view they are checked against, and the two check paths."""

    __slots__ = (
        "_cap",
        "_clock",
        "_config",
        "_forward",
        "_legs",
        "_ordered",
        "_other",
        "_seen_capacity",
        "_sources",
        "approved",
        "fast_ok",
        "halted",
        "instruments",
        "kill",
        "limits",
        "max_open_orders",
        "order_bucket",
        "pnl_breached",
        "portfolio",
        "reducing",
        "seen_ids",
        "strategy_max_open_orders",
        "venue_blocked",
        "venues",
    )

    def __init__(
        self,
        config: RiskConfig,
        instruments: Mapping[str, Instrument],
        kill: KillSwitch,
        venues: dict[str, VenueBreaker],
        now: int,
    ) -> None:
        self._config = config
        self._sources = dict(instruments)
        self.instruments = {key: _instrument_risk(config, i) for key, i in instruments.items()}
        self.portfolio = Portfolio(self.instruments)
        self._legs = self.portfolio.legs_by_instrument
        self.limits = Limits(config)
        self.max_open_orders = config.max_open_orders
        self.strategy_max_open_orders = config.strategy_max_open_orders
        self.order_bucket = TokenBucket(config.order_rate.limit, config.order_rate.interval_ns, now)
        self.kill = kill
        self.venues = venues
        # client order ids of closed orders, oldest first (a dict as an ordered set),
        # trimmed to ``duplicate_id_memory`` on the timer; a working order's id is a key
        # of ``portfolio.orders`` and enters this memory when the order ends (``close``)
        self.seen_ids: dict[str, None] = {}
        self._seen_capacity = config.duplicate_id_memory
        self.halted = False
        self.reducing = False
        self.venue_blocked = False
        self.pnl_breached = False
        self.fast_ok = True
        self.approved = 0
        self._cap = Room()  # the gross cap refresh_unbreached works out, reused
        self._clock: Clock = _UnboundClock()
        self._forward: Callable[[Any], None] = _unbound_forward
        self._ordered: Callable[[SubmitOrder, int], bool] = _unbound_ordered
        self._other: Callable[[Any], bool] = _unbound_other
        self.refresh()

    # ------------------------------------------------------------------ state

    def refresh(self) -> None:
        """Recompute what depends on PnL (margin and gross capacity, loss breach) and the
        fast-path switch; called after every fill, mark and state change."""
        portfolio = self.portfolio
        limits = self.limits
        pnl = portfolio.cash2 + portfolio.net2
        portfolio.rooms(limits.gross_cap2(pnl), limits.net1)
        self.pnl_breached = bool(
            (limits.loss2 and pnl - portfolio.day_start_pnl2 <= -limits.loss2)
            or (limits.drawdown2 and portfolio.high_water2 - pnl >= limits.drawdown2)
        )
        self.fast_ok = not (
            self.halted
            or self.reducing
            or self.kill.engaged
            or self.venue_blocked
            or self.pnl_breached
        )

    def refresh_unbreached(self) -> None:
        """:meth:`refresh` at a PnL the caller found within the loss and drawdown limits:
        the same rooms and switch, without testing the limits again. The gross cap is
        found in machine words (:class:`Room`) unless the margin is not 1:1."""
        limits = self.limits
        portfolio = self.portfolio
        pnl = portfolio.pnl
        if at_least(pnl, limits.full_gross):
            portfolio.rooms_at(limits.gross, limits.net1)
        elif limits.margin_bps == 10_000:
            cap = self._cap
            cap.set_room(limits.balance)
            cap.add_room(pnl)
            portfolio.rooms_at(cap, limits.net1)
        else:
            portfolio.rooms(limits.margin_cap2(pnl.raw2), limits.net1)
        self.pnl_breached = False
        self.fast_ok = not (self.halted or self.reducing or self.kill.engaged or self.venue_blocked)

    def reconfigure(self, config: RiskConfig, now: int) -> None:
        """Apply new limits at once: every headroom moves by the change of its limit, a
        rate that changed gets a fresh token bucket; nothing already working is touched."""
        old = self._config
        self._config = config
        self.limits = limits = Limits(config)
        self.max_open_orders = config.max_open_orders
        self.strategy_max_open_orders = config.strategy_max_open_orders
        self._seen_capacity = config.duplicate_id_memory
        if config.order_rate != old.order_rate:
            rate = config.order_rate
            self.order_bucket = TokenBucket(rate.limit, rate.interval_ns, now)
        legs_by_instrument = self.portfolio.legs_by_instrument
        for key, inst in self.instruments.items():
            fresh = _instrument_risk(config, self._sources[key])
            inst.min_quantity = fresh.min_quantity
            inst.max_quantity = fresh.max_quantity
            inst.set_notional_limits(fresh.min_notional2, fresh.max_notional2)
            inst.collar_bps = fresh.collar_bps
            delta = fresh.max_position - inst.max_position
            inst.max_position = fresh.max_position
            for leg in legs_by_instrument.get(key, {}).values():
                leg.buy_room += delta
                leg.sell_room += delta
            if inst.reference:
                inst.set_reference(inst.reference, inst.reference_ts, limits.max_age)
        order_rate = config.strategy_order_rate != old.strategy_order_rate
        cancel_rate = config.strategy_cancel_rate != old.strategy_cancel_rate
        for strategy in self.portfolio.strategies.values():
            strategy.budget_room.spend(strategy.budget2 - limits.budget2)
            strategy.budget2 = limits.budget2
            if order_rate:
                rate = config.strategy_order_rate
                strategy.order_bucket = TokenBucket(rate.limit, rate.interval_ns, now)
            if cancel_rate:
                rate = config.strategy_cancel_rate
                strategy.cancel_bucket = TokenBucket(rate.limit, rate.interval_ns, now)
        self.trim_seen()
        self.refresh()

    def strategy(self, strategy_id: str, now: int) -> StrategyRisk:
        strategy = self.portfolio.strategies.get(strategy_id)
        if strategy is None:
            config = self._config
            strategy = StrategyRisk(
                strategy_id,
                TokenBucket(
                    config.strategy_order_rate.limit, config.strategy_order_rate.interval_ns, now
                ),
                TokenBucket(
                    config.strategy_cancel_rate.limit,
                    config.strategy_cancel_rate.interval_ns,
                    now,
                ),
                self.limits.budget2,
            )
            self.portfolio.strategies[strategy_id] = strategy
        return strategy

    def leg(self, strategy_id: str, instrument_id: str, now: int) -> Leg | None:
        inst = self.instruments.get(instrument_id)
        if inst is None:
            return None
        return self.portfolio.leg(self.strategy(strategy_id, now), inst)

    def seen(self, client_order_id: str) -> bool:
        """Was this client order id used: a working order's, or one of the last
        ``duplicate_id_memory`` closed orders'?"""
        return client_order_id in self.portfolio.orders or client_order_id in self.seen_ids

    def remember(self, client_order_id: str) -> None:
        """Put a closed order's id into the memory."""
        ids = self.seen_ids
        ids[client_order_id] = None
        if len(ids) > self._seen_capacity:
            self.trim_seen()

    def forget(self, client_order_id: str) -> bool:
        """Take an id out of the memory of closed orders; True when it was there."""
        return self.seen_ids.pop(client_order_id, _MISSING) is not _MISSING

    def close(self, client_order_id: str) -> None:
        """An order ended (canceled, expired, rejected, filled): it stops counting and its
        id moves from the working orders into the memory of closed ids."""
        if self.portfolio.remove_order(client_order_id) is not None:
            self.remember(client_order_id)

    def trim_seen(self) -> None:
        """Forget the oldest client order ids beyond ``duplicate_id_memory`` (the fast
        path only adds; the engine trims on its timer)."""
        ids = self.seen_ids
        excess = len(ids) - self._seen_capacity
        if excess > 0:
            for client_order_id in list(islice(ids, excess)):
                del ids[client_order_id]

    # ------------------------------------------------------------------ fast path

    def bind(
        self,
        *,
        clock: Clock,
        forward: Callable[[Any], None],
        ordered: Callable[[SubmitOrder, int], bool],
        other: Callable[[Any], bool],
    ) -> None:
        """Wire :meth:`execute`: the clock, where approved orders go, the ordered path
        (deny or approve an order the fast path did not take) and the other commands."""
        self._clock = clock
        self._forward = forward
        self._ordered = ordered
        self._other = other

    def execute(self, command: object) -> bool:
        """Gate one command (the engine's ``execute``): True when it was forwarded.

        A plain limit order that passes every check is approved, committed and forwarded
        here in one expression over precomputed values; any other submit - a failing
        check, a stop or market order, a restricted state - goes to the ordered path,
        which names the first failing check. Other commands go to the engine.

        The conditions mirror :meth:`approve` one for one (a property test holds them
        equal); the commit is :meth:`commit` inlined. Each counter is read once (into a
        local, in the condition) and written once; ``inst.tradable`` is folded into
        ``reference_expiry`` (never valid for an instrument that is not tradable).
        """
        if type(command) is not SubmitOrder:
            return self._other(command)
        now = self._clock.timestamp_ns()  # a native call
        fields = astuple(command)
        price = fields[_F_PRICE]
        try:
            leg = self._legs[fields[_F_INSTRUMENT]][fields[_F_STRATEGY]]
            p: int = price.raw  # no price: AttributeError
        except (KeyError, AttributeError):
            return self._ordered(command, now)
        if (
            not self.fast_ok
            or fields[_F_TYPE] is not _LIMIT
            or fields[_F_TRIGGER] is not None
            or fields[_F_REDUCE]
            or fields[_F_TIF] is _GTD
        ):
            return self._ordered(command, now)
        inst = leg.instrument
        strategy = leg.strategy
        portfolio = self.portfolio
        bucket = strategy.order_bucket
        glob = self.order_bucket
        cid: str = fields[_F_CID]
        orders = portfolio.orders
        seen = self.seen_ids
        gross = portfolio.gross_room
        budget = strategy.budget_room
        q: int = fields[_F_QUANTITY].raw
        # the notional in raw1 (a small int; INEXACT fails the notional check below)
        n1 = raw1_notional(p, q)
        # checks shared by both sides, in the gate's order, then the side's own
        if not (
            now <= inst.reference_expiry
            and p % inst.tick == 0
            and q % inst.lot == 0
            and inst.min_quantity <= q <= inst.max_quantity
            and inst.min_notional1 <= n1 <= inst.max_notional1
            and inst.collar_low <= p <= inst.collar_high
            and n1 <= (gross_room := gross.whole)
            and (open_count := portfolio.open_count) < self.max_open_orders
            and (strategy_open := strategy.open_count) < self.strategy_max_open_orders
            and now >= (allow_at := bucket.allow_at)
            and now >= (glob_allow_at := glob.allow_at)
            and now >= strategy.cancel_blocked_until
            and cid not in orders
            and cid not in seen
            and n1 <= (budget_room := budget.whole)
        ):
            return self._ordered(command, now)
        if fields[_F_SIDE] is _BUY:
            if not (
                p < inst.best_own_ask
                and q <= (side_room := leg.buy_room)
                and portfolio.net_buy_low1 <= n1 <= portfolio.net_buy_high1
            ):
                return self._ordered(command, now)
            orders[cid] = command
            leg.buy_room = side_room - q
            book = inst.own_bids
            book[p] = book.get(p, 0) + 1
            if p > inst.best_own_bid:
                inst.best_own_bid = p
        else:
            if not (
                p > inst.best_own_bid
                and q <= (side_room := leg.sell_room)
                and portfolio.net_sell_low1 <= n1 <= portfolio.net_sell_high1
            ):
                return self._ordered(command, now)
            orders[cid] = command
            leg.sell_room = side_room - q
            book = inst.own_asks
            book[p] = book.get(p, 0) + 1
            if p < inst.best_own_ask:
                inst.best_own_ask = p
        strategy.open_count = strategy_open + 1
        budget.whole = budget_room - n1
        portfolio.open_count = open_count + 1
        gross.whole = gross_room - n1
        floor = now - bucket.tau
        bucket.allow_at = (allow_at if allow_at > floor else floor) + bucket.emission
        floor = now - glob.tau
        glob.allow_at = (glob_allow_at if glob_allow_at > floor else floor) + glob.emission
        self.approved += 1
        self._forward(command)
        return True

    # ------------------------------------------------------------------ ordered path

    def approve(self, cmd: SubmitOrder, now: int) -> WorkingOrder | Denial:
        """Run every check in order; the working order to commit, or the first denial."""
        inst = self.instruments.get(cmd.instrument_id)
        strategy = self.strategy(cmd.strategy_id, now)
        if inst is None:
            if self.halted:
                return R.TRADING_HALTED, "trading is HALTED; only cancels pass"
            return R.INSTRUMENT_NOT_TRADABLE, f"unknown instrument {cmd.instrument_id}"
        leg = self.portfolio.leg(strategy, inst)
        sign = 1 if cmd.side is _BUY else -1
        quantity = cmd.quantity.raw
        denial = self._check_shape(cmd, inst, leg, sign, now)
        if denial is not None:
            return denial
        price = cmd.price
        trigger = cmd.trigger_price
        if price is not None:
            notional_price = price.raw
        else:
            notional_price = trigger.raw if trigger is not None else inst.reference
        notional2 = notional_price * quantity
        denial = self._check_market(cmd, inst, leg, notional2, now)
        if denial is None:
            denial = self._check_flow(cmd, inst, strategy, sign, now)
        if denial is None:
            denial = self._check_exposure(leg, sign, quantity, notional2)
        if denial is not None:
            return denial
        resting = price.raw if price is not None and cmd.order_type is _LIMIT else None
        return WorkingOrder(cmd.client_order_id, leg, sign, quantity, notional_price, resting)

    def commit(self, order: WorkingOrder, now: int) -> None:
        """Count an approved order against every limit at once."""
        order.leg.strategy.order_bucket.take(now)
        self.order_bucket.take(now)
        self.portfolio.add_order(order)

    def rollback(self, order: WorkingOrder) -> None:
        """Undo :meth:`commit` (the other leg of a pair was denied)."""
        self.portfolio.remove_order(order.client_order_id)
        order.leg.strategy.order_bucket.take_back()
        self.order_bucket.take_back()

    def _check_shape(
        self, cmd: SubmitOrder, inst: InstrumentRisk, leg: Leg, sign: int, now: int
    ) -> Denial | None:
        if not self.fast_ok:
            denial = self._check_state(cmd, leg, sign)
            if denial is not None:
                return denial
        if not inst.tradable:
            return R.INSTRUMENT_NOT_TRADABLE, f"{inst.instrument_id} is not tradable"
        if self.venue_blocked and not self.venues[inst.venue].allow(now):
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
        if cmd.time_in_force is _GTD and (cmd.expire_time_ns is None or cmd.expire_time_ns <= now):
            return R.INVALID_ORDER, "GTD order needs an expire_time_ns in the future"
        return None

    def _check_state(self, cmd: SubmitOrder, leg: Leg, sign: int) -> Denial | None:
        if self.halted:
            return R.TRADING_HALTED, "trading is HALTED; only cancels pass"
        if self.kill.blocks(cmd.strategy_id, cmd.instrument_id) and not leg.reduces(
            sign, cmd.quantity.raw
        ):
            return R.KILL_SWITCH, "kill switch engaged; only risk-reducing orders pass"
        return None

    def _check_market(
        self, cmd: SubmitOrder, inst: InstrumentRisk, leg: Leg, notional2: int, now: int
    ) -> Denial | None:
        sign = 1 if cmd.side is _BUY else -1
        if notional2:
            if notional2 < inst.min_notional2:
                return R.NOTIONAL_BELOW_MIN, f"notional {money_text(notional2)} below minimum"
            if notional2 > inst.max_notional2:
                return R.NOTIONAL_ABOVE_MAX, f"notional {money_text(notional2)} above maximum"
        reference = inst.reference
        if reference == 0:
            if self.limits.require_reference or cmd.order_type is _MARKET:
                return R.NO_REFERENCE_PRICE, f"no reference price for {inst.instrument_id}"
        elif now > inst.reference_expiry:
            return R.STALE_REFERENCE_PRICE, f"reference price of {inst.instrument_id} is stale"
        elif self._outside_collar(cmd, inst, reference):
            return R.PRICE_COLLAR, f"price outside the collar around {reference / _S}"
        if (cmd.reduce_only or self.reducing) and not leg.reduces(sign, cmd.quantity.raw):
            return R.REDUCE_ONLY, "order would not reduce the position"
        portfolio = self.portfolio
        margin_cap2 = self.limits.margin_cap2(portfolio.cash2 + portfolio.net2)
        if portfolio.gross2 + portfolio.open_notional2 + notional2 > margin_cap2 and (
            not leg.reduces(sign, cmd.quantity.raw)
        ):
            return R.INSUFFICIENT_MARGIN, "not enough available balance for the margin"
        return None

    def _outside_collar(self, cmd: SubmitOrder, inst: InstrumentRisk, reference: int) -> bool:
        price = cmd.price
        if price is not None and not inst.collar_low <= price.raw <= inst.collar_high:
            return True
        trigger = cmd.trigger_price
        return (
            trigger is not None
            and abs(trigger.raw - reference) * 10_000 > self.limits.stop_collar_bps * reference
        )

    def _check_flow(
        self, cmd: SubmitOrder, inst: InstrumentRisk, strategy: StrategyRisk, sign: int, now: int
    ) -> Denial | None:
        limits = self.limits
        if self.portfolio.open_count >= limits.max_open_orders:
            return R.MAX_OPEN_ORDERS, f"{limits.max_open_orders} orders already open"
        if strategy.open_count >= limits.strategy_max_open_orders:
            return R.STRATEGY_MAX_OPEN_ORDERS, f"{strategy.open_count} orders already open"
        if not strategy.order_bucket.available(now):
            return R.STRATEGY_ORDER_RATE, f"strategy {cmd.strategy_id} order rate exceeded"
        if not self.order_bucket.available(now):
            return R.ORDER_RATE, "global order rate exceeded"
        if now < strategy.cancel_blocked_until:
            return R.CANCEL_RATE, f"strategy {cmd.strategy_id} cancel rate exceeded"
        if self.seen(cmd.client_order_id):
            return R.DUPLICATE_CLIENT_ORDER_ID, f"client order id {cmd.client_order_id} reused"
        if limits.self_trade and self._crosses_own(cmd, inst, sign):
            return R.SELF_TRADE, "order would trade against an own resting order"
        return None

    @staticmethod
    def _crosses_own(cmd: SubmitOrder, inst: InstrumentRisk, sign: int) -> bool:
        if cmd.order_type in _STOPS:
            return False
        price = cmd.price
        if sign > 0:
            return inst.best_own_ask != NO_ASK and (price is None or price.raw >= inst.best_own_ask)
        return inst.best_own_bid != NO_BID and (price is None or price.raw <= inst.best_own_bid)

    def _check_exposure(self, leg: Leg, sign: int, quantity: int, notional2: int) -> Denial | None:
        portfolio = self.portfolio
        limits = self.limits
        strategy = leg.strategy
        if sign > 0:
            projected = leg.position + leg.open_buy + quantity
        else:
            projected = leg.open_sell + quantity - leg.position
        pnl = portfolio.cash2 + portfolio.net2
        denial: Denial | None = None
        if projected > leg.instrument.max_position:
            denial = R.POSITION_LIMIT, f"projected position {projected / _S} over the limit"
        elif strategy.gross2 + strategy.open_notional2 + notional2 > limits.budget2:
            denial = R.STRATEGY_NOTIONAL_BUDGET, f"strategy {strategy.strategy_id} budget spent"
        elif portfolio.gross2 + portfolio.open_notional2 + notional2 > limits.gross2:
            denial = R.GROSS_EXPOSURE, "portfolio gross exposure cap"
        elif abs(portfolio.net2 + sign * notional2) > limits.net2:
            denial = R.NET_EXPOSURE, "portfolio net exposure cap"
        elif limits.loss2 and pnl - portfolio.day_start_pnl2 <= -limits.loss2:
            denial = R.DAILY_LOSS_LIMIT, f"daily PnL {money_text(pnl - portfolio.day_start_pnl2)}"
        elif limits.drawdown2 and portfolio.high_water2 - pnl >= limits.drawdown2:
            denial = R.MAX_DRAWDOWN, f"drawdown {money_text(portfolio.high_water2 - pnl)}"
        if denial is not None and leg.reduces(sign, quantity):
            return None
        return denial
