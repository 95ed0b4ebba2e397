"""Restart from the event log: a fresh OMS and risk engine restored from the stored
messages equal the live ones, publish and send nothing, and the venue's status settles
every order that was open."""

from __future__ import annotations

import pytest

from spreadwire.domain.commands import (
    EngageKillSwitch,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
    SubmitPairOrder,
)
from spreadwire.domain.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    ReportKind,
    TimeInForce,
    TradingState,
)
from spreadwire.domain.events import (
    OrderCanceled,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    TradingAlert,
    TradingStateChanged,
)
from spreadwire.domain.market import DataGap
from spreadwire.domain.order import IllegalTransition
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import InvariantError
from spreadwire.oms.config import OmsConfig
from spreadwire.oms.manager import UNKNOWN_AT_VENUE
from spreadwire.oms.pairs import COMPLETE, COMPLETING
from spreadwire.risk.config import RiskConfig
from tests.unit.oms.wired import SECOND, UNIT, Wired, snapshot

S = OrderStatus
K = ReportKind
BUY = OrderSide.BUY
SELL = OrderSide.SELL


def _session() -> Wired:
    """A session that leaves orders in every kind of state, a position on each side, a
    denial, a held stop, kill switches engaged and released, and a breaker trip."""
    n = Wired()
    n.quote("AAA.SIM", "100.00", "100.02")
    n.quote("BBB.SIM", "50.00", "50.02")
    n.submit("A1", BUY, "10", "100.00")
    n.answer("A1", K.ACCEPTED)
    n.fill("A1", 4, "100.00")
    n.submit("A2", SELL, "5", "100.02")
    n.answer("A2", K.ACCEPTED)
    n.fill("A2", 5, "100.02")
    n.submit("A3", BUY, "3", "99.90")
    n.answer("A3", K.ACCEPTED)
    n.cancel("A3")
    n.answer("A3", K.CANCELED)
    n.submit("A4", BUY, "2", "99.80")
    n.answer("A4", K.ACCEPTED)
    n.modify("A4", quantity="6")
    n.answer("A4", K.MODIFIED, quantity=6)
    n.submit("A5", BUY, "2", "99.70")
    n.answer("A5", K.ACCEPTED)
    n.modify("A5", quantity="4")  # the venue never answers
    n.submit("A6", BUY, "2", "99.60")
    n.answer("A6", K.ACCEPTED)
    n.cancel("A6")  # the venue never answers
    n.submit("A7", BUY, "1", "99.50")  # never acknowledged
    n.submit("B1", SELL, "1000000", "50.02", instrument_id="BBB.SIM")  # denied
    n.submit(
        "ST", SELL, "3", None, order_type=OrderType.STOP_MARKET, trigger_price="95.00"
    )  # held here until the bid reaches 95
    n.submit(
        "G1",
        BUY,
        "1",
        "99.40",
        time_in_force=TimeInForce.GTD,
        expire_time_ns=n.clock.timestamp_ns() + 60 * SECOND,
    )
    n.answer("G1", K.ACCEPTED)
    n.submit("C1", BUY, "1", "50.00", strategy_id="S2", instrument_id="BBB.SIM")
    n.answer("C1", K.ACCEPTED)
    n.fill("C1", 1, "50.00")
    n.submit("C2", BUY, "2", "49.90", strategy_id="S2", instrument_id="BBB.SIM")
    n.answer("C2", K.ACCEPTED)
    now = n.clock.timestamp_ns()
    n.command(EngageKillSwitch(scope="strategy", target="S2", operator="ops", ts_init=now))
    n.answer("C2", K.CANCELED)
    n.command(EngageKillSwitch(scope="instrument", target="BBB.SIM", operator="ops", ts_init=now))
    n.command(ReleaseKillSwitch(scope="instrument", target="BBB.SIM", operator="ops", ts_init=now))
    n.clock.advance(SECOND)
    n.risk.on_event(
        DataGap(
            instrument_id="AAA.SIM",
            reason="stale",
            expected_sequence=0,
            received_sequence=0,
            ts_event=n.clock.timestamp_ns(),
            ts_init=n.clock.timestamp_ns(),
        )
    )
    return n


def test_restore_of_a_session_log_equals_the_live_engines() -> None:
    live = _session()
    fresh = Wired()

    fresh.restore(live.log)

    assert snapshot(fresh) == snapshot(live)
    assert fresh.risk.trading_state == "REDUCING"
    assert fresh.risk.kill_switch.strategies == {"S2"}
    assert fresh.oms.in_flight() == ["A5", "A6", "A7"]


def test_restore_publishes_sends_and_alerts_nothing() -> None:
    live = _session()
    fresh = Wired()

    fresh.restore(live.log)

    assert fresh.log == []
    assert fresh.sent == []
    assert fresh.oms.alerts == 0


def test_restore_risk_pnl_and_exposure_equal_live_at_the_same_marks() -> None:
    live = _session()
    fresh = Wired()
    fresh.restore(live.log)

    for node in (live, fresh):
        node.quote("AAA.SIM", "100.10", "100.12")
        node.quote("BBB.SIM", "50.10", "50.12")

    restored = fresh.risk.stats()
    expected = live.risk.stats()
    assert (restored.pnl, restored.gross_exposure, restored.net_exposure) == (
        expected.pnl,
        expected.gross_exposure,
        expected.net_exposure,
    )
    assert restored.open_orders == expected.open_orders
    assert fresh.oms.total_pnl() == live.oms.total_pnl()


def test_restore_then_reconcile_applies_the_venue_status_of_open_orders() -> None:
    live = _session()
    fresh = Wired()
    fresh.restore(live.log)
    fresh.venue_status("A1", "PARTIALLY_FILLED", cum=4, leaves=6)
    fresh.venue_status("A5", "ACCEPTED", cum=0, leaves=4)  # the modify went through
    fresh.venue_status("A6", "CANCELED", cum=0, leaves=0)  # so did the cancel
    fresh.venue_status("A7", "ACCEPTED", cum=0, leaves=1)  # the ack was lost
    fresh.venue_status("A4", "FILLED", cum=6, leaves=0)  # fills we never saw
    fresh.venue_status("G1", "EXPIRED", cum=0, leaves=0)

    queried = fresh.oms.reconcile_all()

    assert queried == 6  # every open order except the held stop
    assert fresh.order("A1").status is S.PARTIALLY_FILLED
    assert fresh.order("A5").status is S.ACCEPTED
    assert fresh.order("A5").quantity.raw == 4 * UNIT
    assert fresh.order("A6").status is S.CANCELED
    assert fresh.order("A7").status is S.ACCEPTED
    assert fresh.order("A4").status is S.ACCEPTED  # a fill is never invented
    assert fresh.order("G1").status is S.EXPIRED
    assert fresh.oms.in_flight() == []
    assert "RECONCILE_MISSING_FILLS" in [a.code for a in fresh.log if isinstance(a, TradingAlert)]
    assert "A6" not in fresh.risk.open_orders()


def test_restore_then_reconcile_order_unknown_at_venue_goes_the_unknown_outcome_path() -> None:
    live = _session()
    fresh = Wired(oms_config=OmsConfig(ack_timeout_ns=SECOND, unknown_confirmations=2))
    fresh.restore(live.log)
    fresh.clock.set_time(live.clock.timestamp_ns())

    fresh.oms.reconcile_all()  # the venue knows none of them
    fresh.oms.on_timer()
    fresh.clock.advance(SECOND)
    fresh.oms.on_timer()

    assert fresh.order("A7").status is S.REJECTED
    assert fresh.order("A7").events[-1].reason == UNKNOWN_AT_VENUE  # type: ignore[attr-defined]
    assert fresh.order("A1").status is S.PARTIALLY_FILLED  # acknowledged once: never invented
    codes = [a.code for a in fresh.log if isinstance(a, TradingAlert)]
    assert "UNKNOWN_OUTCOME" in codes
    assert "RECONCILE_UNKNOWN" in codes


def test_restore_held_stop_triggers_after_the_restart() -> None:
    live = _session()
    fresh = Wired()
    fresh.restore(live.log)

    fresh.quote("AAA.SIM", "94.90", "95.00")

    assert fresh.order("ST").status is S.TRIGGERED
    assert [c.client_order_id for c in fresh.sent] == ["ST"]
    assert "ST" in fresh.oms.in_flight()


def test_restore_automatic_trip_keeps_its_reset_cooldown() -> None:
    live = _session()
    fresh = Wired(risk_config=RiskConfig())
    fresh.restore(live.log)
    fresh.clock.set_time(live.clock.timestamp_ns() + SECOND)

    refused = fresh.risk.execute(ResetTradingState(operator="ops", ts_init=0))

    assert refused is False
    assert fresh.risk.trading_state == "REDUCING"
    assert [a.code for a in fresh.log if isinstance(a, TradingAlert)] == ["RESET_REFUSED"]


def test_restore_reset_returns_to_active_and_clears_the_trips() -> None:
    live = _session()
    live.clock.advance(31 * SECOND)
    live.command(ResetTradingState(operator="ops", reason="checked", ts_init=0))
    fresh = Wired()

    fresh.restore(live.log)

    assert fresh.risk.trading_state == "ACTIVE"
    assert snapshot(fresh) == snapshot(live)


def test_restore_kill_switch_blocks_new_risk_increasing_orders_at_once() -> None:
    live = _session()
    fresh = Wired()
    fresh.restore(live.log)
    fresh.clock.set_time(live.clock.timestamp_ns())
    fresh.quote("BBB.SIM", "50.00", "50.02")

    approved = fresh.submit("C9", BUY, "1", "50.00", strategy_id="S2", instrument_id="BBB.SIM")

    assert approved is False
    assert fresh.log[-1].reason == "KILL_SWITCH"  # type: ignore[attr-defined]


def test_restore_denied_modify_keeps_the_order_reservation() -> None:
    live = Wired()
    live.quote()
    live.submit("M1", BUY, "10", "100.00")
    live.answer("M1", K.ACCEPTED)
    live.modify("M1", quantity="1000000")  # above the maximum quantity: denied
    live.modify("M1", quantity="12")  # approved, pending at the venue
    live.modify("M1", quantity="2000000")  # denied again while the first is pending
    fresh = Wired()

    fresh.restore(live.log)
    for node in (live, fresh):
        node.answer("M1", K.MODIFY_REJECTED, reason="TOO_LATE")

    assert fresh.risk.stats().open_orders == live.risk.stats().open_orders == 1
    assert snapshot(fresh) == snapshot(live)
    assert fresh.risk.position_raw("S1", "AAA.SIM") == 0


def test_restore_modify_the_venue_does_not_know_returns_the_order_to_working() -> None:
    """The venue answers a modify of an order it does not know (it lost its orders, as
    a restarted simulated venue does) with UNKNOWN_ORDER, the code the gate denies a
    modify of an order it holds no working order for with too. The venue's answer ends
    the modify: the order works on at its old size, live and restored, and the gate
    reserves the old size again; the gate's own denial still moves nothing."""
    risk = RiskConfig(max_position="30")
    live = Wired(risk_config=risk)
    live.quote()
    live.submit("M0", BUY, "1", "99.00")
    live.answer("M0", K.ACCEPTED)
    live.cancel("M0")
    live.answer("M0", K.CANCELED)
    live.modify("M0", quantity="2")  # no working order: the gate denies it
    live.submit("M1", BUY, "10", "100.00")
    live.answer("M1", K.ACCEPTED)
    live.modify("M1", quantity="25")  # approved, sent
    live.answer("M1", K.MODIFY_REJECTED, reason="UNKNOWN_ORDER")
    fresh = Wired(risk_config=risk)

    fresh.restore(live.log)
    restored, stopped = snapshot(fresh), snapshot(live)
    rejected = [e.reason for e in live.log if type(e) is OrderModifyRejected]
    fresh.quote()
    approved = [node.submit("M2", BUY, "15", "100.00") for node in (live, fresh)]

    assert rejected == ["UNKNOWN_ORDER", "UNKNOWN_ORDER"]
    assert live.order("M1").status is S.ACCEPTED
    assert restored == stopped
    assert approved == [True, True], "the gate still reserved the refused size"


def test_restore_fill_of_an_order_purged_from_memory_still_counts_in_the_position() -> None:
    live = Wired(oms_config=OmsConfig(retain_closed=1))
    live.quote()
    for cid in ("P1", "P2", "P3"):
        live.submit(cid, BUY, "1", "100.00")
        live.fill(cid, 1, "100.00")
    fresh = Wired(oms_config=OmsConfig(retain_closed=1))

    fresh.restore(live.log)

    assert [o.client_order_id for o in fresh.oms.orders()] == ["P3"]
    position = fresh.oms.position("S1", "AAA.SIM")
    assert position is not None
    assert position.quantity_raw == 3 * UNIT
    assert snapshot(fresh) == snapshot(live)


def test_restore_event_the_state_machine_refuses_raises() -> None:
    live = Wired()
    live.quote()
    live.submit("X1", BUY, "1", "100.00")
    live.fill("X1", 1, "100.00")
    fresh = Wired()
    fresh.restore(live.log)
    filled = fresh.order("X1")

    with pytest.raises(IllegalTransition):
        fresh.oms.restore(
            OrderRejected(
                strategy_id="S1",
                instrument_id="AAA.SIM",
                client_order_id="X1",
                reason="LATE",
                ts_event=0,
                ts_init=0,
            )
        )
    assert filled.status is S.FILLED


def test_restore_order_initialized_twice_raises() -> None:
    live = Wired()
    live.quote()
    live.submit("X1", BUY, "1", "100.00")
    fresh = Wired()

    with pytest.raises(InvariantError):
        fresh.restore(live.log + live.log)


def test_restore_skips_messages_that_are_not_oms_or_risk_facts() -> None:
    fresh = Wired()
    foreign: list[object] = [
        TradingAlert(source="oms", code="X", message="", ts_event=0, ts_init=0),
        OrderCanceled(
            strategy_id="S1",
            instrument_id="AAA.SIM",
            client_order_id="NEVER",
            ts_event=0,
            ts_init=0,
        ),
        OrderFilled(
            strategy_id="S1",
            instrument_id="ZZZ.SIM",
            client_order_id="NEVER",
            venue_order_id="V",
            trade_id="T",
            side=BUY,
            last_qty=Quantity.parse("1"),
            last_px=Price.parse("1.00"),
            cum_qty=Quantity.parse("1"),
            leaves_qty=Quantity.parse("0"),
            liquidity_side=LiquiditySide.TAKER,
            ts_event=0,
            ts_init=0,
        ),
        TradingStateChanged(
            state=TradingState.REDUCING,
            previous=TradingState.ACTIVE,
            reason="KILL_SWITCH by ops: x",
            scope="all",
            ts_event=0,
            ts_init=0,
        ),
    ]

    fresh.restore(foreign)

    assert fresh.risk.trading_state == "ACTIVE"
    assert fresh.oms.orders() == []
    assert fresh.log == []


def _pair_leg(
    cid: str, instrument_id: str, side: OrderSide, quantity: str, price: str
) -> SubmitOrder:
    return SubmitOrder(
        strategy_id="S1",
        instrument_id=instrument_id,
        client_order_id=cid,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=Quantity.parse(quantity),
        price=Price.parse(price),
        pair_id="P1",
        ts_init=0,
    )


def _pair_session() -> Wired:
    """A pair whose second leg filled a quarter and was canceled: the completion order
    for the missing quantity is working."""
    n = Wired()
    n.quote("AAA.SIM", "100.00", "100.02")
    n.quote("BBB.SIM", "50.00", "50.02")
    n.command(
        SubmitPairOrder(
            pair_id="P1",
            strategy_id="S1",
            first=_pair_leg("P1-a", "AAA.SIM", BUY, "10", "100.00"),
            second=_pair_leg("P1-b", "BBB.SIM", SELL, "20", "50.00"),
            legging="complete",
            leg_timeout_ns=60 * SECOND,
            ts_init=n.clock.timestamp_ns(),
        )
    )
    n.answer("P1-a", K.ACCEPTED)
    n.answer("P1-b", K.ACCEPTED)
    n.fill("P1-a", 10, "100.00")
    n.fill("P1-b", 5, "50.00")
    n.answer("P1-b", K.CANCELED)
    return n


def _pair_view(n: Wired) -> tuple[object, ...]:
    pair = n.oms.pair("P1")
    assert pair is not None
    return (pair.state, pair.residual, pair.attempts, pair.unwinds, pair.children, pair.deadline_ns)


def test_restore_pair_order_equals_the_live_pair() -> None:
    live = _pair_session()
    fresh = Wired()

    fresh.restore(live.log)

    assert _pair_view(fresh) == _pair_view(live)
    assert _pair_view(fresh)[0] == COMPLETING
    assert snapshot(fresh) == snapshot(live)


def test_restore_pair_completes_when_the_completion_order_fills_after_restart() -> None:
    live = _pair_session()
    fresh = Wired()
    fresh.restore(live.log)
    child = live.oms.pair("P1").children[-1]  # type: ignore[union-attr]

    for node in (live, fresh):
        node.answer(child, K.ACCEPTED)
        node.fill(child, 15, "50.00")

    assert _pair_view(fresh) == _pair_view(live)
    assert _pair_view(fresh)[:2] == (COMPLETE, (0, 0))


def test_reconcile_unknown_alerts_once_and_asks_again_at_a_doubling_interval() -> None:
    """An acknowledged order the venue no longer knows: one critical alert, not one per
    ack timeout, and queries at a doubling interval; a later answer still settles it."""
    live = _session()
    fresh = Wired(oms_config=OmsConfig(ack_timeout_ns=SECOND, unknown_confirmations=2))
    fresh.restore(live.log)
    fresh.clock.set_time(live.clock.timestamp_ns())
    fresh.oms.reconcile_all()  # the venue knows none of them
    asked: list[int] = []

    def query(client_order_id: str) -> object:
        if client_order_id == "A1":
            asked.append(fresh.clock.timestamp_ns())
        return fresh.venue.get(client_order_id)

    fresh.oms._query_order = query  # type: ignore[assignment]
    start = fresh.clock.timestamp_ns()
    for _ in range(64):
        fresh.clock.advance(SECOND)
        fresh.oms.check_in_flight()

    alerts = [
        a.client_order_id
        for a in fresh.log
        if isinstance(a, TradingAlert) and a.code == "RECONCILE_UNKNOWN"
    ]
    assert alerts.count("A1") == 1
    assert len(alerts) == len(set(alerts))
    assert fresh.order("A1").status is S.PARTIALLY_FILLED
    gaps = [(b - a) // SECOND for a, b in zip([start, *asked], asked, strict=False)]
    assert gaps == [1, 1, 2, 4, 8, 16, 32]

    fresh.venue_status("A1", "PARTIALLY_FILLED", cum=4, leaves=6)
    fresh.clock.advance(32 * SECOND)
    fresh.oms.check_in_flight()

    assert "A1" not in fresh.oms.in_flight()
