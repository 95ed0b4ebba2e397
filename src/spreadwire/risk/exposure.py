"""The risk engine's own view of the world: open orders, positions, exposure and PnL.

Everything is kept incrementally in exact integers so the gate only compares numbers:

* quantities and prices are raw fixed-point ints (scale 1e9);
* notionals are ``price_raw * quantity_raw`` ("raw2", scale 1e18), never divided;
* the firm PnL is ``cash + sum(net_qty * mark)`` (cash = minus the signed cost of fills);
* a working order is a :class:`WorkingOrder`, or, as the gate's fast path left it, the
  approved ``SubmitOrder`` itself (no record is allocated on the order path): it becomes
  a ``WorkingOrder`` when it is first read (:meth:`Portfolio.order`) and is released
  straight from the command when it ends first;
* for the gate's fast path, the headroom under each limit is kept next to the sums it
  derives from (``*_room``): a check is then one comparison. Every method that changes a
  sum changes its room by the same amount; :meth:`Portfolio.rooms` recomputes the firm
  rooms that depend on PnL.

The view is fed by the gate (an approved order counts against limits at once) and by
the bus (order events, fills, quotes); it never reads the OMS.
"""

from __future__ import annotations

from collections import defaultdict
from typing import final

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import FIXED_SCALAR
from spreadwire.risk.throttle import TokenBucket

_BUY = OrderSide.BUY
#: "no own resting order" on that side: every price compares as not crossing
NO_BID = -(2**64)
NO_ASK = 2**64


def _grid_decimals(step_raw: int) -> int:
    """k when ``step_raw`` is 10**-k (raw, scale 1e9), else -1: a value carrying at most k
    decimals (its ``precision``) is then a multiple of the step."""
    for decimals in range(10):
        if step_raw == 10 ** (9 - decimals):
            return decimals
    return -1


def _raw(amount: str) -> int:
    whole, _, frac = amount.partition(".")
    return int(whole) * FIXED_SCALAR + int((frac + "000000000")[:9])


@final
class Leg:
    """One strategy's position and working quantity in one instrument."""

    __slots__ = ("buy_room", "instrument", "position", "sell_room", "strategy")

    def __init__(self, strategy: StrategyRisk, instrument: InstrumentRisk) -> None:
        self.strategy = strategy
        self.instrument = instrument
        self.position = 0
        # quantity a new buy / sell may add before the projected position (position plus
        # the working orders on that side) passes the instrument's limit
        self.buy_room = instrument.max_position
        self.sell_room = instrument.max_position

    @property
    def open_buy(self) -> int:
        """Working buy quantity."""
        return self.instrument.max_position - self.position - self.buy_room

    @property
    def open_sell(self) -> int:
        """Working sell quantity."""
        return self.instrument.max_position + self.position - self.sell_room

    def move_position(self, delta: int) -> None:
        """A fill: the position moves, the working quantity does not."""
        self.position += delta
        self.buy_room -= delta
        self.sell_room += delta

    def reduces(self, sign: int, quantity: int) -> bool:
        """True when an order of ``sign * quantity`` only shrinks the position, counting
        the working orders on the same side."""
        position = self.position
        if sign > 0:
            return position < 0 and quantity + self.open_buy <= -position
        return position > 0 and quantity + self.open_sell <= position


@final
class InstrumentRisk:
    """Static limits of an instrument plus its reference price and firm-wide position."""

    __slots__ = (
        "abs_position",
        "band_anchor",
        "band_anchor_ts",
        "band_high",
        "band_low",
        "band_until",
        "best_own_ask",
        "best_own_bid",
        "collar_bps",
        "collar_high",
        "collar_low",
        "instrument_id",
        "lot",
        "lot_decimals",
        "mark",
        "max_notional2",
        "max_position",
        "max_quantity",
        "min_notional2",
        "min_quantity",
        "net_position",
        "own_asks",
        "own_bids",
        "price_precision",
        "price_step",
        "quantity_step",
        "reference",
        "reference_expiry",
        "reference_ts",
        "size_precision",
        "tick",
        "tick_decimals",
        "tradable",
        "venue",
    )

    def __init__(
        self,
        instrument: Instrument,
        *,
        min_quantity: int,
        max_quantity: int,
        min_notional2: int,
        max_notional2: int,
        max_position: int,
        collar_bps: int,
    ) -> None:
        self.instrument_id = instrument.instrument_id
        self.venue = instrument.venue
        self.tradable = instrument.tradable
        self.tick = instrument.tick_size.raw
        self.lot = instrument.lot_size.raw
        self.price_precision = instrument.price_precision
        self.size_precision = instrument.size_precision
        self.price_step = 10 ** (9 - instrument.price_precision)
        self.quantity_step = 10 ** (9 - instrument.size_precision)
        # a price (quantity) with at most this many decimals is on the tick (lot) grid:
        # the grid is a power of ten (-1: it is not, test with a remainder)
        self.tick_decimals = _grid_decimals(self.tick)
        self.lot_decimals = _grid_decimals(self.lot)
        self.min_quantity = max(min_quantity, self.lot)
        self.max_quantity = max_quantity
        self.min_notional2 = min_notional2
        self.max_notional2 = max_notional2
        self.max_position = max_position
        self.collar_bps = collar_bps
        self.reference = 0
        self.reference_ts = 0
        self.band_anchor = 0
        self.band_anchor_ts = 0
        # a mid within [band_low, band_high] until band_until trips nothing (set at each
        # anchor by ``Tripwires.band``; until then every mid goes there)
        self.band_until = -1
        self.band_low = NO_ASK
        self.band_high = NO_BID
        self.mark = 0
        self.abs_position = 0
        self.net_position = 0
        self.own_bids: defaultdict[int, int] = defaultdict(int)
        self.own_asks: defaultdict[int, int] = defaultdict(int)
        self.best_own_bid = NO_BID
        self.best_own_ask = NO_ASK
        self.collar_low = NO_ASK
        self.collar_high = NO_BID
        self.reference_expiry = -1

    def set_reference(self, price: int, ts: int, max_age_ns: int) -> None:
        """A new reference price: precompute the collar bounds and the expiry time."""
        self.reference = price
        self.reference_ts = ts
        if not self.tradable:
            self.reference_expiry = -1  # the gate's fast path never takes this instrument
        else:
            self.reference_expiry = ts + max_age_ns if max_age_ns else 2**63
        width = abs(price) * self.collar_bps // 10_000
        self.collar_low = price - width
        self.collar_high = price + width

    def touch_reference(self, ts: int, max_age_ns: int) -> None:
        """The reference price confirmed at ``ts`` (:meth:`set_reference` at the same price:
        the collar stays, the age restarts)."""
        self.reference_ts = ts
        if self.tradable:
            self.reference_expiry = ts + max_age_ns if max_age_ns else 2**63

    def add_resting(self, sign: int, price: int) -> None:
        book = self.own_bids if sign > 0 else self.own_asks
        book[price] += 1
        if sign > 0:
            if price > self.best_own_bid:
                self.best_own_bid = price
        elif price < self.best_own_ask:
            self.best_own_ask = price

    def remove_resting(self, sign: int, price: int) -> None:
        """One own resting order left ``price``. A level that empties stays in the book
        at 0 (the next order at that price only counts up: no insert on the gate's fast
        path); empty levels are dropped once there are more than ``_MAX_EMPTY_LEVELS``."""
        book = self.own_bids if sign > 0 else self.own_asks
        left = book.get(price, 0) - 1
        if left > 0:
            book[price] = left
            return
        if price not in book:
            return
        book[price] = 0
        if len(book) > _MAX_EMPTY_LEVELS:
            live = {level: count for level, count in book.items() if count}
            book.clear()
            book.update(live)
        if sign > 0:
            if price == self.best_own_bid:
                self.best_own_bid = max((p for p, n in book.items() if n), default=NO_BID)
        elif price == self.best_own_ask:
            self.best_own_ask = min((p for p, n in book.items() if n), default=NO_ASK)


#: own-book price levels kept (possibly empty) before the empty ones are dropped
_MAX_EMPTY_LEVELS = 64


@final
class StrategyRisk:
    """A strategy's working orders, throttles, exposure and PnL."""

    __slots__ = (
        "budget2",
        "budget_room2",
        "cancel_blocked_until",
        "cancel_bucket",
        "cash2",
        "gross2",
        "legs",
        "net2",
        "open_count",
        "order_bucket",
        "strategy_id",
    )

    def __init__(
        self,
        strategy_id: str,
        order_bucket: TokenBucket,
        cancel_bucket: TokenBucket,
        budget2: int = 2**200,
    ) -> None:
        self.strategy_id = strategy_id
        self.budget2 = budget2
        self.budget_room2 = budget2
        self.order_bucket = order_bucket
        self.cancel_bucket = cancel_bucket
        self.cancel_blocked_until = 0
        self.open_count = 0
        self.gross2 = 0
        self.net2 = 0
        self.cash2 = 0
        self.legs: dict[str, Leg] = {}

    @property
    def open_notional2(self) -> int:
        """Notional of the working orders (derived from the budget room)."""
        return self.budget2 - self.gross2 - self.budget_room2

    @property
    def pnl2(self) -> int:
        return self.cash2 + self.net2


@final
class WorkingOrder:
    """What the gate reserved for one order that has not reached a terminal state.

    ``notional_price`` values the working quantity (limit, trigger or reference price);
    ``resting_price`` is set for orders that rest on the book (self-trade check).
    """

    __slots__ = (
        "client_order_id",
        "filled",
        "leaves",
        "leg",
        "notional_price",
        "resting_price",
        "sign",
    )

    def __init__(  # noqa: PLR0917 - positional, as the msgspec record it replaced
        self,
        client_order_id: str,
        leg: Leg,
        sign: int,
        leaves: int,
        notional_price: int,
        resting_price: int | None,
        filled: int = 0,
    ) -> None:
        self.client_order_id = client_order_id
        self.leg = leg
        self.sign = sign
        self.leaves = leaves
        self.notional_price = notional_price
        self.resting_price = resting_price
        self.filled = filled

    def __repr__(self) -> str:
        return (
            f"WorkingOrder({self.client_order_id!r}, sign={self.sign}, leaves={self.leaves}, "
            f"filled={self.filled}, notional_price={self.notional_price}, "
            f"resting_price={self.resting_price})"
        )


@final
class Portfolio:
    """Firm-wide aggregates over every strategy and instrument."""

    __slots__ = (
        "cash2",
        "day_start_pnl2",
        "gross2",
        "gross_cap2",
        "gross_room2",
        "high_water2",
        "instruments",
        "legs_by_instrument",
        "net2",
        "net_buy_high2",
        "net_buy_low2",
        "net_sell_high2",
        "net_sell_low2",
        "open_count",
        "orders",
        "strategies",
    )

    def __init__(self, instruments: dict[str, InstrumentRisk]) -> None:
        self.instruments = instruments
        self.legs_by_instrument: dict[str, dict[str, Leg]] = {i: {} for i in instruments}
        self.strategies: dict[str, StrategyRisk] = {}
        # client order id -> WorkingOrder, or the approved SubmitOrder (see ``order``)
        self.orders: dict[str, WorkingOrder | SubmitOrder] = {}
        self.open_count = 0
        self.gross2 = 0
        self.net2 = 0
        self.cash2 = 0
        self.high_water2 = 0
        self.day_start_pnl2 = 0
        self.gross_cap2 = 0
        self.gross_room2 = 0
        self.net_buy_low2 = 0
        self.net_buy_high2 = 0
        self.net_sell_low2 = 0
        self.net_sell_high2 = 0

    @property
    def open_notional2(self) -> int:
        """Notional of every working order (derived from the gross room)."""
        return self.gross_cap2 - self.gross2 - self.gross_room2

    def rooms(self, gross_cap2: int, net_limit2: int) -> None:
        """Recompute the firm rooms after PnL, marks or caps moved."""
        self.gross_room2 += gross_cap2 - self.gross_cap2
        self.gross_cap2 = gross_cap2
        net = self.net2
        # a buy of notional n passes when -limit <= net + n <= limit
        self.net_buy_low2 = -net_limit2 - net
        self.net_buy_high2 = net_limit2 - net
        # a sell of notional n passes when -limit <= net - n <= limit
        self.net_sell_low2 = net - net_limit2
        self.net_sell_high2 = net + net_limit2

    @property
    def pnl2(self) -> int:
        return self.cash2 + self.net2

    @property
    def drawdown2(self) -> int:
        return self.high_water2 - self.pnl2

    @property
    def daily_pnl2(self) -> int:
        return self.pnl2 - self.day_start_pnl2

    def leg(self, strategy: StrategyRisk, instrument: InstrumentRisk) -> Leg:
        leg = strategy.legs.get(instrument.instrument_id)
        if leg is None:
            leg = strategy.legs[instrument.instrument_id] = Leg(strategy, instrument)
            by_strategy = self.legs_by_instrument.setdefault(instrument.instrument_id, {})
            by_strategy[strategy.strategy_id] = leg
        return leg

    def order(self, client_order_id: str) -> WorkingOrder | None:
        """The working order with this id (a command the fast path stored becomes its
        ``WorkingOrder`` here, once)."""
        order = self.orders.get(client_order_id)
        if order is None or type(order) is WorkingOrder:
            return order
        record = self.orders[client_order_id] = self.record(order)
        return record

    def working(self) -> list[WorkingOrder]:
        """Every working order, oldest first."""
        return [
            order if type(order) is WorkingOrder else self.order(client_order_id)  # type: ignore[misc]
            for client_order_id, order in list(self.orders.items())
        ]

    def record(self, cmd: SubmitOrder) -> WorkingOrder:
        """The ``WorkingOrder`` of a limit order the fast path approved (nothing filled)."""
        price = cmd.price
        assert price is not None, "the fast path approves limit orders only"
        leg = self.legs_by_instrument[cmd.instrument_id][cmd.strategy_id]
        sign = 1 if cmd.side is _BUY else -1
        return WorkingOrder(cmd.client_order_id, leg, sign, cmd.quantity.raw, price.raw, price.raw)

    def add_order(self, order: WorkingOrder) -> None:
        self.orders[order.client_order_id] = order
        leg = order.leg
        notional = order.leaves * order.notional_price
        if order.sign > 0:
            leg.buy_room -= order.leaves
        else:
            leg.sell_room -= order.leaves
        strategy = leg.strategy
        strategy.open_count += 1
        strategy.budget_room2 -= notional
        self.open_count += 1
        self.gross_room2 -= notional
        if order.resting_price is not None:
            leg.instrument.add_resting(order.sign, order.resting_price)

    def reduce_order(self, order: WorkingOrder, quantity: int) -> None:
        """Release ``quantity`` of the order's working quantity (a fill)."""
        order.filled += quantity
        quantity = min(quantity, order.leaves)
        order.leaves -= quantity
        self._release(order, quantity)

    def remove_order(self, client_order_id: str) -> WorkingOrder | None:
        order = self.orders.pop(client_order_id, None)
        if order is None:
            return None
        if type(order) is not WorkingOrder:
            order = self.record(order)
        self._release(order, order.leaves)
        order.leaves = 0
        leg = order.leg
        leg.strategy.open_count -= 1
        self.open_count -= 1
        if order.resting_price is not None:
            leg.instrument.remove_resting(order.sign, order.resting_price)
        return order

    def _release(self, order: WorkingOrder, quantity: int) -> None:
        leg = order.leg
        notional = quantity * order.notional_price
        if order.sign > 0:
            leg.buy_room += quantity
        else:
            leg.sell_room += quantity
        strategy = leg.strategy
        strategy.budget_room2 += notional
        self.gross_room2 += notional

    def apply_fill(self, leg: Leg, sign: int, quantity: int, price: int) -> None:
        """Move the position and cash by one fill, exactly."""
        instrument = leg.instrument
        strategy = leg.strategy
        if instrument.mark == 0:
            instrument.mark = price
        mark = instrument.mark
        before = leg.position
        after = before + sign * quantity
        leg.move_position(sign * quantity)
        abs_delta = abs(after) - abs(before)
        instrument.abs_position += abs_delta
        instrument.net_position += sign * quantity
        cash = sign * quantity * price
        strategy.cash2 -= cash
        self.cash2 -= cash
        strategy.gross2 += abs_delta * mark
        strategy.budget_room2 -= abs_delta * mark
        strategy.net2 += sign * quantity * mark
        self.gross2 += abs_delta * mark
        self.gross_room2 -= abs_delta * mark
        self.net2 += sign * quantity * mark
        self._update_high_water()

    def mark(self, instrument: InstrumentRisk, price: int) -> bool:
        """Revalue every position in ``instrument`` at ``price``; True when PnL or
        exposure moved (a position is open and the mark changed)."""
        delta = price - instrument.mark
        instrument.mark = price
        abs_position = instrument.abs_position
        if delta == 0 or abs_position == 0:
            return False
        moved = abs_position * delta
        self.gross2 += moved
        self.gross_room2 -= moved
        self.net2 = net = self.net2 + instrument.net_position * delta
        for leg in self.legs_by_instrument[instrument.instrument_id].values():
            position = leg.position
            if position:
                strategy = leg.strategy
                moved = (position if position > 0 else -position) * delta
                strategy.gross2 += moved
                strategy.budget_room2 -= moved
                strategy.net2 += position * delta
        pnl = self.cash2 + net
        if pnl > self.high_water2:
            self.high_water2 = pnl
        return True

    def _update_high_water(self) -> None:
        pnl = self.cash2 + self.net2
        if pnl > self.high_water2:
            self.high_water2 = pnl

    def start_day(self) -> None:
        """Make the current PnL the start of a new trading day (daily loss resets)."""
        self.day_start_pnl2 = self.pnl2


def raw_amount(amount: str) -> int:
    """A config decimal string as a raw fixed-point int (scale 1e9)."""
    return _raw(amount)
