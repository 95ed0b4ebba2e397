"""The risk engine's own view of the world: open orders, positions, exposure and PnL.

Everything is kept incrementally in exact integers so the gate only compares numbers:

* quantities and prices are raw fixed-point ints (scale 1e9);
* notionals are ``price_raw * quantity_raw`` ("raw2", scale 1e18), never divided;
* the firm PnL is ``cash + sum(net_qty * mark)`` (cash = minus the signed cost of fills);
* the raw2 sums (exposure, cash, PnL, high water) are held split, as a :class:`Room`
  (whole raw1 units plus a fraction), so the revaluation on every quote moves them by
  ``position * price_change`` in machine words; ``gross2``, ``net2``, ``cash2`` and the
  other ``*2`` properties give them back as exact raw2 ints;
* a working order is a :class:`WorkingOrder`, or, as the gate's fast path left it, the
  approved ``SubmitOrder`` itself (no record is allocated on the order path): it becomes
  a ``WorkingOrder`` when it is first read (:meth:`Portfolio.order`) and is released
  straight from the command when it ends first;
* for the gate's fast path, the headroom under each limit is kept next to the sums it
  derives from (``*_room``): a check is then one comparison. Every method that changes a
  sum changes its room by the same amount; :meth:`Portfolio.rooms` recomputes the firm
  rooms that depend on PnL;
* the notional rooms and bounds the fast path compares are also kept at scale 1e9
  ("raw1", suffix ``1``), where an order's notional is a small int (a raw2 notional of a
  price of 100 and a quantity of 10 is 1e21, past the machine word, so every comparison
  and subtraction at scale 1e18 allocates a big int). The gross and budget rooms are
  stored as a whole raw1 part and a fraction (``room2 == room1 * 1e9 + frac``, ``0 <=
  frac < 1e9``), so a fast-path order whose raw2 notional is a whole number of raw1
  units (every price and quantity with 9 decimals between them) moves the whole part
  alone, exactly (:class:`Room`). Static bounds are rounded inwards and capped at
  ``CAP1``: a value past the cap only sends the order to the ordered checks, which are
  exact at scale 1e18.

The view is fed by the gate (an approved order counts against limits at once) and by
the bus (order events, fills, quotes); it never reads the OMS.
"""

from __future__ import annotations

from typing import Final, final

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import FIXED_SCALAR
from spreadwire.risk.throttle import TokenBucket

_BUY: Final = OrderSide.BUY
#: "no own resting order" on that side: every price compares as not crossing
NO_BID: Final = -(2**64)
NO_ASK: Final = 2**64
#: the largest raw1 bound the fast path compares (a short int in compiled code: below 2**62)
CAP1: Final = 2**61
_S: Final = 1_000_000_000  # FIXED_SCALAR as a literal: compiled arithmetic by a constant
assert _S == FIXED_SCALAR


#: operand bounds under which :meth:`Room.add` and :func:`raw1_notional` form no big
#: int: compiled code multiplies two ints natively only when both are non-negative and
#: below 2**30 (mypyc's tagged ints), so amounts are split into whole units and a part
_QUANTITY_FAST: Final = 1_000_000_000_000_000_000
_PRICE_FAST: Final = 1_073_741_824


def floor1(amount2: int) -> int:
    """The raw1 bound under a raw2 upper limit: ``n1 <= floor1(x2)`` iff ``n1 * 1e9 <=
    x2`` (capped at ``CAP1``)."""
    bound = amount2 // _S
    return bound if bound < CAP1 else CAP1


#: what :func:`raw1_notional` answers for a notional finer than raw1: past every raw1
#: bound, so the fast path's notional check sends the order to the ordered checks
INEXACT: Final = CAP1 + 1


def raw1_notional(price: int, quantity: int) -> int:
    """``price * quantity`` (raw, so raw2) in raw1 when that is a whole number, else
    ``INEXACT``; the product itself is never formed (past the machine word it is a big
    int). Whole when the price and quantity carry at most 9 decimals between them."""
    whole = quantity // _S
    part = quantity - whole * _S
    high = price // _S
    if 0 <= high < _PRICE_FAST and 0 <= whole < _PRICE_FAST:
        # the price split too (whole units and a part below 1e9), so that every product
        # has two operands below 2**30: machine words in compiled code (a price such as
        # 1e11 raw times anything went through Python ints)
        low = price - high * _S
        notional = high * whole * _S + low * whole
        if part:
            rest = part * low
            if rest % _S:
                return INEXACT
            notional += part * high + rest // _S
        return notional
    notional = price * whole
    if part:
        part *= price
        if part % _S:
            return INEXACT
        notional += part // _S
    return notional


def ceil1(amount2: int) -> int:
    """The raw1 bound over a raw2 lower limit: ``n1 >= ceil1(x2)`` iff ``n1 * 1e9 >=
    x2`` (capped at ``-CAP1``)."""
    bound = -(-amount2 // _S)
    return bound if bound > -CAP1 else -CAP1


def _raw(amount: str) -> int:
    whole, _, frac = amount.partition(".")
    return int(whole) * FIXED_SCALAR + int((frac + "000000000")[:9])


@final
class Room:
    """An exact raw2 amount kept as a whole number of raw1 units plus a fraction:
    ``raw2 == whole * 1e9 + frac`` with ``0 <= frac < 1e9``.

    It holds the headroom under a limit (the gate's fast path compares and moves
    ``whole`` alone, small ints, for a notional that is a whole number of raw1 units) and
    the exposure, cash and PnL sums a mark moves on every quote: :meth:`add` moves them by
    ``quantity * price_change`` in machine words, where the same sum held as one raw2 int
    (past the machine word from a notional of about 9.2) allocated a big int at every step.
    """

    __slots__ = ("frac", "whole")

    def __init__(self, amount2: int = 0) -> None:
        self.whole, self.frac = divmod(amount2, _S)

    @property
    def raw2(self) -> int:
        return self.whole * _S + self.frac

    @raw2.setter
    def raw2(self, amount2: int) -> None:
        self.whole, self.frac = divmod(amount2, _S)

    def spend(self, amount2: int) -> None:
        """The room shrinks by ``amount2`` (raw2; negative: it grows)."""
        whole, part = divmod(amount2, _S)
        frac = self.frac - part
        room = self.whole - whole
        if frac < 0:
            frac += _S
            room -= 1
        self.frac = frac
        self.whole = room

    def take(self, quantity: int, price: int) -> None:
        """The room shrinks by ``quantity * price`` (raw, so raw2; negative: it grows)."""
        self.add(quantity, -price)

    def add(self, quantity: int, price: int) -> None:
        """The amount grows by ``quantity * price`` (raw, so raw2; negative: it shrinks),
        exactly, without forming the product. With ``|quantity| < 1e18`` and ``|price| <
        2**30`` (a price change rather than a price) every step is a machine-word
        operation in compiled code."""
        negative = False
        if quantity < 0:
            quantity = -quantity
            negative = True
        if price < 0:
            price = -price
            negative = not negative
        units = quantity // _S
        part = quantity - units * _S
        if quantity >= _QUANTITY_FAST or price >= _PRICE_FAST:
            # a price: the sign rides on it, the products may leave the machine word
            if negative:
                price = -price
            frac = self.frac + part * price
            whole = self.whole + units * price
            if frac < 0 or frac >= _S:
                carry = frac // _S
                whole += carry
                frac -= carry * _S
            self.frac = frac
            self.whole = whole
            return
        high = units * price  # whole raw1 units
        low = part * price  # raw2, below 1e9 * 2**30
        carry = low // _S
        high += carry
        low -= carry * _S
        if negative:
            frac = self.frac - low
            whole = self.whole - high
            if frac < 0:
                frac += _S
                whole -= 1
        else:
            frac = self.frac + low
            whole = self.whole + high
            if frac >= _S:
                frac -= _S
                whole += 1
        self.frac = frac
        self.whole = whole

    def set_room(self, other: Room) -> None:
        """Hold ``other``'s amount."""
        self.whole = other.whole
        self.frac = other.frac

    def add_room(self, other: Room) -> None:
        """Grow by ``other``'s amount."""
        frac = self.frac + other.frac
        whole = self.whole + other.whole
        if frac >= _S:
            frac -= _S
            whole += 1
        self.frac = frac
        self.whole = whole

    def move_by(self, old: Room, new: Room) -> None:
        """Grow by ``new - old`` (a limit the room is kept under moved)."""
        frac = self.frac + new.frac - old.frac
        whole = self.whole + new.whole - old.whole
        if frac < 0:
            frac += _S
            whole -= 1
        elif frac >= _S:
            frac -= _S
            whole += 1
        self.frac = frac
        self.whole = whole


def sum_at_most(a: Room, b: Room, c: Room) -> bool:
    """``a + b <= c``, exactly, in machine words (no raw2 int formed)."""
    frac = a.frac + b.frac
    whole = a.whole + b.whole
    if frac >= _S:
        frac -= _S
        whole += 1
    return whole < c.whole or (whole == c.whole and frac <= c.frac)


def at_least(a: Room, b: Room) -> bool:
    """``a >= b``, exactly."""
    return a.whole > b.whole or (a.whole == b.whole and a.frac >= b.frac)


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
        "mark",
        "max_notional1",
        "max_notional2",
        "max_position",
        "max_quantity",
        "min_notional1",
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
        self.min_quantity = max(min_quantity, self.lot)
        self.max_quantity = max_quantity
        self.min_notional2 = self.max_notional2 = self.min_notional1 = self.max_notional1 = 0
        self.set_notional_limits(min_notional2, max_notional2)
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
        # price level -> own resting orders there (plain dicts: compiled code has native
        # paths for ``dict`` only, a ``defaultdict`` goes through generic calls)
        self.own_bids: dict[int, int] = {}
        self.own_asks: dict[int, int] = {}
        self.best_own_bid = NO_BID
        self.best_own_ask = NO_ASK
        self.collar_low = NO_ASK
        self.collar_high = NO_BID
        self.reference_expiry = -1

    def set_notional_limits(self, min_notional2: int, max_notional2: int) -> None:
        """An order's notional must lie in ``[min_notional2, max_notional2]`` (raw2); the
        fast path's raw1 bounds follow."""
        self.min_notional2 = min_notional2
        self.max_notional2 = max_notional2
        self.min_notional1 = ceil1(min_notional2)
        self.max_notional1 = floor1(max_notional2)

    def set_reference(self, price: int, ts: int, max_age_ns: int) -> None:
        """A new reference price: precompute the collar bounds and the expiry time."""
        self.reference = price
        self.reference_ts = ts
        if not self.tradable:
            self.reference_expiry = -1  # the gate's fast path never takes this instrument
        else:
            self.reference_expiry = ts + max_age_ns if max_age_ns else 2**63
        # abs(price) * collar_bps // 10_000, by parts: products of small ints (compiled,
        # machine words; ``abs`` and a product with the price went through Python ints)
        size = price if price >= 0 else -price
        units = size // 10_000
        collar = self.collar_bps
        width = units * collar + (size - units * 10_000) * collar // 10_000
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
        book[price] = book.get(price, 0) + 1
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
                self.best_own_bid = _highest(book)
        elif price == self.best_own_ask:
            self.best_own_ask = _lowest(book)


def _highest(book: dict[int, int]) -> int:
    """The highest level with orders, or ``NO_BID`` (a plain loop: compiled, it beats
    ``max`` over a generator several times)."""
    best = NO_BID
    for level, count in book.items():
        if count and level > best:
            best = level
    return best


def _lowest(book: dict[int, int]) -> int:
    """The lowest level with orders, or ``NO_ASK``."""
    best = NO_ASK
    for level, count in book.items():
        if count and level < best:
            best = level
    return best


#: own-book price levels kept (possibly empty) before the empty ones are dropped
_MAX_EMPTY_LEVELS: Final = 64


@final
class StrategyRisk:
    """A strategy's working orders, throttles, exposure and PnL."""

    __slots__ = (
        "budget2",
        "budget_room",
        "cancel_blocked_until",
        "cancel_bucket",
        "cash",
        "gross",
        "legs",
        "net",
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
        self.budget_room = Room(budget2)
        self.order_bucket = order_bucket
        self.cancel_bucket = cancel_bucket
        self.cancel_blocked_until = 0
        self.open_count = 0
        # exposure and cash (raw2), kept split (see Room) so a mark moves them natively
        self.gross = Room()
        self.net = Room()
        self.cash = Room()
        self.legs: dict[str, Leg] = {}

    @property
    def gross2(self) -> int:
        return self.gross.raw2

    @property
    def net2(self) -> int:
        return self.net.raw2

    @property
    def cash2(self) -> int:
        return self.cash.raw2

    @property
    def budget_room2(self) -> int:
        """Notional a new order may add before the budget is spent (raw2)."""
        return self.budget_room.raw2

    @property
    def open_notional2(self) -> int:
        """Notional of the working orders (derived from the budget room)."""
        return self.budget2 - self.gross2 - self.budget_room2

    @property
    def pnl2(self) -> int:
        return self.cash.raw2 + self.net.raw2


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
        "cash",
        "day_start",
        "gross",
        "gross_cap",
        "gross_room",
        "high_water",
        "instruments",
        "legs_by_instrument",
        "net",
        "net_buy_high1",
        "net_buy_low1",
        "net_sell_high1",
        "net_sell_low1",
        "open_count",
        "orders",
        "pnl",
        "strategies",
    )

    def __init__(self, instruments: dict[str, InstrumentRisk]) -> None:
        self.instruments = instruments
        self.legs_by_instrument: dict[str, dict[str, Leg]] = {i: {} for i in instruments}
        self.strategies: dict[str, StrategyRisk] = {}
        # client order id -> WorkingOrder, or the approved SubmitOrder (see ``order``)
        self.orders: dict[str, WorkingOrder | SubmitOrder] = {}
        self.open_count = 0
        # the raw2 sums, kept split (see Room) so a mark moves them natively; ``pnl`` is
        # ``cash + net``, kept with them
        self.gross = Room()
        self.net = Room()
        self.cash = Room()
        self.pnl = Room()
        self.high_water = Room()
        self.day_start = Room()
        self.gross_cap = Room()
        self.gross_room = Room()
        # raw1 bounds of the notional of a new buy / sell under the net exposure cap
        self.net_buy_low1 = 0
        self.net_buy_high1 = 0
        self.net_sell_low1 = 0
        self.net_sell_high1 = 0

    @property
    def gross2(self) -> int:
        return self.gross.raw2

    @property
    def net2(self) -> int:
        return self.net.raw2

    @net2.setter
    def net2(self, amount2: int) -> None:
        self.net.raw2 = amount2
        self.pnl.raw2 = self.cash.raw2 + amount2

    @property
    def cash2(self) -> int:
        return self.cash.raw2

    @cash2.setter
    def cash2(self, amount2: int) -> None:
        self.cash.raw2 = amount2
        self.pnl.raw2 = amount2 + self.net.raw2

    @property
    def high_water2(self) -> int:
        return self.high_water.raw2

    @property
    def day_start_pnl2(self) -> int:
        return self.day_start.raw2

    @property
    def gross_cap2(self) -> int:
        return self.gross_cap.raw2

    @property
    def gross_room2(self) -> int:
        """Notional a new order may add before the gross cap (raw2)."""
        return self.gross_room.raw2

    @property
    def open_notional2(self) -> int:
        """Notional of every working order (derived from the gross room)."""
        return self.gross_cap2 - self.gross2 - self.gross_room2

    def rooms(self, gross_cap2: int, net_limit1: int) -> None:
        """Recompute the firm rooms after PnL, marks or caps moved."""
        self.rooms_at(Room(gross_cap2), net_limit1)

    def rooms_at(self, gross_cap: Room, net_limit1: int) -> None:
        """:meth:`rooms` with the gross cap already split (machine words only)."""
        cap = self.gross_cap
        if gross_cap.whole != cap.whole or gross_cap.frac != cap.frac:
            self.gross_room.move_by(cap, gross_cap)
            cap.set_room(gross_cap)
        # -limit <= net + n <= limit for a buy of notional n, -limit <= net - n <= limit
        # for a sell, with n = n1 * 1e9 and the limit l * 1e9 (raw1 l): for net = w * 1e9
        # + r (0 <= r < 1e9) a buy needs -l - w <= n1 <= l - w - (r > 0) and a sell
        # w + (r > 0) - l <= n1 <= w + l
        net = self.net
        whole = net.whole
        up = 1 if net.frac else 0
        limit = net_limit1
        low = -limit - whole
        self.net_buy_low1 = low if low > -CAP1 else -CAP1
        high = limit - whole - up
        self.net_buy_high1 = high if high < CAP1 else CAP1
        low = whole + up - limit
        self.net_sell_low1 = low if low > -CAP1 else -CAP1
        high = whole + limit
        self.net_sell_high1 = high if high < CAP1 else CAP1

    @property
    def pnl2(self) -> int:
        return self.pnl.raw2

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
        if order.sign > 0:
            leg.buy_room -= order.leaves
        else:
            leg.sell_room -= order.leaves
        strategy = leg.strategy
        strategy.open_count += 1
        strategy.budget_room.take(order.leaves, order.notional_price)
        self.open_count += 1
        self.gross_room.take(order.leaves, order.notional_price)
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
        if order.sign > 0:
            leg.buy_room += quantity
        else:
            leg.sell_room += quantity
        strategy = leg.strategy
        strategy.budget_room.take(-quantity, order.notional_price)
        self.gross_room.take(-quantity, order.notional_price)

    def apply_fill(self, leg: Leg, sign: int, quantity: int, price: int) -> None:
        """Move the position and cash by one fill, exactly."""
        instrument = leg.instrument
        strategy = leg.strategy
        if instrument.mark == 0:
            instrument.mark = price
        mark = instrument.mark
        signed = sign * quantity
        before = leg.position
        after = before + signed
        leg.move_position(signed)
        abs_delta = abs(after) - abs(before)
        instrument.abs_position += abs_delta
        instrument.net_position += signed
        # cash moves by -signed * price and the net by signed * mark: PnL by their sum
        strategy.cash.add(signed, -price)
        self.cash.add(signed, -price)
        strategy.gross.add(abs_delta, mark)
        strategy.budget_room.take(abs_delta, mark)
        strategy.net.add(signed, mark)
        self.gross.add(abs_delta, mark)
        self.gross_room.take(abs_delta, mark)
        self.net.add(signed, mark)
        self.pnl.add(signed, mark - price)
        self._update_high_water()

    def mark(self, instrument: InstrumentRisk, price: int) -> bool:
        """Revalue every position in ``instrument`` at ``price``; True when PnL or
        exposure moved (a position is open and the mark changed). Each sum moves by a
        position times the price change, in machine words (:meth:`Room.add`)."""
        delta = price - instrument.mark
        instrument.mark = price
        abs_position = instrument.abs_position
        if delta == 0 or abs_position == 0:
            return False
        self.gross.add(abs_position, delta)
        self.gross_room.take(abs_position, delta)
        net_position = instrument.net_position
        self.net.add(net_position, delta)
        self.pnl.add(net_position, delta)
        for leg in self.legs_by_instrument[instrument.instrument_id].values():
            position = leg.position
            if position:
                strategy = leg.strategy
                size = position if position > 0 else -position
                strategy.gross.add(size, delta)
                strategy.budget_room.take(size, delta)
                strategy.net.add(position, delta)
        self._update_high_water()
        return True

    def _update_high_water(self) -> None:
        if not at_least(self.high_water, self.pnl):
            self.high_water.set_room(self.pnl)

    def start_day(self) -> None:
        """Make the current PnL the start of a new trading day (daily loss resets)."""
        self.day_start.set_room(self.pnl)


def raw_amount(amount: str) -> int:
    """A config decimal string as a raw fixed-point int (scale 1e9)."""
    return _raw(amount)
