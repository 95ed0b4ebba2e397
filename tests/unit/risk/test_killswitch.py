"""Kill switch: scopes, blocking, cancel of working orders, risk-reducing orders, audit."""

from __future__ import annotations

from spreadwire.domain.commands import EngageKillSwitch, KillSwitchScope, ReleaseKillSwitch
from spreadwire.domain.enums import OrderSide, TradingState
from spreadwire.risk.reasons import DenyReason
from tests.unit.risk.support import Harness


def _kill(h: Harness, scope: KillSwitchScope = "all", target: str | None = None) -> None:
    h.engine.execute(
        EngageKillSwitch(scope=scope, target=target, operator="ops", reason="drill", ts_init=0)
    )


def test_kill_switch_all_blocks_new_orders_at_once() -> None:
    h = Harness()
    _kill(h)

    ok = h.submit()

    assert not ok
    assert h.last_denial() == DenyReason.KILL_SWITCH


def test_kill_switch_cancels_every_working_order_in_scope() -> None:
    h = Harness()
    orders = [h.order(strategy_id=s) for s in ("S1", "S1", "S2")]
    for order in orders:
        h.engine.execute(order)

    _kill(h)

    assert sorted(c.client_order_id for c in h.cancels()) == sorted(
        o.client_order_id for o in orders
    )


def test_kill_switch_strategy_scope_cancels_and_blocks_only_that_strategy() -> None:
    h = Harness()
    mine = h.order(strategy_id="S1")
    other = h.order(strategy_id="S2")
    h.engine.execute(mine)
    h.engine.execute(other)

    _kill(h, "strategy", "S1")
    blocked = h.submit(strategy_id="S1")
    allowed = h.submit(strategy_id="S2")

    assert [c.client_order_id for c in h.cancels()] == [mine.client_order_id]
    assert (blocked, allowed) == (False, True)


def test_kill_switch_instrument_scope_blocks_only_that_instrument() -> None:
    h = Harness()
    _kill(h, "instrument", "AAA.SIM")

    blocked = h.submit(instrument_id="AAA.SIM")
    allowed = h.submit(instrument_id="BBB.SIM", price="50.00")

    assert (blocked, allowed) == (False, True)


def test_kill_switch_lets_a_risk_reducing_order_through() -> None:
    h = Harness()
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy)
    _kill(h)

    reduce = h.submit(OrderSide.SELL, quantity="10")
    flip = h.submit(OrderSide.SELL, quantity="20")

    assert reduce
    assert not flip


def test_kill_switch_engage_publishes_state_change_with_scope_and_reason() -> None:
    h = Harness()

    _kill(h, "strategy", "S1")

    change = h.states()[-1]
    assert change.state is TradingState.REDUCING
    assert change.scope == "strategy:S1"
    assert "ops" in change.reason and "drill" in change.reason


def test_kill_switch_release_is_audited_and_unblocks() -> None:
    h = Harness()
    _kill(h)

    h.engine.execute(ReleaseKillSwitch(operator="lead", reason="all clear", ts_init=0))
    ok = h.submit()

    assert ok
    assert [entry[1] for entry in h.engine.kill_switch.history] == ["engage", "release"]
    assert h.states()[-1].state is TradingState.ACTIVE


def test_kill_switch_does_not_change_the_breaker_state() -> None:
    h = Harness()

    _kill(h)

    assert h.engine.trading_state is TradingState.ACTIVE
    assert h.engine.stats().kill_switch == ["all"]
