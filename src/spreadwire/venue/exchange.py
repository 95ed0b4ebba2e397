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
quantity loses time priority (and may trade if it now crosses); a pure size decrease
keeps it. GTD orders expire through :meth:`SimulatedExchange.expire` (the simulator
schedules it); DAY orders behave as GTC (there is no session end). Orders of the node may
trade with each other (no self-trade prevention).

Ids: venue order ids ``V-<session>-<n>`` and trade ids ``T-<session>-<n>`` once
:meth:`SimulatedExchange.open_session` named the session (``V-<n>`` / ``T-<n>`` before);
``n`` counts from 1 in each exchange object, so the session is what keeps the ids of a
restarted process apart from those of the runs before it, as a real venue's never repeat.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Final, final

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    ReportKind,
    TimeInForce,
)
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, BookSnapshot, TradeTick
from spreadwire.domain.reports import ExecutionReport
from spreadwire.venue.book import NO_LIMIT, BookOrder, Fill, OrderBook
from spreadwire.venue.checks import check_modify, check_submit
from spreadwire.venue.listing import Listing
from spreadwire.venue.reasons import VenueReason
from spreadwire.venue.reporting import (
    fill_report,
    order_report,
    rejected_report,
    unknown_order_report,
)

NODE: Final = "node"
ReportHandler = Callable[[ExecutionReport], None]
DeltaHandler = Callable[[BookDelta], None]
TradeHandler = Callable[[TradeTick], None]

_RESTING_TIF: Final = frozenset({TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD})
_S: Final = OrderStatus
_K: Final = ReportKind
_R: Final = VenueReason


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
        self._listings = {i.instrument_id: Listing(i) for i in instruments}
        self._clock = clock
        self._on_report = on_report
        self._on_delta = on_delta
        self._on_trade = on_trade
        self._orders: dict[tuple[str, str], BookOrder] = {}
        self._retired: deque[tuple[str, str]] = deque()
        self._max_retained = max_retained_orders
        self._order_count = 0
        self._trade_count = 0
        #: how venue order ids and trade ids start: the session's name (see open_session)
        self._order_prefix = "V-"
        self._trade_prefix = "T-"

    # ------------------------------------------------------------------ queries

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return tuple(listing.instrument for listing in self._listings.values())

    def book(self, instrument_id: str) -> OrderBook:
        return self._listings[instrument_id].book

    def sequence(self, instrument_id: str) -> int:
        """The sequence of the last delta published for ``instrument_id``."""
        return self._listings[instrument_id].sequence

    def is_halted(self, instrument_id: str) -> bool:
        return self._listings[instrument_id].halted

    def snapshot(self, instrument_id: str, levels: int | None = None) -> BookSnapshot:
        """The L2 book as of the last published delta."""
        return self._listings[instrument_id].snapshot(self._clock.timestamp_ns(), levels)

    def order_status(self, client_order_id: str, owner: str = NODE) -> ExecutionReport | None:
        """A STATUS report of a known order (``reason`` holds its status), else None."""
        order = self._orders.get((owner, client_order_id))
        if order is None:
            return None
        return self._report(_K.STATUS, order, order.status.value)

    # ------------------------------------------------------------------ control

    def open_session(self, session: int) -> None:
        """Issue ids of session ``session`` from now on (``V-<session>-<n>``,
        ``T-<session>-<n>``). The counters start from 1 in every process: without a
        session a restarted node's venue would give new orders and trades the ids of
        earlier ones, and one id would name two orders or two trades in the log, the read
        models and the recorded tape. ``SimulatedVenue.start`` opens the session at its
        start time, which a restart puts after everything the log holds."""
        self._order_prefix = f"V-{session}-"
        self._trade_prefix = f"T-{session}-"

    def halt(self, instrument_id: str) -> None:
        self._listings[instrument_id].halted = True

    def resume(self, instrument_id: str) -> None:
        self._listings[instrument_id].halted = False

    # ------------------------------------------------------------------ commands

    def submit(self, cmd: SubmitOrder, owner: str = NODE) -> None:
        key = (owner, cmd.client_order_id)
        listing = self._listings.get(cmd.instrument_id)
        if listing is None:
            self.reject(cmd, _R.UNKNOWN_INSTRUMENT, owner)
            return
        reason = _R.DUPLICATE_CLIENT_ORDER_ID if key in self._orders else None
        reason = reason or check_submit(cmd, listing)
        if reason is not None:
            self.reject(cmd, reason, owner)
            return
        is_limit = cmd.order_type is OrderType.LIMIT
        order = self._new_order(
            cmd.side is OrderSide.BUY,
            cmd.price.raw if is_limit and cmd.price is not None else 0,
            cmd.quantity.raw,
            owner=owner,
            client_order_id=cmd.client_order_id,
            instrument_id=cmd.instrument_id,
            strategy_id=cmd.strategy_id,
            post_only=cmd.post_only,
        )
        self._orders[key] = order
        if owner == NODE:
            self._on_report(self._report(_K.ACCEPTED, order))
        if is_limit:
            rests = cmd.time_in_force in _RESTING_TIF
            self._execute(listing, order, order.price, rests, _R.IOC_REMAINDER)
        else:
            self._execute(listing, order, NO_LIMIT, False, _R.MARKET_REMAINDER)
        self._publish(listing)

    def reject(self, cmd: SubmitOrder, reason: str, owner: str = NODE) -> None:
        """Refuse ``cmd`` with ``reason`` (a REJECTED report for the node's orders)."""
        if owner == NODE:
            self._on_report(rejected_report(cmd, reason, self._clock.timestamp_ns()))

    def cancel(self, cmd: CancelOrder, owner: str = NODE) -> None:
        order = self._find(_K.CANCEL_REJECTED, cmd.instrument_id, cmd.client_order_id, owner)
        if order is None:
            return
        if not order.live:
            if owner == NODE:
                self._on_report(self._report(_K.CANCEL_REJECTED, order, _R.TOO_LATE))
            return
        listing = self._listings[order.instrument_id]
        self._cancel(listing, order, _R.CANCELED_BY_CLIENT)
        self._publish(listing)

    def cancel_all(self, cmd: CancelAllOrders, owner: str = NODE) -> None:
        """Cancel every working order of ``cmd.strategy_id`` (one instrument or all)."""
        touched: dict[str, Listing] = {}
        for (order_owner, _), order in list(self._orders.items()):
            if (
                order_owner == owner
                and order.live
                and order.strategy_id == cmd.strategy_id
                and (cmd.instrument_id is None or order.instrument_id == cmd.instrument_id)
            ):
                listing = self._listings[order.instrument_id]
                self._cancel(listing, order, _R.CANCELED_BY_CLIENT)
                touched[order.instrument_id] = listing
        for listing in touched.values():
            self._publish(listing)

    def expire(self, client_order_id: str, owner: str = NODE) -> None:
        """Expire a working order (GTD reached): EXPIRED report; no-op if it is done."""
        order = self._orders.get((owner, client_order_id))
        if order is None or not order.live:
            return
        listing = self._listings[order.instrument_id]
        self._cancel(listing, order, _R.EXPIRE_TIME_REACHED, expired=True)
        self._publish(listing)

    def modify(self, cmd: ModifyOrder, owner: str = NODE) -> None:
        order = self._find(_K.MODIFY_REJECTED, cmd.instrument_id, cmd.client_order_id, owner)
        if order is None:
            return
        listing = self._listings[order.instrument_id]
        reason = check_modify(cmd, order, listing)
        if reason is not None:
            if owner == NODE:
                self._on_report(self._report(_K.MODIFY_REJECTED, order, reason))
            return
        price = order.price if cmd.price is None else cmd.price.raw
        quantity = order.quantity if cmd.quantity is None else cmd.quantity.raw
        book = listing.book
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
            self._execute(listing, order, price, True, _R.IOC_REMAINDER)
        self._publish(listing)

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
        listing = self._listings[instrument_id]
        if listing.halted:
            return None
        order = self._new_order(
            is_buy, price or 0, quantity, owner=owner, instrument_id=instrument_id
        )
        limit = NO_LIMIT if price is None else price
        self._execute(listing, order, limit, resting and price is not None, _R.IOC_REMAINDER)
        self._publish(listing)
        return order if order.live else None

    def withdraw(self, order: BookOrder) -> None:
        """Cancel a background order handle returned by :meth:`place` (no-op if gone)."""
        if order.live:
            listing = self._listings[order.instrument_id]
            self._cancel(listing, order, _R.CANCELED_BY_CLIENT)
            self._publish(listing)

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
        order = BookOrder(
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
        order.status = _S.ACCEPTED
        return order

    def _find(
        self, kind: ReportKind, instrument_id: str, client_order_id: str, owner: str
    ) -> BookOrder | None:
        """The order a cancel/modify names, or None after answering UNKNOWN_ORDER."""
        order = self._orders.get((owner, client_order_id))
        if order is not None and order.instrument_id == instrument_id:
            return order
        if owner == NODE:
            now = self._clock.timestamp_ns()
            self._on_report(
                unknown_order_report(kind, instrument_id, client_order_id, _R.UNKNOWN_ORDER, now)
            )
        return None

    def _execute(
        self, listing: Listing, order: BookOrder, limit: int, rests: bool, remainder: VenueReason
    ) -> None:
        fills = listing.book.execute(order, limit, rests)
        if fills:
            self._apply_fills(listing, order, fills)
        if not order.leaves:
            self._retire(order)
        elif not rests:
            order.leaves = 0
            order.status = _S.CANCELED
            if order.owner == NODE:
                self._on_report(self._report(_K.CANCELED, order, remainder))
            self._retire(order)

    def _apply_fills(self, listing: Listing, taker: BookOrder, fills: list[Fill]) -> None:
        now = self._clock.timestamp_ns()
        aggressor = OrderSide.BUY if taker.is_buy else OrderSide.SELL
        taker.status = _S.FILLED if not taker.leaves else _S.PARTIALLY_FILLED
        cum = taker.filled - sum(quantity for _, quantity, _ in fills)
        for maker, quantity, price in fills:
            self._trade_count += 1
            trade_id = f"{self._trade_prefix}{self._trade_count}"
            cum += quantity
            maker.status = _S.FILLED if not maker.leaves else _S.PARTIALLY_FILLED
            px = listing.price(price)
            qty = listing.quantity(quantity)
            if maker.owner == NODE:
                self._on_report(
                    fill_report(
                        maker,
                        maker.filled,
                        qty,
                        px,
                        trade_id=trade_id,
                        liquidity=LiquiditySide.MAKER,
                        now=now,
                        prefix=self._order_prefix,
                    )
                )
            if taker.owner == NODE:
                self._on_report(
                    fill_report(
                        taker,
                        cum,
                        qty,
                        px,
                        trade_id=trade_id,
                        liquidity=LiquiditySide.TAKER,
                        now=now,
                        prefix=self._order_prefix,
                    )
                )
            if not maker.leaves:
                self._retire(maker)
            self._on_trade(
                TradeTick(
                    instrument_id=listing.instrument_id,
                    price=px,
                    size=qty,
                    aggressor_side=aggressor,
                    trade_id=trade_id,
                    ts_event=now,
                    ts_init=now,
                )
            )

    def _cancel(
        self, listing: Listing, order: BookOrder, reason: VenueReason, *, expired: bool = False
    ) -> None:
        listing.book.cancel(order)
        order.leaves = 0
        order.status = _S.EXPIRED if expired else _S.CANCELED
        if order.owner == NODE:
            kind = _K.EXPIRED if expired else _K.CANCELED
            self._on_report(self._report(kind, order, reason))
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

    def _publish(self, listing: Listing) -> None:
        if listing.book.touched:
            on_delta = self._on_delta
            for delta in listing.drain_deltas(self._clock.timestamp_ns()):
                on_delta(delta)

    def _report(self, kind: ReportKind, order: BookOrder, reason: str = "") -> ExecutionReport:
        listing = self._listings[order.instrument_id]
        now = self._clock.timestamp_ns()
        return order_report(kind, order, listing, now, reason, prefix=self._order_prefix)

    def _report_modified(self, order: BookOrder) -> None:
        if order.owner == NODE:
            self._on_report(self._report(_K.MODIFIED, order))
