"""The simulated exchange: order books, venue-side checks, reports and market data.

``SimulatedExchange`` runs one :class:`~spreadwire.venue.book.OrderBook` per instrument.
It answers orders of the node (owner ``"node"``) with execution reports carrying the
cumulative and leaves quantity, and publishes, after every matching step, one
``TradeTick`` per match and one ``BookDelta`` per changed L2 level (gap-free ``sequence``
per instrument, ``last=True`` on the step's final delta). Background participants (any
other owner) trade through the same books and get no reports.

Semantics: price-time priority; limit (GTC/DAY/GTD rest, IOC/FOK do not), market (walks
the book, the remainder is canceled), FOK checked side-effect free before it trades,
post-only rejected if it would cross. A modify that changes the price or raises the
quantity loses time priority; a pure size decrease keeps it. Terminal orders report
``leaves_qty`` 0. A STATUS report (:meth:`SimulatedExchange.order_status`) carries the
order's :class:`~spreadwire.domain.enums.OrderStatus` value in ``reason``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Final, final

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import (
    BookAction,
    BookSide,
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    ReportKind,
    TimeInForce,
)
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, BookLevel, BookSnapshot, TradeTick
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.venue.book import NO_LIMIT, BookOrder, Fill, OrderBook
from spreadwire.venue.reasons import VenueReason

NODE: Final = "node"
ReportHandler = Callable[[ExecutionReport], None]
DeltaHandler = Callable[[BookDelta], None]
TradeHandler = Callable[[TradeTick], None]

_RESTING_TIF: Final = frozenset({TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD})
_S = OrderStatus
_K = ReportKind
_R = VenueReason


@final
class _Market:
    """One instrument's book and feed state."""

    __slots__ = (
        "book",
        "halted",
        "instrument",
        "lot",
        "price_precision",
        "sequence",
        "size_precision",
        "tick",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.book = OrderBook()
        self.sequence = 0
        self.halted = not instrument.tradable
        self.price_precision = instrument.price_precision
        self.size_precision = instrument.size_precision
        self.tick = instrument.tick_size.raw
        self.lot = instrument.lot_size.raw


@final
class SimulatedExchange:
    """Matching engine of the simulated venue; see the module docstring."""

    def __init__(
        self,
        instruments: Iterable[Instrument],
        clock: Clock,
        *,
        on_report: ReportHandler,
        on_delta: DeltaHandler,
        on_trade: TradeHandler,
        max_retained_orders: int = 100_000,
    ) -> None:
        self._markets = {i.instrument_id: _Market(i) for i in instruments}
        self._clock = clock
        self._on_report = on_report
        self._on_delta = on_delta
        self._on_trade = on_trade
        self._orders: dict[tuple[str, str], BookOrder] = {}
        self._retired: deque[tuple[str, str]] = deque()
        self._max_retained = max_retained_orders
        self._order_count = 0
        self._trade_count = 0

    # ------------------------------------------------------------------ queries

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return tuple(m.instrument for m in self._markets.values())

    def book(self, instrument_id: str) -> OrderBook:
        return self._markets[instrument_id].book

    def sequence(self, instrument_id: str) -> int:
        """The sequence of the last delta published for ``instrument_id``."""
        return self._markets[instrument_id].sequence

    def is_halted(self, instrument_id: str) -> bool:
        return self._markets[instrument_id].halted

    def snapshot(self, instrument_id: str, levels: int | None = None) -> BookSnapshot:
        """The L2 book as of the last published delta."""
        market = self._markets[instrument_id]
        pp, sp = market.price_precision, market.size_precision

        def side(is_buy: bool) -> tuple[BookLevel, ...]:
            return tuple(
                BookLevel(price=Price(raw=p, precision=pp), size=Quantity(raw=s, precision=sp))
                for p, s in market.book.depth(is_buy, levels)
            )

        now = self._clock.timestamp_ns()
        return BookSnapshot(
            instrument_id=instrument_id,
            bids=side(True),
            asks=side(False),
            sequence=market.sequence,
            ts_event=now,
            ts_init=now,
        )

    def order_status(self, client_order_id: str, owner: str = NODE) -> ExecutionReport | None:
        """A STATUS report of a known order (``reason`` holds its status), else None."""
        order = self._orders.get((owner, client_order_id))
        if order is None:
            return None
        return self._report(_K.STATUS, order, reason=order.status.value)

    # ------------------------------------------------------------------ control

    def halt(self, instrument_id: str) -> None:
        self._markets[instrument_id].halted = True

    def resume(self, instrument_id: str) -> None:
        self._markets[instrument_id].halted = False

    # ------------------------------------------------------------------ commands

    def submit(self, cmd: SubmitOrder, owner: str = NODE) -> None:
        key = (owner, cmd.client_order_id)
        market = self._markets.get(cmd.instrument_id)
        reason = self._check_submit(cmd, market, key)
        if reason is not None or market is None:
            self.reject(cmd, reason or _R.UNKNOWN_INSTRUMENT, owner)
            return
        is_buy = cmd.side is OrderSide.BUY
        is_limit = cmd.order_type is OrderType.LIMIT
        order = self._new_order(
            is_buy,
            cmd.price.raw if is_limit and cmd.price is not None else 0,
            cmd.quantity.raw,
            owner=owner,
            client_order_id=cmd.client_order_id,
            instrument_id=cmd.instrument_id,
            strategy_id=cmd.strategy_id,
            post_only=cmd.post_only,
        )
        self._orders[key] = order
        order.status = _S.ACCEPTED
        if owner == NODE:
            self._on_report(self._report(_K.ACCEPTED, order))
        if is_limit:
            rests = cmd.time_in_force in _RESTING_TIF
            self._execute(market, order, order.price, rests, _R.IOC_REMAINDER)
        else:
            self._execute(market, order, NO_LIMIT, False, _R.MARKET_REMAINDER)
        self._publish(market)

    def reject(self, cmd: SubmitOrder, reason: str, owner: str = NODE) -> None:
        """Refuse ``cmd`` with ``reason`` (a REJECTED report for the node's orders)."""
        if owner != NODE:
            return
        zero = Quantity(raw=0, precision=cmd.quantity.precision)
        self._on_report(
            ExecutionReport(
                kind=_K.REJECTED,
                instrument_id=cmd.instrument_id,
                client_order_id=cmd.client_order_id,
                venue_order_id="",
                side=cmd.side,
                cum_qty=zero,
                leaves_qty=zero,
                price=cmd.price,
                quantity=cmd.quantity,
                reason=reason,
                ts_event=self._clock.timestamp_ns(),
            )
        )

    def cancel(self, cmd: CancelOrder, owner: str = NODE) -> None:
        order = self._orders.get((owner, cmd.client_order_id))
        if order is None or order.instrument_id != cmd.instrument_id:
            self._refuse(_K.CANCEL_REJECTED, cmd.instrument_id, cmd.client_order_id, owner)
            return
        if not order.live:
            if owner == NODE:
                self._on_report(self._report(_K.CANCEL_REJECTED, order, reason=_R.TOO_LATE))
            return
        market = self._markets[order.instrument_id]
        self._cancel(market, order, _R.CANCELED_BY_CLIENT)
        self._publish(market)

    def cancel_all(self, cmd: CancelAllOrders, owner: str = NODE) -> None:
        """Cancel every working order of ``cmd.strategy_id`` (one instrument or all)."""
        touched: dict[str, _Market] = {}
        for (order_owner, _), order in list(self._orders.items()):
            if (
                order_owner == owner
                and order.live
                and order.strategy_id == cmd.strategy_id
                and (cmd.instrument_id is None or order.instrument_id == cmd.instrument_id)
            ):
                market = self._markets[order.instrument_id]
                self._cancel(market, order, _R.CANCELED_BY_CLIENT)
                touched[order.instrument_id] = market
        for market in touched.values():
            self._publish(market)

    def modify(self, cmd: ModifyOrder, owner: str = NODE) -> None:
        order = self._orders.get((owner, cmd.client_order_id))
        if order is None or order.instrument_id != cmd.instrument_id:
            self._refuse(_K.MODIFY_REJECTED, cmd.instrument_id, cmd.client_order_id, owner)
            return
        market = self._markets[order.instrument_id]
        reason = self._check_modify(cmd, order, market)
        if reason is not None:
            if owner == NODE:
                self._on_report(self._report(_K.MODIFY_REJECTED, order, reason=reason))
            return
        price = order.price if cmd.price is None else cmd.price.raw
        quantity = order.quantity if cmd.quantity is None else cmd.quantity.raw
        book = market.book
        if price == order.price and quantity <= order.quantity:
            if quantity < order.quantity:
                book.reduce(order, quantity - order.filled)
                order.quantity = quantity
            self._report_modified(order)
        else:
            book.cancel(order)
            order = order.requeued()
            self._orders[(owner, cmd.client_order_id)] = order
            order.price = price
            order.quantity = quantity
            order.leaves = quantity - order.filled
            self._report_modified(order)
            self._execute(market, order, price, True, _R.IOC_REMAINDER)
        self._publish(market)

    # ------------------------------------------------------------------ background fast path

    def place(
        self,
        owner: str,
        instrument_id: str,
        is_buy: bool,
        price: int | None,
        quantity: int,
        *,
        resting: bool = True,
    ) -> BookOrder | None:
        """A background participant's limit (``price``) or market (None) order, unchecked.

        ``resting=False`` makes a limit order IOC. Returns the order if it rests in the
        book, else None (filled, remainder dropped, or the instrument halted). No reports.
        """
        market = self._markets[instrument_id]
        if market.halted:
            return None
        order = self._new_order(
            is_buy, price or 0, quantity, owner=owner, instrument_id=instrument_id
        )
        order.status = _S.ACCEPTED
        limit = NO_LIMIT if price is None else price
        self._execute(market, order, limit, resting and price is not None, _R.IOC_REMAINDER)
        self._publish(market)
        return order if order.live else None

    def withdraw(self, order: BookOrder) -> None:
        """Cancel a background order handle returned by :meth:`place` (no-op if gone)."""
        if order.live:
            market = self._markets[order.instrument_id]
            self._cancel(market, order, _R.CANCELED_BY_CLIENT)
            self._publish(market)

    # ------------------------------------------------------------------ internals

    def _new_order(
        self,
        is_buy: bool,
        price: int,
        quantity: int,
        *,
        owner: str,
        client_order_id: str = "",
        instrument_id: str = "",
        strategy_id: str = "",
        post_only: bool = False,
    ) -> BookOrder:
        self._order_count += 1
        return BookOrder(
            self._order_count,
            is_buy,
            price,
            quantity,
            owner=owner,
            client_order_id=client_order_id,
            instrument_id=instrument_id,
            strategy_id=strategy_id,
            post_only=post_only,
        )

    def _check_submit(
        self, cmd: SubmitOrder, market: _Market | None, key: tuple[str, str]
    ) -> VenueReason | None:
        if market is None:
            return _R.UNKNOWN_INSTRUMENT
        if key in self._orders:
            return _R.DUPLICATE_CLIENT_ORDER_ID
        if market.halted:
            return _R.INSTRUMENT_HALTED
        if cmd.order_type not in (OrderType.LIMIT, OrderType.MARKET):
            return _R.UNSUPPORTED_ORDER_TYPE
        reason = _check_quantity(cmd.quantity, market)
        if reason is None and cmd.order_type is OrderType.LIMIT:
            reason = _check_price(cmd.price, market)
        return reason or self._check_liquidity(cmd, market)

    def _check_liquidity(self, cmd: SubmitOrder, market: _Market) -> VenueReason | None:
        is_buy = cmd.side is OrderSide.BUY
        book = market.book
        limit = (
            NO_LIMIT if cmd.price is None or cmd.order_type is OrderType.MARKET else cmd.price.raw
        )
        if cmd.post_only and (limit == NO_LIMIT or book.would_cross(is_buy, limit)):
            return _R.POST_ONLY_WOULD_CROSS
        wanted = cmd.quantity.raw
        if cmd.time_in_force is TimeInForce.FOK and book.available(is_buy, limit, wanted) < wanted:
            return _R.FOK_UNFILLABLE
        if limit == NO_LIMIT and (book.best_ask() if is_buy else book.best_bid()) is None:
            return _R.NO_LIQUIDITY
        return None

    def _check_modify(
        self, cmd: ModifyOrder, order: BookOrder, market: _Market
    ) -> VenueReason | None:
        if not order.live:
            return _R.TOO_LATE
        if market.halted:
            return _R.INSTRUMENT_HALTED
        if cmd.quantity is not None:
            reason = _check_quantity(cmd.quantity, market)
            if reason is not None:
                return reason
            if cmd.quantity.raw <= order.filled:
                return _R.QUANTITY_BELOW_FILLED
        if cmd.price is not None:
            reason = _check_price(cmd.price, market)
            if reason is not None:
                return reason
            if order.post_only and market.book.would_cross(order.is_buy, cmd.price.raw):
                return _R.POST_ONLY_WOULD_CROSS
        return None

    def _execute(
        self, market: _Market, order: BookOrder, limit: int, rests: bool, remainder: VenueReason
    ) -> None:
        fills = market.book.execute(order, limit, rests)
        if fills:
            self._apply_fills(market, order, fills)
        if not order.leaves:
            self._retire(order)
        elif not rests:
            order.leaves = 0
            order.status = _S.CANCELED
            if order.owner == NODE:
                self._on_report(self._report(_K.CANCELED, order, reason=remainder))
            self._retire(order)

    def _apply_fills(self, market: _Market, taker: BookOrder, fills: list[Fill]) -> None:
        now = self._clock.timestamp_ns()
        pp, sp = market.price_precision, market.size_precision
        instrument_id = market.instrument.instrument_id
        aggressor = OrderSide.BUY if taker.is_buy else OrderSide.SELL
        taker.status = _S.FILLED if not taker.leaves else _S.PARTIALLY_FILLED
        cum = taker.filled - sum(quantity for _, quantity, _ in fills)
        for maker, quantity, price in fills:
            self._trade_count += 1
            trade_id = f"T-{self._trade_count}"
            cum += quantity
            maker.status = _S.FILLED if not maker.leaves else _S.PARTIALLY_FILLED
            px = Price(raw=price, precision=pp)
            qty = Quantity(raw=quantity, precision=sp)
            if maker.owner == NODE:
                self._on_report(
                    self._fill(
                        maker,
                        maker.filled,
                        qty,
                        px,
                        trade_id=trade_id,
                        liquidity=LiquiditySide.MAKER,
                    )
                )
            if taker.owner == NODE:
                self._on_report(
                    self._fill(
                        taker, cum, qty, px, trade_id=trade_id, liquidity=LiquiditySide.TAKER
                    )
                )
            if not maker.leaves:
                self._retire(maker)
            self._on_trade(
                TradeTick(
                    instrument_id=instrument_id,
                    price=px,
                    size=qty,
                    aggressor_side=aggressor,
                    trade_id=trade_id,
                    ts_event=now,
                    ts_init=now,
                )
            )

    def _cancel(self, market: _Market, order: BookOrder, reason: VenueReason) -> None:
        market.book.cancel(order)
        order.leaves = 0
        order.status = _S.CANCELED
        if order.owner == NODE:
            self._on_report(self._report(_K.CANCELED, order, reason=reason))
        self._retire(order)

    def _retire(self, order: BookOrder) -> None:
        """Forget a terminal order; the node's are kept (bounded) for status queries."""
        if not order.client_order_id:
            return
        key = (order.owner, order.client_order_id)
        if order.owner != NODE:
            self._orders.pop(key, None)
            return
        retired = self._retired
        retired.append(key)
        if len(retired) > self._max_retained:
            self._orders.pop(retired.popleft(), None)

    def _publish(self, market: _Market) -> None:
        """One BookDelta per changed level since the last publish; ``last`` on the final one."""
        book = market.book
        touched = book.touched
        if not touched:
            return
        changes: list[tuple[BookSide, int, int, int]] = []
        for key, before in touched.items():
            if key < 0:
                side, price, after = BookSide.BID, -key, book.level_size(True, -key)
            else:
                side, price, after = BookSide.ASK, key, book.level_size(False, key)
            if after != before:
                changes.append((side, price, before, after))
        touched.clear()
        if not changes:
            return
        now = self._clock.timestamp_ns()
        instrument_id = market.instrument.instrument_id
        pp, sp = market.price_precision, market.size_precision
        final_index = len(changes) - 1
        for index, (side, price, before, after) in enumerate(changes):
            market.sequence += 1
            if not after:
                action = BookAction.DELETE
            else:
                action = BookAction.UPDATE if before else BookAction.ADD
            self._on_delta(
                BookDelta(
                    instrument_id=instrument_id,
                    action=action,
                    side=side,
                    price=Price(raw=price, precision=pp),
                    size=Quantity(raw=after, precision=sp),
                    sequence=market.sequence,
                    last=index == final_index,
                    ts_event=now,
                    ts_init=now,
                )
            )

    def _report(self, kind: ReportKind, order: BookOrder, *, reason: str = "") -> ExecutionReport:
        market = self._markets[order.instrument_id]
        sp = market.size_precision
        return ExecutionReport(
            kind=kind,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=f"V-{order.order_id}",
            side=OrderSide.BUY if order.is_buy else OrderSide.SELL,
            cum_qty=Quantity(raw=order.filled, precision=sp),
            leaves_qty=Quantity(raw=order.leaves, precision=sp),
            price=Price(raw=order.price, precision=market.price_precision) if order.price else None,
            quantity=Quantity(raw=order.quantity, precision=sp),
            reason=reason,
            ts_event=self._clock.timestamp_ns(),
        )

    def _report_modified(self, order: BookOrder) -> None:
        if order.owner == NODE:
            self._on_report(self._report(_K.MODIFIED, order))

    def _fill(
        self,
        order: BookOrder,
        cum: int,
        qty: Quantity,
        px: Price,
        *,
        trade_id: str,
        liquidity: LiquiditySide,
    ) -> ExecutionReport:
        """A FILL report; ``cum`` is the order's filled quantity right after this fill."""
        sp = qty.precision
        return ExecutionReport(
            kind=_K.FILL,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=f"V-{order.order_id}",
            side=OrderSide.BUY if order.is_buy else OrderSide.SELL,
            cum_qty=Quantity(raw=cum, precision=sp),
            leaves_qty=Quantity(raw=order.quantity - cum, precision=sp),
            last_qty=qty,
            last_px=px,
            trade_id=trade_id,
            liquidity_side=liquidity,
            price=Price(raw=order.price, precision=px.precision) if order.price else None,
            quantity=Quantity(raw=order.quantity, precision=sp),
            ts_event=self._clock.timestamp_ns(),
        )

    def _refuse(
        self, kind: ReportKind, instrument_id: str, client_order_id: str, owner: str
    ) -> None:
        """CANCEL_REJECTED / MODIFY_REJECTED for an order the venue does not know.

        The venue cannot know the side of an unknown order: the report says BUY and the
        receiver must rely on its own record.
        """
        if owner != NODE:
            return
        zero = Quantity(raw=0, precision=0)
        self._on_report(
            ExecutionReport(
                kind=kind,
                instrument_id=instrument_id,
                client_order_id=client_order_id,
                venue_order_id="",
                side=OrderSide.BUY,
                cum_qty=zero,
                leaves_qty=zero,
                reason=_R.UNKNOWN_ORDER,
                ts_event=self._clock.timestamp_ns(),
            )
        )


def _check_quantity(quantity: Quantity, market: _Market) -> VenueReason | None:
    if quantity.raw <= 0:
        return _R.INVALID_QUANTITY
    if quantity.raw % market.lot:
        return _R.INVALID_LOT
    return None


def _check_price(price: Price | None, market: _Market) -> VenueReason | None:
    if price is None:
        return _R.MISSING_PRICE
    if price.raw <= 0:
        return _R.INVALID_PRICE
    if price.raw % market.tick:
        return _R.INVALID_TICK
    return None
