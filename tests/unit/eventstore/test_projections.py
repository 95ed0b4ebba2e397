from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.domain.enums import LiquiditySide, OrderSide
from spreadwire.domain.events import (
    OrderAccepted,
    OrderCancelRejected,
    OrderDenied,
    OrderFilled,
    OrderModifyRejected,
    OrderPartiallyFilled,
    OrderRejected,
    OrderUpdated,
)
from spreadwire.domain.order import TRANSITIONS
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import ConfigError
from spreadwire.eventstore.compare import compare_read_models
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner, ReadModelStore, ReadModelView
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.records import Entry
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore
from tests.unit.eventstore.builders import filled, initialized, order_flow, record_order_flow


@pytest.fixture
def recorder() -> MemoryRecorder:
    recorder = record_order_flow(MemoryRecorder())
    return recorder


@pytest.fixture
def store() -> Iterator[ReadModelStore]:
    store = SQLiteReadModelStore(":memory:")
    yield store
    store.close()


def test_projections_order_flow_builds_orders_fills_positions_pnl_risk_audit(
    recorder: MemoryRecorder, store: ReadModelStore
) -> None:
    position = ProjectionRunner(recorder, store, standard_projections()).catch_up()

    assert position == 11
    orders = store.rows("orders")
    assert orders["O-1"]["status"] == "FILLED"
    assert orders["O-1"]["filled_qty"] == "10"
    assert orders["O-1"]["avg_px"] == "100"
    assert orders["O-2"]["status"] == "CANCELED"
    assert sorted(store.rows("fills")) == ["O-1:T-1", "O-1:T-2", "O-2:T-3"]
    held = store.rows("positions")["pairs-1:AAA.SIM"]
    assert (held["side"], held["quantity"], held["realized_pnl"]) == ("LONG", "6", "6.00")
    assert store.rows("pnl")["*"]["realized_pnl"] == "6.00"
    assert store.rows("risk")["trading:all"]["state"] == "HALTED"
    assert [doc["type"] for doc in store.rows("audit").values()] == ["TradingStateChanged"]
    assert store.tracking() == {
        name: 11 for name in ("orders", "fills", "positions", "risk", "audit")
    }


def test_projections_second_catch_up_applies_nothing_twice(
    recorder: MemoryRecorder, store: ReadModelStore
) -> None:
    runner = ProjectionRunner(recorder, store, standard_projections(), batch=3)
    runner.catch_up()
    before = {table: store.rows(table) for table in ("positions", "pnl", "fills")}

    store.apply(standard_projections(), list(recorder.read()))
    runner.catch_up()

    assert {table: store.rows(table) for table in before} == before


def test_projections_repeated_trade_id_moves_the_position_once(store: ReadModelStore) -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        writer.append(filled("O-9", "T-9", "5", "10", cum="5", leaves="5"))
        writer.append(filled("O-9", "T-9", "5", "10", cum="5", leaves="5"))

    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    assert store.rows("positions")["pairs-1:AAA.SIM"]["quantity"] == "5"
    assert len(store.rows("fills")) == 1


class Exploding:
    """A projection that fails at one position (a crash in the middle of a batch)."""

    name = "exploding"
    tables = ("exploding",)

    def __init__(self, at: int) -> None:
        self.at = at

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        if entry.position == self.at:
            raise RuntimeError("crash")
        view.put("exploding", str(entry.position), {"seen": True})


def test_projections_failed_batch_rolls_back_documents_and_tracking(
    recorder: MemoryRecorder, store: ReadModelStore
) -> None:
    projections = (*standard_projections(), Exploding(at=7))
    runner = ProjectionRunner(recorder, store, projections, batch=5)

    with pytest.raises(RuntimeError, match="crash"):
        runner.catch_up()

    assert store.tracking()["orders"] == 5
    assert sorted(store.rows("exploding")) == ["1", "2", "3", "4", "5"]
    assert store.rows("fills").keys() == {"O-1:T-1", "O-1:T-2"}


def test_projections_rebuild_equals_incremental_build(
    recorder: MemoryRecorder, store: ReadModelStore
) -> None:
    runner = ProjectionRunner(recorder, store, standard_projections(), batch=2)
    runner.catch_up()
    incremental = {t: store.rows(t) for p in standard_projections() for t in p.tables}

    runner.rebuild()

    assert {t: store.rows(t) for t in incremental} == incremental


def test_projections_duplicate_names_are_refused(
    recorder: MemoryRecorder, store: ReadModelStore
) -> None:
    projections = standard_projections()
    with pytest.raises(ConfigError, match="duplicate"):
        ProjectionRunner(recorder, store, (*projections, projections[0]))


class _ResetOnRead:
    """A recorder whose next ``read`` runs ``action`` once the entries are read (another
    process resetting the read models while this runner holds a batch)."""

    def __init__(self, inner: MemoryRecorder, action: Callable[[], None]) -> None:
        self._inner = inner
        self._action: Callable[[], None] | None = action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        entries = list(self._inner.read(after, limit))
        if self._action is not None:
            action, self._action = self._action, None
            action()
        return iter(entries)


def test_projections_rebuild_while_the_node_catches_up_applies_every_entry(
    tmp_path: Path,
) -> None:
    """`projections rebuild` resets the read models while the node's runner holds entries
    read after its old position: neither may skip the entries before them."""
    flow = order_flow()
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        for message in flow[:8]:
            writer.append(message)
    node_store = SQLiteReadModelStore(tmp_path / "rm.db")
    cli_store = SQLiteReadModelStore(tmp_path / "rm.db")
    ProjectionRunner(recorder, node_store, standard_projections()).catch_up()
    with EventWriter(recorder) as writer:
        for message in flow[8:]:
            writer.append(message)
    cli = ProjectionRunner(recorder, cli_store, standard_projections())

    hooked = _ResetOnRead(recorder, lambda: cli_store.reset(standard_projections()))
    ProjectionRunner(hooked, node_store, standard_projections()).catch_up()
    cli.catch_up()  # the rest of the rebuild

    scratch = SQLiteReadModelStore(":memory:")
    assert compare_read_models(recorder, cli_store, scratch, standard_projections()) == []
    assert sorted(cli_store.rows("fills")) == ["O-1:T-1", "O-1:T-2", "O-2:T-3"]
    for store in (node_store, cli_store, scratch):
        store.close()


def _stop_limit() -> list[object]:
    from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
    from spreadwire.domain.events import (
        OrderInitialized,
        OrderPendingUpdate,
        OrderSubmitted,
        OrderUpdated,
    )
    from spreadwire.domain.values import Price, Quantity

    ids: dict[str, Any] = {
        "strategy_id": "manual",
        "instrument_id": "AAA.SIM",
        "client_order_id": "S-1",
    }
    return [
        OrderInitialized(
            **ids,
            side=OrderSide.BUY,
            order_type=OrderType.STOP_LIMIT,
            quantity=Quantity.parse("2"),
            price=Price.parse("103.00"),
            trigger_price=Price.parse("102.50"),
            time_in_force=TimeInForce.DAY,
            ts_event=1,
            ts_init=1,
        ),
        OrderSubmitted(**ids, ts_event=2, ts_init=2),
        OrderPendingUpdate(**ids, ts_event=3, ts_init=3),
        # a held stop's trigger-only modify names neither price nor a new quantity
        OrderUpdated(
            **ids,
            quantity=Quantity.parse("2"),
            trigger_price=Price.parse("102.40"),
            ts_event=3,
            ts_init=3,
        ),
    ]


def test_projections_order_document_agrees_with_the_order_after_a_trigger_only_modify(
    store: ReadModelStore,
) -> None:
    from spreadwire.domain.order import Order

    flow = _stop_limit()
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        for message in flow:
            writer.append(message)
    order = Order(flow[0])  # type: ignore[arg-type]
    for event in flow[1:]:
        order.apply(event)  # type: ignore[arg-type]

    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    doc = store.rows("orders")["S-1"]
    assert (doc["status"], doc["price"], doc["trigger_price"], doc["time_in_force"]) == (
        str(order.status),
        str(order.price),
        str(order.trigger_price),
        str(order.time_in_force),
    )


def test_projections_a_modify_the_risk_gate_denied_does_not_move_the_order(
    store: ReadModelStore,
) -> None:
    from spreadwire.domain.events import OrderModifyRejected
    from spreadwire.domain.reasons import DenyReason

    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        for message in _stop_limit()[:3]:  # a modify in flight: PENDING_UPDATE
            writer.append(message)
        writer.append(
            OrderModifyRejected(
                strategy_id="manual",
                instrument_id="AAA.SIM",
                client_order_id="S-1",
                reason=DenyReason.QUANTITY_ABOVE_MAX.value,
                ts_event=4,
                ts_init=4,
            )
        )

    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    doc = store.rows("orders")["S-1"]
    assert (doc["status"], doc["reason"], doc["ts_last"]) == ("PENDING_UPDATE", None, 3)


def test_projections_a_modify_the_venue_does_not_know_returns_the_order_to_working(
    store: ReadModelStore,
) -> None:
    """UNKNOWN_ORDER is a venue's answer too: for an order whose modify is in flight it
    ends the modify, as the OMS applied it; the order document follows the order."""
    from spreadwire.domain.enums import OrderStatus
    from spreadwire.domain.events import OrderModifyRejected
    from spreadwire.domain.order import Order

    flow = [
        *_stop_limit()[:3],  # a modify in flight: PENDING_UPDATE
        OrderModifyRejected(
            strategy_id="manual",
            instrument_id="AAA.SIM",
            client_order_id="S-1",
            reason="UNKNOWN_ORDER",
            ts_event=4,
            ts_init=4,
        ),
    ]
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        for message in flow:
            writer.append(message)
    order = Order(flow[0])  # type: ignore[arg-type]
    for event in flow[1:]:
        order.apply(event)  # type: ignore[arg-type]

    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    doc = store.rows("orders")["S-1"]
    assert (doc["status"], doc["reason"], doc["ts_last"]) == (
        str(order.status),
        "UNKNOWN_ORDER",
        4,
    )
    assert order.status is not OrderStatus.PENDING_UPDATE


def test_projections_releasing_a_global_kill_switch_keeps_a_breaker_trip(
    store: ReadModelStore,
) -> None:
    from spreadwire.domain.enums import TradingState
    from spreadwire.domain.events import TradingStateChanged

    def changed(state: TradingState, previous: TradingState, reason: str) -> TradingStateChanged:
        return TradingStateChanged(
            state=state, previous=previous, reason=reason, ts_event=1, ts_init=1
        )

    active, reducing, halted = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        writer.append(changed(halted, active, "MANUAL by ops: maintenance"))
        writer.append(changed(reducing, active, "KILL_SWITCH by ops: drill"))
        writer.append(changed(active, reducing, "KILL_SWITCH_RELEASED by ops: done"))
    runner = ProjectionRunner(recorder, store, standard_projections())
    runner.catch_up()
    after_release = store.rows("risk")["trading:all"]["state"]
    with EventWriter(recorder) as writer:
        writer.append(changed(reducing, active, "KILL_SWITCH by ops: drill"))
        writer.append(changed(active, halted, "RESET by ops: done"))  # the breaker's reset
    runner.catch_up()

    assert after_release == "HALTED"
    assert store.rows("risk")["trading:all"]["state"] == "REDUCING"  # the switch still holds


def test_projections_a_fill_coarser_than_an_earlier_one_keeps_the_finer_precision(
    store: ReadModelStore,
) -> None:
    """A venue reported 1.5 and then 2 (written without decimals): the order and the
    position hold 3.5 and on, not a quantity at the last fill's precision (which cannot
    hold it, and failed every catch-up from there on)."""
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        writer.append(initialized("O-1"))
        writer.append(filled("O-1", "T-1", "1.5", "100.00", cum="1.5", leaves="8.5"))
        writer.append(filled("O-1", "T-2", "2", "100.00", cum="3.5", leaves="6.5"))
        writer.append(filled("O-1", "T-3", "1", "100.00", side=OrderSide.SELL))

    position = ProjectionRunner(recorder, store, standard_projections()).catch_up()

    assert position == 4
    assert store.rows("orders")["O-1"]["filled_qty"] == "4.5"
    held = store.rows("positions")["pairs-1:AAA.SIM"]
    assert (held["side"], held["quantity"]) == ("LONG", "2.5")


def test_projections_a_stop_triggered_while_a_modify_is_pending_returns_to_triggered(
    store: ReadModelStore,
) -> None:
    """The stop triggers at the venue before it answers a modify: once the modify is
    rejected the order is TRIGGERED again (as the domain order), not back to SUBMITTED."""
    from spreadwire.domain.events import OrderTriggered
    from spreadwire.domain.order import Order

    ids: dict[str, Any] = {
        "strategy_id": "manual",
        "instrument_id": "AAA.SIM",
        "client_order_id": "S-1",
    }
    flow = [
        *_stop_limit()[:3],  # submitted, then a modify in flight: PENDING_UPDATE
        OrderTriggered(**ids, ts_event=4, ts_init=4),
        OrderModifyRejected(**ids, reason="VENUE", ts_event=5, ts_init=5),
    ]
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        for message in flow:
            writer.append(message)
    order = Order(flow[0])  # type: ignore[arg-type]
    for event in flow[1:]:
        order.apply(event)  # type: ignore[arg-type]

    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    doc = store.rows("orders")["S-1"]
    assert (doc["status"], doc["anomalies"]) == (str(order.status), 0) == ("TRIGGERED", 0)


_MOVES: tuple[type[Any], ...] = tuple(sorted({t for _, t in TRANSITIONS}, key=lambda t: t.__name__))


def _order_event(kind: type[Any], n: int, filled_raw: int) -> Any:
    ids: dict[str, Any] = {
        "strategy_id": "manual",
        "instrument_id": "AAA.SIM",
        "client_order_id": "S-1",
        "ts_event": n,
        "ts_init": n,
    }
    if kind is OrderAccepted:
        return kind(**ids, venue_order_id="V-1")
    if kind in (OrderDenied, OrderRejected, OrderModifyRejected, OrderCancelRejected):
        return kind(**ids, reason="VENUE")
    if kind is OrderUpdated:
        return kind(**ids, quantity=Quantity.parse("20"), price=Price.parse(f"{100 + n}.00"))
    if kind in (OrderPartiallyFilled, OrderFilled):
        return kind(
            **ids,
            venue_order_id="V-1",
            trade_id=f"T-{n}",
            side=OrderSide.BUY,
            last_qty=Quantity.parse("1"),
            last_px=Price.parse("103.00"),
            cum_qty=Quantity(raw=filled_raw + 10**9, precision=0),
            leaves_qty=Quantity.parse("1"),
            liquidity_side=LiquiditySide.TAKER,
        )
    return kind(**ids)


@settings(max_examples=200)
@given(data=st.data())
def test_projections_order_status_agrees_with_the_order_after_every_event(
    data: st.DataObject,
) -> None:
    """Random legal event sequences of a stop order (modifies and cancels overtaken by a
    trigger or a fill): after each event the document says what the domain order says."""
    from spreadwire.domain.order import Order

    opened = _stop_limit()[0]
    order = Order(opened)  # type: ignore[arg-type]
    recorder = MemoryRecorder()
    store = SQLiteReadModelStore(":memory:")
    runner = ProjectionRunner(recorder, store, standard_projections())
    with EventWriter(recorder) as writer:
        writer.append(opened)
    for n in range(1, data.draw(st.integers(1, 10), label="events")):
        legal = [kind for kind in _MOVES if order.can_apply(_order_event(kind, n, 0))]
        if not legal:
            break
        event = _order_event(data.draw(st.sampled_from(legal)), n, order.filled_qty.raw)
        order.apply(event)
        with EventWriter(recorder) as writer:
            writer.append(event)
        runner.catch_up()

        doc = store.rows("orders")["S-1"]
        assert (doc["status"], doc["anomalies"], doc["filled_qty_raw"], doc["price"]) == (
            str(order.status),
            0,
            order.filled_qty.raw,
            str(order.price),
        )
    store.close()
