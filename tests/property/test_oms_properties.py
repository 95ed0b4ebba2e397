"""The OMS under random command and report sequences: no crash, no illegal state,
positions equal the sum of the (unique) fills, and the published events replay to the
same orders."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType, ReportKind
from spreadwire.domain.events import OrderEvent, OrderFill, OrderInitialized
from spreadwire.domain.order import TRANSITIONS, Order
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.oms.manager import OrderManager
from tests.builders import make_instrument

K = ReportKind
Step = tuple[str, int, int]
OPS = (
    "submit",
    "submit",
    "accept",
    "accept",
    "fill",
    "fill",
    "fill",
    "duplicate",
    "cancel",
    "canceled",
    "cancel_reject",
    "modify",
    "modified",
    "modify_reject",
    "reject",
    "expire",
)
steps = st.lists(
    st.tuples(
        st.sampled_from(OPS),
        st.integers(min_value=0, max_value=20),
        st.integers(min_value=1, max_value=6),
    ),
    min_size=8,
    max_size=80,
)


class Venue:
    """A careless venue: answers in any order, repeats fills, fills closed orders."""

    def __init__(self) -> None:
        self.clock = SimClock(1_000)
        instrument = make_instrument()
        self.published: list[object] = []
        self.oms = OrderManager(
            self.clock,
            {instrument.instrument_id: instrument},
            send=lambda command: None,
            publish=self.published.append,
        )
        self.ids: list[str] = []
        self.cum: dict[str, int] = defaultdict(int)
        self.quantity: dict[str, int] = {}
        self.fills: list[ExecutionReport] = []
        self.trades = 0

    def step(self, op: str, index: int, size: int) -> None:
        self.clock.advance(1)
        if op == "submit":
            self._submit(index, size)
        elif self.ids:
            cid = self.ids[index % len(self.ids)]
            self._act(op, cid, index, size)

    def _submit(self, index: int, size: int) -> None:
        cid = f"O-{len(self.ids)}"
        self.ids.append(cid)
        self.quantity[cid] = size * 10**9
        self.oms.submit(
            SubmitOrder(
                strategy_id="S1",
                instrument_id="AAA.SIM",
                client_order_id=cid,
                side=OrderSide.BUY if index % 2 else OrderSide.SELL,
                order_type=OrderType.LIMIT,
                quantity=Quantity(raw=size * 10**9, precision=0),
                price=Price.parse("100.00"),
                ts_init=self.clock.timestamp_ns(),
            )
        )

    def _act(self, op: str, cid: str, index: int, size: int) -> None:
        ts = self.clock.timestamp_ns()
        if op == "cancel":
            self.oms.cancel(
                CancelOrder(
                    strategy_id="S1", instrument_id="AAA.SIM", client_order_id=cid, ts_init=ts
                )
            )
        elif op == "modify":
            self.oms.modify(
                ModifyOrder(
                    strategy_id="S1",
                    instrument_id="AAA.SIM",
                    client_order_id=cid,
                    quantity=Quantity(raw=size * 10**9, precision=0),
                    ts_init=ts,
                )
            )
        elif op == "fill":
            self._fill(cid, size)
        elif op == "duplicate" and self.fills:
            self.oms.on_report(self.fills[index % len(self.fills)])
        elif op in _REPORTS:
            self.oms.on_report(self._report(_REPORTS[op], cid, size))

    def _fill(self, cid: str, size: int) -> None:
        self.trades += 1
        self.cum[cid] += size * 10**9
        report = self._report(K.FILL, cid, size)
        report = ExecutionReport(
            **{
                **{f: getattr(report, f) for f in report.__struct_fields__},
                "last_qty": Quantity(raw=size * 10**9, precision=0),
                "last_px": Price.parse("100.00"),
                "trade_id": f"T-{self.trades}",
                "liquidity_side": LiquiditySide.MAKER,
            }
        )
        self.fills.append(report)
        self.oms.on_report(report)

    def _report(self, kind: ReportKind, cid: str, size: int) -> ExecutionReport:
        if kind is K.MODIFIED:
            self.quantity[cid] = max(self.cum[cid], size * 10**9)
        cum = self.cum[cid]
        quantity = self.quantity[cid]
        order = self.oms.order(cid)
        assert order is not None
        return ExecutionReport(
            kind=kind,
            instrument_id="AAA.SIM",
            client_order_id=cid,
            venue_order_id=f"V-{cid}",
            side=order.side,
            cum_qty=Quantity(raw=cum, precision=0),
            leaves_qty=Quantity(raw=max(0, quantity - cum), precision=0),
            quantity=Quantity(raw=quantity, precision=0),
            reason="TEST",
            ts_event=self.clock.timestamp_ns(),
        )


_REPORTS = {
    "accept": K.ACCEPTED,
    "canceled": K.CANCELED,
    "cancel_reject": K.CANCEL_REJECTED,
    "modified": K.MODIFIED,
    "modify_reject": K.MODIFY_REJECTED,
    "reject": K.REJECTED,
    "expire": K.EXPIRED,
}


def _run(sequence: list[Step]) -> Venue:
    venue = Venue()
    for op, index, size in sequence:
        venue.step(op, index, size)
    return venue


def _unique_fills(venue: Venue) -> dict[str, int]:
    per_order: dict[str, int] = defaultdict(int)
    for report in {r.trade_id: r for r in venue.fills}.values():
        assert report.last_qty is not None
        per_order[report.client_order_id] += report.last_qty.raw
    return per_order


@settings(max_examples=200)
@given(steps)
def test_oms_position_equals_the_sum_of_unique_fills(sequence: list[Step]) -> None:
    venue = _run(sequence)

    expected = 0
    for cid, quantity in _unique_fills(venue).items():
        order = venue.oms.order(cid)
        assert order is not None
        assert order.filled_qty.raw == quantity
        expected += quantity if order.side is OrderSide.BUY else -quantity
    position = venue.oms.position("S1", "AAA.SIM")
    assert (position.quantity_raw if position is not None else 0) == expected


@settings(max_examples=200)
@given(steps)
def test_oms_orders_only_move_through_the_transition_table(sequence: list[Step]) -> None:
    venue = _run(sequence)

    for order in venue.oms.orders():
        replay = Order(order.events[0])  # type: ignore[arg-type]
        for event in order.events[1:]:
            assert (replay.status, type(event)) in TRANSITIONS
            replay.apply(event)
        assert replay.status is order.status
        assert order.leaves_qty.raw >= 0
        assert order.is_open == (order in venue.oms.open_orders())


@settings(max_examples=200)
@given(steps)
def test_oms_published_events_replay_to_the_live_orders(sequence: list[Step]) -> None:
    venue = _run(sequence)

    rebuilt: dict[str, Order] = {}
    for event in venue.published:
        if isinstance(event, OrderInitialized):
            rebuilt[event.client_order_id] = Order(event)
        elif isinstance(event, OrderEvent):
            rebuilt[event.client_order_id].apply(event)
    fills = [e for e in venue.published if isinstance(e, OrderFill)]

    assert len({f.trade_id for f in fills}) == len(fills)
    for order in venue.oms.orders():
        twin = rebuilt[order.client_order_id]
        assert (twin.status, twin.filled_qty, twin.quantity) == (
            order.status,
            order.filled_qty,
            order.quantity,
        )
