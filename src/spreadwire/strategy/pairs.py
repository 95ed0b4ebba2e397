"""A pairs (spread) strategy on a rolling OLS hedge ratio and the residual's z-score."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from fractions import Fraction
from math import isnan
from typing import Final, Protocol, final

from spreadwire.core.clock import Clock
from spreadwire.core.ids import IdGenerator
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce, TradingState
from spreadwire.domain.events import (
    OrderCanceled,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFill,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
)
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.values import FIXED_SCALAR, RAW_MAX, Quantity
from spreadwire.stats.rolling import RollingOLS
from spreadwire.strategy.config import PairStrategyConfig

log = logging.getLogger("spreadwire.strategy")

_TERMINAL_EVENTS: Final = (OrderFilled, OrderCanceled, OrderExpired, OrderRejected, OrderDenied)


class HedgeModel(Protocol):
    """A streaming model of ``y = alpha + beta * x``: ``update`` returns the z-score of the
    newest residual (NaN until the window is full), ``beta`` is the current hedge ratio."""

    beta: float

    def update(self, x: float, y: float) -> float: ...


class SpreadState(StrEnum):
    FLAT = "FLAT"
    LONG = "LONG"  # long y, short beta * x
    SHORT = "SHORT"  # short y, long beta * x


# enum members as module constants: the per-quote path reads them without a class lookup
_FLAT: Final = SpreadState.FLAT
_SHORT: Final = SpreadState.SHORT
_ACTIVE: Final = TradingState.ACTIVE
_HALTED: Final = TradingState.HALTED
_BUY: Final = OrderSide.BUY
_SELL: Final = OrderSide.SELL
_LIMIT: Final = OrderType.LIMIT
_IOC: Final = TimeInForce.IOC
#: a raw quantity per unit of notional over a raw price: 10**9 * 10**9
_SCALE2: Final = FIXED_SCALAR * FIXED_SCALAR
_S: Final = 1_000_000_000  # FIXED_SCALAR as a literal: a constant in compiled code
assert _S == FIXED_SCALAR


def entry_sizes(
    notional: tuple[int, int], mid_raw: int, beta: float, y_lot: int, x_lot: int
) -> tuple[int, int]:
    """Raw quantities of an entry in exact integer arithmetic: ``y`` trades ``notional``
    (a ratio ``numerator / denominator``) at the raw mid ``mid_raw``, ``x`` ``beta`` (its
    exact binary value) times that; each floored to its lot. ``(0, 0)`` for a mid <= 0."""
    if mid_raw <= 0:
        return 0, 0
    numerator, denominator = notional
    qty_y = numerator * _SCALE2 // (denominator * mid_raw) // y_lot * y_lot
    beta_numerator, beta_denominator = beta.as_integer_ratio()
    qty_x = qty_y * beta_numerator // beta_denominator // x_lot * x_lot
    return qty_y, qty_x


@final
class PairsStrategy:
    """Turns quotes of two legs into orders that move positions to a target."""

    __slots__ = (
        "_cooldown_until",
        "_decided_at",
        "_foreign",
        "_ids",
        "_in_flight",
        "_notional",
        "_qx",
        "_qy",
        "_retry_after",
        "_sized_for",
        "_submit",
        "_x_id",
        "_x_mid",
        "_y_id",
        "_y_mid",
        "beta",
        "clock",
        "config",
        "model",
        "orders_submitted",
        "positions",
        "running",
        "state",
        "targets",
        "trading_state",
        "x",
        "y",
        "zscore",
    )

    def __init__(
        self,
        config: PairStrategyConfig,
        *,
        y: Instrument,
        x: Instrument,
        model: HedgeModel,
        clock: Clock,
        submit: Callable[[SubmitOrder], None],
    ) -> None:
        self.config = config
        self.y = y
        self.x = x
        # the ids as values: Instrument.instrument_id builds its string on each read
        self._y_id = y.instrument_id
        self._x_id = x.instrument_id
        self.model = model
        self.clock = clock
        self._submit = submit
        self._ids = IdGenerator(config.strategy_id)
        # each leg's latest quote and its mid (read once, when the quote arrives)
        self._qy: QuoteTick | None = None
        self._qx: QuoteTick | None = None
        self._y_mid = 0.0
        self._x_mid = 0.0
        self._in_flight: set[str] = set()
        self._cooldown_until = 0
        # restoring: the time of the last decision whose orders were read back (-1: none)
        self._decided_at = -1
        # restoring: fills of orders booked to this strategy it did not send (the API's),
        # since that decision: live, they move the position, not the targets
        self._foreign: dict[str, int] = {}
        # keyed by the same string objects the hot path looks them up with (an equal but
        # distinct key costs a string comparison per lookup)
        self.positions = {self._y_id: 0, self._x_id: 0}
        self.targets = {self._y_id: 0, self._x_id: 0}
        self.state = SpreadState.FLAT
        self.zscore = float("nan")
        self.beta = float("nan")
        self.orders_submitted = 0
        self.running = True
        self.trading_state = TradingState.ACTIVE
        self._retry_after = 0
        self._sized_for: PairStrategyConfig | None = None
        self._notional = (0, 1)

    @property
    def strategy_id(self) -> str:
        return self.config.strategy_id

    @property
    def instrument_ids(self) -> tuple[str, str]:
        return self.y.instrument_id, self.x.instrument_id

    def on_quote(self, quote: QuoteTick) -> None:
        """A quote of one leg (a quote of any other instrument is ignored): the model
        takes both legs' latest mids, then the strategy decides and trades."""
        self.on_top(quote, quote.instrument_id, quote.bid_price.raw, quote.ask_price.raw)

    def on_top(self, quote: QuoteTick, instrument_id: str, bid: int, ask: int) -> None:
        """:meth:`on_quote` with the quote's id and raw prices already read."""
        # the mid as QuoteTick.mid_raw computes it
        mid = (bid + ask) // 2 / _S
        if instrument_id == self._y_id:
            self._qy = quote
            self._y_mid = mid
        elif instrument_id == self._x_id:
            self._qx = quote
            self._x_mid = mid
        else:
            return
        qy = self._qy
        qx = self._qx
        if qy is None or qx is None:
            return
        model = self.model
        x = self._x_mid
        y = self._y_mid
        # The same two statements twice on purpose: narrowed to the built-in (compiled)
        # model they compile to a native call and attribute read; any other HedgeModel
        # goes through Python method calls.
        if isinstance(model, RollingOLS):
            self.zscore = z = model.update(x, y)
            self.beta = model.beta
        else:
            self.zscore = z = model.update(x, y)
            self.beta = model.beta
        if not isnan(z):  # NaN: warming up, or a perfect fit
            self._decide(z, qy)
        if not self._in_flight:
            self._trade(qy, qx)

    def _decide(self, z: float, qy: QuoteTick) -> None:
        config = self.config
        state = self.state
        if state is _FLAT:
            if (
                not self.running
                or self.trading_state is not _ACTIVE
                or self.clock.timestamp_ns() < self._cooldown_until
            ):
                return
            if abs(z) >= config.stop_z:
                return  # beyond the stop: entering would be stopped out at once
            if z >= config.entry_z:
                self._enter(SpreadState.SHORT, qy)
            elif z <= -config.entry_z:
                self._enter(SpreadState.LONG, qy)
            return
        # z measured in the direction of the trade: positive is against the position
        adverse = z if state is _SHORT else -z
        if adverse >= config.stop_z:
            log.info("%s stop at z=%.2f", config.strategy_id, z)
            self._cooldown_until = self.clock.timestamp_ns() + config.cooldown_ns
            self._flatten()
        elif adverse <= config.exit_z:
            self._flatten()

    def _enter(self, state: SpreadState, qy: QuoteTick) -> None:
        beta = self.beta
        config = self.config
        if not config.min_beta <= beta <= config.max_beta:
            return
        qty_y, qty_x = entry_sizes(
            self._notional_ratio(config),
            qy.mid_raw,
            beta,
            self.y.lot_size.raw,
            self.x.lot_size.raw,
        )
        if qty_y <= 0 or qty_x <= 0:
            return
        if qty_y > RAW_MAX or qty_x > RAW_MAX:
            # a notional the edge accepts can size past a Quantity's int64 raw range at
            # this price: no order could carry it, so do not enter (raising here would
            # stop the node's dispatch on every quote)
            return
        sign = 1 if state is SpreadState.LONG else -1
        self.state = state
        self.targets[self._y_id] = sign * qty_y
        self.targets[self._x_id] = -sign * qty_x

    def _notional_ratio(self, config: PairStrategyConfig) -> tuple[int, int]:
        """``notional * size_multiplier`` of ``config`` as an exact ratio, kept until the
        configuration changes."""
        if self._sized_for is not config:
            ratio = Fraction(config.notional) * config.size_multiplier
            self._notional = (ratio.numerator, ratio.denominator)
            self._sized_for = config
        return self._notional

    def _flatten(self) -> None:
        self.state = SpreadState.FLAT
        for iid in self.targets:
            self.targets[iid] = 0

    def _trade(self, qy: QuoteTick, qx: QuoteTick) -> None:
        if self.trading_state is _HALTED or (
            self._retry_after and self.clock.timestamp_ns() < self._retry_after
        ):
            return
        targets = self.targets
        positions = self.positions
        iid = self._y_id
        delta = targets[iid] - positions[iid]
        if delta:
            self._send(self.y, iid, qy, delta)
        iid = self._x_id
        delta = targets[iid] - positions[iid]
        if delta:
            self._send(self.x, iid, qx, delta)

    def _send(
        self, instrument: Instrument, instrument_id: str, quote: QuoteTick, delta_raw: int
    ) -> None:
        if delta_raw > 0:
            side = _BUY
            price = quote.ask_price
            size = delta_raw
        else:
            side = _SELL
            price = quote.bid_price
            size = -delta_raw
        client_order_id = self._ids.next()
        self._in_flight.add(client_order_id)
        self.orders_submitted += 1
        self._submit(
            SubmitOrder(
                strategy_id=self.config.strategy_id,
                instrument_id=instrument_id,
                client_order_id=client_order_id,
                side=side,
                order_type=_LIMIT,
                quantity=Quantity(raw=size, precision=instrument.size_precision),
                price=price,
                time_in_force=_IOC,
                ts_init=self.clock.timestamp_ns(),
            )
        )

    @staticmethod
    def handles(event_type: type) -> bool:
        """Does :meth:`on_event` act on events of this type?"""
        return issubclass(event_type, (OrderFill, *_TERMINAL_EVENTS))

    def on_event(self, event: OrderEvent) -> None:
        """Own order events: fills move positions; terminal events free the slot."""
        if self._apply(event) and isinstance(event, (OrderDenied, OrderRejected)):
            # do not hammer a gate or a venue that just said no
            self._retry_after = self.clock.timestamp_ns() + self.config.retry_backoff_ns

    def _apply(self, event: OrderEvent) -> bool:
        """Move the position on a fill and free the slot on a terminal event (returned)."""
        if isinstance(event, OrderFill):
            signed = event.last_qty.raw if event.side is OrderSide.BUY else -event.last_qty.raw
            self.positions[event.instrument_id] = (
                self.positions.get(event.instrument_id, 0) + signed
            )
        if isinstance(event, _TERMINAL_EVENTS):
            self._in_flight.discard(event.client_order_id)
            return True
        return False

    def restore(self, event: OrderEvent | SubmitOrder) -> None:
        """Rebuild from a stored order or order event of this strategy (no orders are
        sent): identifiers, the last decision's targets, in-flight orders and positions."""
        client_order_id = event.client_order_id
        self._ids.advance_past(client_order_id)
        # only the orders this strategy sent hold its slot (an order sent through the
        # API under its id moves its position, but the strategy never waited for it)
        own = client_order_id.rpartition("-")[0] == self.config.strategy_id
        if isinstance(event, SubmitOrder):
            # the decision is the stored order, whether or not the gate let it through
            # (a denied leg has no OrderInitialized, but it is still part of the target)
            if own:
                self._restore_target(event)
            return
        if isinstance(event, OrderInitialized):
            if own:
                self._in_flight.add(client_order_id)
                self.orders_submitted += 1
            return
        if own and isinstance(event, OrderDenied):
            self.orders_submitted += 1  # sent, and denied by the gate: never initialized
        self._apply(event)
        if not own and isinstance(event, OrderFill) and self._decided_at >= 0:
            iid = event.instrument_id
            signed = event.last_qty.raw if event.side is OrderSide.BUY else -event.last_qty.raw
            self._foreign[iid] = self._foreign.get(iid, 0) + signed

    def _restore_target(self, order: SubmitOrder) -> None:
        """The targets of the decision that sent this order: the leg's position then plus
        the order. The orders of one decision share their time; a leg that decision did
        not trade was at its target."""
        targets = self.targets
        positions = self.positions
        if order.ts_init != self._decided_at:
            self._decided_at = order.ts_init
            self._foreign.clear()
            for iid in targets:
                targets[iid] = positions[iid]
        iid = order.instrument_id
        if iid in targets:
            quantity = order.quantity.raw
            targets[iid] = positions[iid] + (quantity if order.side is _BUY else -quantity)

    def resume(self) -> None:
        """After a restore: hold the restored positions as the target (an open spread is
        managed to its exit as usual) instead of trading them away. Stopped between a
        decision and its fills (the positions are not the targets of the last decision
        read back: a leg of an entry or an exit the venue had not filled), the strategy
        trades out what is left: the decision's signal is not in the log, and holding a
        leg without its hedge is no spread."""
        targets = self.targets
        positions = self.positions
        if self._decided_at >= 0:
            # the strategy's own orders against its decision (an API order booked to it
            # since moved the position; live, the targets stay and it is traded back)
            foreign = self._foreign
            if any(targets[iid] != positions[iid] - foreign.get(iid, 0) for iid in targets):
                self._flatten()
                return
        else:
            for iid in targets:
                targets[iid] = positions[iid]
        y = targets[self.y.instrument_id]
        if y > 0:
            self.state = SpreadState.LONG
        elif y < 0:
            self.state = SpreadState.SHORT
        else:
            self.state = SpreadState.FLAT

    def set_trading_state(self, state: TradingState) -> None:
        """Follow the node's trading state: REDUCING trades the spread out and opens
        nothing new; HALTED sends nothing at all; ACTIVE trades normally."""
        self.trading_state = state
        if state is not TradingState.ACTIVE:
            self._flatten()

    def start(self) -> None:
        self.running = True

    def stop(self) -> None:
        """Stop opening positions; an open spread still exits (or stops) on its signal,
        and :meth:`flatten` still trades it out."""
        self.running = False

    def flatten(self) -> None:
        self._flatten()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)
