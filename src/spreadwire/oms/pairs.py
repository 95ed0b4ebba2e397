"""Pair orders: two legs entered as one decision, and the legging policy.

The leg quantities ``q1``, ``q2`` define the hedge ratio. Each leg's *net fill* is the
signed sum of the fills of every order of the pair on that leg (the original leg order
plus completion and unwind orders), counted in the leg's own direction. The *matched
fraction* is ``min(fill1 / q1, fill2 / q2)`` (>= 0); a leg's *residual* is the part of its
net fill beyond the matched fraction: the unhedged exposure, published on every state
change in ``PairStateChanged`` and readable with :meth:`PairBook.get`.

When every order of the pair is closed and a residual remains, the policy runs:

* ``complete`` - send the lagging leg's missing quantity as a market order (at most
  ``max_attempts`` times, before ``leg_timeout_ns`` after entry), then fall back to unwind;
* ``unwind`` - send the leading leg's residual back as a reduce-only market order.

A leg that fails while the other still works cancels the other leg first (``unwind``) or
re-sends at once (``complete``). At ``leg_timeout_ns`` working legs are canceled.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from fractions import Fraction
from typing import final

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import CancelOrder, SubmitOrder, SubmitPairOrder
from spreadwire.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from spreadwire.domain.events import PairStateChanged, TradingAlert
from spreadwire.domain.order import Order
from spreadwire.domain.values import Quantity

WORKING = "working"
COMPLETING = "completing"
UNWINDING = "unwinding"
COMPLETE = "complete"
UNWOUND = "unwound"
FAILED = "failed"
_FINAL = frozenset({COMPLETE, UNWOUND, FAILED})


@final
class PairOrder:
    """One pair's legs, child orders and legging state."""

    __slots__ = (
        "attempts",
        "children",
        "command",
        "deadline_ns",
        "dirty",
        "evaluating",
        "last_child",
        "legs",
        "orders",
        "residual",
        "state",
        "unwinds",
    )

    def __init__(self, command: SubmitPairOrder, now: int) -> None:
        self.command = command
        self.legs = (command.first, command.second)
        self.children: list[str] = [command.first.client_order_id, command.second.client_order_id]
        self.deadline_ns = now + command.leg_timeout_ns
        self.attempts = 0
        self.unwinds = 0
        self.state = "new"
        self.evaluating = False
        self.dirty = False
        self.residual = (0, 0)
        # the pair's orders once looked up: a closed child may be purged from the
        # manager's memory, the pair still counts its fills
        self.orders: dict[str, Order] = {}
        self.last_child = ("", -1)  # (tag, leg index) of the last child (restore only)

    @property
    def pair_id(self) -> str:
        return self.command.pair_id

    @property
    def is_final(self) -> bool:
        return self.state in _FINAL


def _sign(side: OrderSide) -> int:
    return 1 if side is OrderSide.BUY else -1


@final
class PairBook:
    __slots__ = (
        "_active",
        "_by_order",
        "_cancel",
        "_clock",
        "_final",
        "_lookup",
        "_pairs",
        "_pending",
        "_publish",
        "_retain",
        "_route",
    )

    def __init__(
        self,
        clock: Clock,
        *,
        route: Callable[[SubmitOrder], object],
        cancel: Callable[[CancelOrder], bool],
        lookup: Callable[[str], Order | None],
        publish: Callable[[object], None],
        retain_final: int = 10_000,
    ) -> None:
        """Pairs in a final state beyond the ``retain_final`` latest are forgotten."""
        self._clock = clock
        self._route = route
        self._cancel = cancel
        self._lookup = lookup
        self._publish = publish
        self._pairs: dict[str, PairOrder] = {}
        self._by_order: dict[str, PairOrder] = {}
        self._active: dict[str, PairOrder] = {}
        self._final: deque[str] = deque()
        self._retain = retain_final
        self._pending: SubmitPairOrder | None = None

    def get(self, pair_id: str) -> PairOrder | None:
        return self._pairs.get(pair_id)

    def pairs(self) -> list[PairOrder]:
        return list(self._pairs.values())

    def submit(self, command: SubmitPairOrder, submit: Callable[[SubmitOrder], object]) -> bool:
        if command.pair_id in self._pairs:
            self._alert("DUPLICATE_PAIR_ID", f"pair {command.pair_id} already exists")
            return False
        pair = self._add(command, self._clock.timestamp_ns())
        self._announce(pair, WORKING, "entered")
        for leg in pair.legs:
            submit(leg)
        self.evaluate(pair)
        return True

    def _add(self, command: SubmitPairOrder, now: int) -> PairOrder:
        pair = PairOrder(command, now)
        self._pairs[command.pair_id] = pair
        self._active[command.pair_id] = pair
        for leg in pair.legs:
            self._by_order[leg.client_order_id] = pair
        return pair

    # ------------------------------------------------------------------ restore

    def restore_command(self, command: SubmitPairOrder) -> None:
        """A stored pair command: it becomes a pair if its ``working`` state follows."""
        self._pending = command

    def restore_child(self, command: SubmitOrder) -> None:
        """A stored order the pair sent itself (completion ``-c``, unwind ``-u``)."""
        pair = self._pairs.get(command.pair_id or "")
        cid = command.client_order_id
        if pair is None or cid in self._by_order or not cid.startswith(f"{pair.pair_id}-"):
            return
        pair.children.append(cid)
        self._by_order[cid] = pair
        tag = cid[len(pair.pair_id) + 1 : len(pair.pair_id) + 2]
        index = 0 if command.instrument_id == pair.legs[0].instrument_id else 1
        if tag == "c":
            pair.attempts += 1
        elif tag == "u" and (index == 0 or pair.last_child != ("u", 0)):
            pair.unwinds += 1  # one unwind sends at most one order per leg, in leg order
        pair.last_child = (tag, index)

    def restore_order(self, order: Order) -> None:
        pair = self._by_order.get(order.client_order_id)
        if pair is not None:
            pair.orders[order.client_order_id] = order

    def restore_state(self, event: PairStateChanged) -> None:
        pair = self._pairs.get(event.pair_id)
        if pair is None:
            pending = self._pending
            if pending is None or pending.pair_id != event.pair_id:
                return
            self._pending = None
            pair = self._add(pending, event.ts_event)
        pair.residual = (event.residual_first_raw, event.residual_second_raw)
        pair.state = event.state
        if pair.is_final:
            self._finalize(pair)

    # ------------------------------------------------------------------ progress

    def on_order(self, order: Order) -> None:
        pair = self._by_order.get(order.client_order_id)
        if pair is not None and not pair.is_final:
            pair.orders[order.client_order_id] = order
            self.evaluate(pair)

    def check(self, now: int) -> None:
        """Enforce ``leg_timeout_ns``: cancel legs still working after the deadline
        (walks the pairs not final yet only)."""
        for pair in list(self._active.values()):
            if pair.is_final or now < pair.deadline_ns:
                continue
            working = self._working(pair)
            if working:
                for order in working:
                    self._cancel_order(order)
            else:
                self.evaluate(pair)

    def evaluate(self, pair: PairOrder) -> None:
        """Recompute residuals and run the legging policy; a report that arrives while an
        order of the pair is being sent (a synchronous venue) is evaluated right after."""
        if pair.evaluating:
            pair.dirty = True
            return
        pair.evaluating = True
        try:
            pair.dirty = True
            while pair.dirty and not pair.is_final:
                pair.dirty = False
                self._evaluate(pair)
        finally:
            pair.evaluating = False

    def _evaluate(self, pair: PairOrder) -> None:
        fills = self._net_fills(pair)
        pair.residual = self._residuals(pair, fills)
        working = self._working(pair)
        failed_early = working and self._has_failed_leg(pair)
        if failed_early and pair.command.legging == "unwind" and pair.state == WORKING:
            for order in working:
                self._cancel_order(order)
            return
        if working:
            return
        if pair.residual == (0, 0):
            state = COMPLETE if pair.state in (WORKING, COMPLETING) else UNWOUND
            if fills == (0, 0) and pair.state == WORKING:
                state = FAILED
            self._announce(pair, state, "legs closed")
            return
        self._leg(pair, fills)

    def _leg(self, pair: PairOrder, fills: tuple[int, int]) -> None:
        now = self._clock.timestamp_ns()
        command = pair.command
        can_complete = (
            command.legging == "complete"
            and pair.state in (WORKING, COMPLETING)
            and pair.attempts < command.max_attempts
            and now < pair.deadline_ns
        )
        if can_complete and self._complete(pair, fills):
            return
        self._unwind(pair)

    def _complete(self, pair: PairOrder, fills: tuple[int, int]) -> bool:
        """Send the lagging leg's missing quantity; False when it could not be sent."""
        q = (pair.legs[0].quantity.raw, pair.legs[1].quantity.raw)
        lagging = 0 if fills[0] * q[1] < fills[1] * q[0] else 1
        leading = 1 - lagging
        target = Fraction(fills[leading], q[leading]) * q[lagging]
        leg = pair.legs[lagging]
        step = 10 ** (9 - leg.quantity.precision)
        missing = int(-(-(target - fills[lagging]) // step)) * step
        if missing <= 0:
            return False
        pair.attempts += 1
        self._announce(pair, COMPLETING, f"completing leg {lagging + 1} (attempt {pair.attempts})")
        return self._send_child(pair, leg, leg.side, missing, "c", reduce_only=False)

    def _unwind(self, pair: PairOrder) -> None:
        if pair.unwinds >= pair.command.max_attempts:
            self._announce(pair, FAILED, f"residual left after {pair.unwinds} unwind attempts")
            return
        pair.unwinds += 1
        sent = False
        for index, residual in enumerate(pair.residual):
            if residual == 0:
                continue
            leg = pair.legs[index]
            side = leg.side.opposite() if residual > 0 else leg.side
            sent |= self._send_child(pair, leg, side, abs(residual), "u", reduce_only=True)
        if sent:
            self._announce(pair, UNWINDING, "unwinding the residual")
        else:
            self._announce(pair, FAILED, "residual left: the unwind order was not accepted")

    def _send_child(
        self,
        pair: PairOrder,
        leg: SubmitOrder,
        side: OrderSide,
        raw: int,
        tag: str,
        *,
        reduce_only: bool,
    ) -> bool:
        client_order_id = f"{pair.pair_id}-{tag}{len(pair.children) - 1}"
        command = SubmitOrder(
            strategy_id=leg.strategy_id,
            instrument_id=leg.instrument_id,
            client_order_id=client_order_id,
            side=side,
            order_type=OrderType.MARKET,
            quantity=Quantity(raw=raw, precision=leg.quantity.precision),
            time_in_force=TimeInForce.IOC,
            reduce_only=reduce_only,
            pair_id=pair.pair_id,
            ts_init=self._clock.timestamp_ns(),
        )
        pair.children.append(client_order_id)
        self._by_order[client_order_id] = pair
        self._route(command)
        return self._order(pair, client_order_id) is not None

    # ------------------------------------------------------------------ arithmetic

    def _order(self, pair: PairOrder, client_order_id: str) -> Order | None:
        order = pair.orders.get(client_order_id)
        if order is None:
            order = self._lookup(client_order_id)
            if order is not None:
                pair.orders[client_order_id] = order
        return order

    def _orders(self, pair: PairOrder) -> list[Order]:
        return [o for cid in pair.children if (o := self._order(pair, cid)) is not None]

    def _working(self, pair: PairOrder) -> list[Order]:
        return [order for order in self._orders(pair) if order.is_open]

    def _has_failed_leg(self, pair: PairOrder) -> bool:
        for leg in pair.legs:
            order = self._order(pair, leg.client_order_id)
            if order is None or (
                order.is_terminal
                and order.leaves_qty.raw == 0
                and (order.filled_qty.raw < order.quantity.raw)
            ):
                return True
        return False

    def _net_fills(self, pair: PairOrder) -> tuple[int, int]:
        """Signed net fill of each leg, in the leg's own direction (raw)."""
        net = [0, 0]
        for order in self._orders(pair):
            for index, leg in enumerate(pair.legs):
                if order.instrument_id == leg.instrument_id:
                    net[index] += _sign(order.side) * _sign(leg.side) * order.filled_qty.raw
                    break
        return net[0], net[1]

    @staticmethod
    def _residuals(pair: PairOrder, fills: tuple[int, int]) -> tuple[int, int]:
        q1 = pair.legs[0].quantity.raw
        q2 = pair.legs[1].quantity.raw
        matched = max(Fraction(0), min(Fraction(fills[0], q1), Fraction(fills[1], q2)))
        return (
            int(fills[0] - matched * q1) * _sign(pair.legs[0].side),
            int(fills[1] - matched * q2) * _sign(pair.legs[1].side),
        )

    # ------------------------------------------------------------------ events

    def _cancel_order(self, order: Order) -> None:
        if order.status.is_open and order.status is not OrderStatus.PENDING_CANCEL:
            self._cancel(
                CancelOrder(
                    strategy_id=order.strategy_id,
                    instrument_id=order.instrument_id,
                    client_order_id=order.client_order_id,
                    ts_init=self._clock.timestamp_ns(),
                )
            )

    def _announce(self, pair: PairOrder, state: str, reason: str) -> None:
        previous = pair.state
        if previous == state:
            return
        pair.state = state
        if pair.is_final:
            self._finalize(pair)
        now = self._clock.timestamp_ns()
        command = pair.command
        self._publish(
            PairStateChanged(
                pair_id=pair.pair_id,
                strategy_id=command.strategy_id,
                state=state,
                previous=previous,
                reason=reason,
                first_instrument_id=command.first.instrument_id,
                second_instrument_id=command.second.instrument_id,
                residual_first_raw=pair.residual[0],
                residual_second_raw=pair.residual[1],
                ts_event=now,
                ts_init=now,
            )
        )
        if state == FAILED and pair.residual != (0, 0):
            self._alert("PAIR_RESIDUAL", f"pair {pair.pair_id}: {reason}; residual {pair.residual}")

    def _finalize(self, pair: PairOrder) -> None:
        """A pair reached a final state: off the timer's list; the oldest final pairs
        beyond ``retain_final`` are forgotten."""
        if self._active.pop(pair.pair_id, None) is None:
            return
        final = self._final
        final.append(pair.pair_id)
        while len(final) > self._retain:
            old = self._pairs.pop(final.popleft(), None)
            if old is not None:
                for cid in old.children:
                    self._by_order.pop(cid, None)

    def _alert(self, code: str, message: str) -> None:
        now = self._clock.timestamp_ns()
        self._publish(
            TradingAlert(
                source="oms",
                code=code,
                message=message,
                severity="critical",
                ts_event=now,
                ts_init=now,
            )
        )
