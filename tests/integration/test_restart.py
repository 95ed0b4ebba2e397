"""The node restarts from its event log: orders, positions, limits, kill switches and the
trading state come back, then open orders are reconciled with the venue."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Literal

import msgspec
import pytest

from spreadwire.api.errors import ConflictError
from spreadwire.api.schemas import (
    BreakerReset,
    KillSwitchRequest,
    OrderRequest,
    RiskLimitsPatch,
    TradingStateChange,
)
from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig
from spreadwire.control import NodeControl
from spreadwire.domain.admin import ChangeRiskLimits, ChangeStrategyParams, StartStrategy
from spreadwire.domain.commands import EngageKillSwitch, ReleaseKillSwitch, ResetTradingState
from spreadwire.domain.enums import OrderSide, OrderStatus, TradingState
from spreadwire.domain.events import OrderInitialized, TradingStateChanged
from spreadwire.errors import ConfigError, StoreError, ValidationError
from spreadwire.eventstore.verify import verify_log
from spreadwire.node import Driver, Speed
from spreadwire.oms.config import OmsConfig
from spreadwire.persistence.store import open_store
from spreadwire.venue.config import GeneratorConfig, PairSpec, VenueConfig


def _node(store: Path) -> TradingNode:
    return TradingNode(
        NodeConfig(seed=9, pairs=2), store_url=f"sqlite:///{store}", latency_breaker=False
    )


def _stop(node: TradingNode) -> None:
    """Stop the node and close its event store (what a process exit leaves behind)."""
    node.close()
    node.recorder.close()


def _restart(node: TradingNode, store: Path) -> TradingNode:
    """Stop ``node`` and restore a new node (a new process) from its log at ``store``;
    not started yet, so a test can look at what the restore alone brought back."""
    _stop(node)
    restored = _node(store)
    restored.restore()
    return restored


def _run(node: TradingNode, seconds: float) -> None:
    asyncio.run(Driver(node.now, node.advance).run(seconds=seconds, speed=Speed.MAX))


def _positions(node: TradingNode) -> dict[tuple[str, str], tuple[int, object]]:
    return {
        (p.strategy_id, p.instrument_id): (p.quantity_raw, p.realized) for p in node.oms.positions()
    }


def test_node_restart_restores_state_and_reconciles(tmp_path: Path) -> None:
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 25.0)
    first.admin(
        ChangeRiskLimits(
            operator="ops", changes={"max_order_quantity": "4000"}, ts_init=first.now()
        )
    )
    first.submit_command(
        EngageKillSwitch(
            scope="strategy",
            target="pairs.CCC_DDD",
            operator="ops",
            reason="test",
            ts_init=first.now(),
        )
    )
    before_positions = _positions(first)
    before_orders = {o.client_order_id: o.status for o in first.oms.orders()}
    strategy_positions = {s.strategy_id: dict(s.positions) for s in first.strategies.strategies()}
    _stop(first)

    second = _node(store)
    restored = second.restore()

    assert restored > 0
    assert _positions(second) == before_positions
    assert {o.client_order_id: o.status for o in second.oms.orders()} == before_orders
    assert second.risk.config.max_order_quantity == "4000"
    assert second.risk.kill_switch.is_engaged("strategy", "pairs.CCC_DDD")
    assert {s.strategy_id: dict(s.positions) for s in second.strategies.strategies()} == (
        strategy_positions
    )

    second.start()
    second.reconcile()
    _run(second, 10.0)
    second.close()

    earlier = set(before_orders)
    new_ids = [
        e.message.client_order_id
        for e in second.recorder.read()
        if isinstance(e.message, OrderInitialized)
    ]
    assert len(new_ids) == len(set(new_ids)), "a client order id was issued twice"
    assert second.orders > 0, "the restarted node does not trade"
    assert not any(o.is_open for o in second.oms.orders() if o.client_order_id in earlier), (
        "an order from before the restart is still open after reconciliation"
    )
    second.recorder.close()


def test_restoring_a_log_of_instruments_the_configuration_lacks_is_refused_naming_them(
    tmp_path: Path,
) -> None:
    """A log written with two pairs, restored with one: its orders and positions on the
    second pair's instruments would come back with no instrument, no strategy and no
    risk limit counting them. The restore refuses, naming what the configuration lacks;
    a configuration with more pairs than the log's takes it."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 25.0)
    traded = {o.instrument_id for o in first.oms.orders()}
    _stop(first)

    fewer = TradingNode(
        NodeConfig(seed=9, pairs=1), store_url=f"sqlite:///{store}", latency_breaker=False
    )
    with pytest.raises(ConfigError) as refused:
        fewer.restore()
    fewer.recorder.close()
    more = TradingNode(
        NodeConfig(seed=9, pairs=3), store_url=f"sqlite:///{store}", latency_breaker=False
    )
    more.restore()
    more.recorder.close()

    assert {"CCC.SIM", "DDD.SIM"} <= traded
    message = str(refused.value)
    assert "CCC.SIM, DDD.SIM" in message and "pairs.CCC_DDD" in message
    assert "AAA.SIM" not in message and "pairs.AAA_BBB" not in message
    assert {p.instrument_id for p in more.oms.positions()} <= traded


def test_restoring_a_log_of_strategies_the_configuration_lacks_is_refused_naming_them(
    tmp_path: Path,
) -> None:
    """The same instruments paired otherwise: the log's strategies are not the
    configuration's, and their positions would be held by no strategy."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 25.0)
    _stop(first)
    pairs = (PairSpec(leg_a="AAA", leg_b="CCC"), PairSpec(leg_a="BBB", leg_b="DDD"))
    config = NodeConfig(seed=9, pairs=2, venue=VenueConfig(generator=GeneratorConfig(pairs=pairs)))

    other = TradingNode(config, store_url=f"sqlite:///{store}", latency_breaker=False)
    with pytest.raises(ConfigError) as refused:
        other.restore()
    other.recorder.close()

    message = str(refused.value)
    assert "pairs.AAA_BBB, pairs.CCC_DDD" in message
    assert ".SIM" not in message


def test_node_restarts_past_a_strategy_change_that_was_refused(tmp_path: Path) -> None:
    """admin() records a command before applying it, so one that was refused (an entry
    threshold beyond the stop, an unknown strategy) is in the log; restoring skips it
    as it changed nothing, instead of refusing to restart."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 5.0)
    strategy = first.strategies.strategies()[0]
    before = strategy.config
    refused: list[ChangeStrategyParams | StartStrategy] = [
        ChangeStrategyParams(
            operator="ops",
            strategy_id=strategy.strategy_id,
            changes={"entry_z": 50.0},
            ts_init=first.now(),
        ),
        StartStrategy(operator="ops", strategy_id="pairs.NOPE", ts_init=first.now()),
    ]
    for command in refused:
        with pytest.raises(ValidationError):
            first.admin(command)
    _stop(first)
    log = open_store(f"sqlite:///{store}")
    stored = [
        e.message for e in log.read() if isinstance(e.message, ChangeStrategyParams | StartStrategy)
    ]
    log.close()

    second = _node(store)
    second.restore()
    after = second.strategies.find(strategy.strategy_id)
    _stop(second)

    assert stored == refused
    assert after is not None
    assert after.config == before


def test_node_whose_event_store_fails_halts_trading_and_keeps_running(tmp_path: Path) -> None:
    node = _node(tmp_path / "events.db")
    node.start()
    _run(node, 25.0)
    before = node.store_error
    trading = len(node.oms.orders())
    node.recorder.close()  # the store goes away under the running node

    _run(node, 1.0)  # the writer fails on its next commit (after its retries)
    for _ in range(600):  # the retries run on the writer's thread, in wall time
        if node.writer.stats().failed:
            break
        threading.Event().wait(0.05)
    for _ in range(60):  # the next hand-off finds the writer stopped: trading stops
        if node.store_error is not None:
            break
        _run(node, 0.5)
    orders_when_halted = len(node.oms.orders())
    _run(node, 20.0)  # the node keeps running; nothing new goes to the venue
    node.close()

    assert before is None and trading > 0
    assert node.store_error is not None and "closed" in node.store_error
    assert node.risk.trading_state is TradingState.HALTED
    assert node.risk.kill_switch.is_engaged("all", None)
    assert [a.code for a in node.alerts].count("EVENT_STORE_FAILED") == 1
    assert len(node.oms.orders()) == orders_when_halted
    assert not any(o.is_open for o in node.oms.orders())
    assert node.unrecorded > 0


def test_operator_cannot_resume_trading_while_the_event_store_is_failed(tmp_path: Path) -> None:
    node = _node(tmp_path / "events.db")
    node.start()
    _run(node, 5.0)
    control = NodeControl(node)
    node.recorder.close()
    node.writer.close()  # its last commit fails: the writer stops
    _run(node, 1.0)
    for _ in range(60):
        if node.store_error is not None:
            break
        _run(node, 0.5)

    with pytest.raises(ConflictError, match="the event store failed") as resume:
        control.set_trading_state(
            TradingStateChange(state=TradingState.ACTIVE, reason="ok"), actor="ops"
        )
    with pytest.raises(ConflictError, match="trading stays halted") as release:
        control.release_kill_switch(KillSwitchRequest(scope="all", reason="ok"), actor="ops")
    with pytest.raises(ConflictError, match="the event store failed") as reset:
        control.reset_breaker(BreakerReset(reason="ok"), actor="ops")
    with pytest.raises(ConflictError, match="the event store failed") as limits:
        control.set_risk_limits(RiskLimitsPatch(collar_bps=500), actor="ops")
    # a reset that reaches the node another way (not through the API) is ignored too
    node.submit_command(ResetTradingState(operator="ops", reason="ok", ts_init=node.now()))
    halted = control.set_trading_state(
        TradingStateChange(state=TradingState.HALTED, reason="still"), actor="ops"
    )
    node.close()

    store = control.store()
    assert (store.state, store.backend) == ("failed", "sqlite")
    assert "closed" in store.error
    assert (resume.value.field, release.value.field) == ("state", "scope")
    assert (reset.value.field, limits.value.field) == ("reason", "limits")
    readiness = control.readiness()
    assert not readiness.ready and not readiness.checks["event_store"]
    assert readiness.detail.startswith("the event store failed, trading is halted")
    assert node.risk.trading_state is TradingState.HALTED
    assert node.risk.kill_switch.is_engaged("all", None)
    assert halted.state is TradingState.HALTED


class _FailingOnce:
    """A store whose next commit fails once ``failing`` is set (a lost connection, say).
    The writer's retry then waits for :meth:`release`: the store is back only when the
    test says so, so the node sees its writer retrying however its threads are scheduled
    (a retry that succeeded within its 2 ms backoff went unseen now and then on a loaded
    machine, and the node never halted)."""

    def __init__(self, recorder: Any) -> None:
        self._recorder = recorder
        self.failing = False
        self._back = threading.Event()
        self._down = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)

    def commit(self, appends: Any, **kwargs: Any) -> Any:
        if self.failing:
            self.failing = False
            self._down = True
            raise StoreError("connection lost")
        if self._down:
            self._back.wait()
            self._down = False
        return self._recorder.commit(appends, **kwargs)

    def release(self) -> None:
        self._back.set()


def test_node_halts_while_a_failed_commit_is_retried_and_resumes_by_hand(tmp_path: Path) -> None:
    store = _FailingOnce(open_store(f"sqlite:///{tmp_path / 'events.db'}"))
    node = TradingNode(
        NodeConfig(seed=9, pairs=2),
        store_url="sqlite:///unused.db",
        recorder=store,
        latency_breaker=False,
    )
    node.start()
    _run(node, 25.0)
    store.failing = True
    for _ in range(120):  # until the node has seen the retry and halted
        if node.risk.trading_state is TradingState.HALTED:
            break
        _run(node, 0.25)
    halted = node.risk.trading_state
    store.release()
    node.writer.flush()  # the retry succeeds: everything is stored
    orders = len(node.oms.orders())
    _run(node, 5.0)
    still_halted = len(node.oms.orders()) == orders
    NodeControl(node).reset_breaker(BreakerReset(reason="store is back"), actor="ops")
    _run(node, 25.0)
    store_view = NodeControl(node).store()
    node.close()
    report = verify_log(store._recorder)
    store._recorder.close()

    assert halted is TradingState.HALTED
    assert still_halted
    assert node.store_error is None
    assert [a.code for a in node.alerts].count("EVENT_STORE_RETRYING") == 1
    assert len(node.oms.orders()) > orders, "trading resumed after the reset"
    assert report.sound
    assert node.writer.stats().committed == node.writer.stats().appended
    assert (store_view.state, store_view.retries) == ("ok", 1)


def test_node_on_postgres_reports_its_connection_pool(postgres_url: str) -> None:
    node = TradingNode(NodeConfig(seed=9, pairs=2), store_url=postgres_url, latency_breaker=False)
    node.start()
    _run(node, 10.0)
    node.writer.flush()
    store = NodeControl(node).store()
    _stop(node)

    assert (store.backend, store.state) == ("postgresql", "ok")
    assert store.committed == store.appended > 0
    assert store.pool is not None
    assert store.pool["pool_size"] >= 1 and store.pool["pool_max"] >= store.pool["pool_size"]
    assert store.pool["connections_num"] >= 1 and store.pool["requests_num"] >= 1


def test_venue_order_and_trade_ids_are_never_reused_after_a_restart(tmp_path: Path) -> None:
    """The restarted node's venue (a new process) must not hand out the venue order ids
    and trade ids of the run before: in the orders and fills read models one venue order
    id would name two orders and one trade id two different trades (other prices, other
    times), and the id a venue or a post-trade check would match on means nothing."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 15.0)
    second = _restart(first, store)
    second.start()
    second.reconcile()
    _run(second, 15.0)
    second.close()
    models = second.read_models()
    orders = models.orders()
    fills = models.fills()
    positions = {(p["strategy_id"], p["instrument_id"]): p for p in models.positions()}
    live = _positions(second)
    second.recorder.close()

    orders_of: dict[str, set[str]] = {}
    for doc in orders:
        if doc["venue_order_id"]:
            orders_of.setdefault(doc["venue_order_id"], set()).add(doc["client_order_id"])
    trades: dict[str, set[tuple[str, str, int]]] = {}
    for fill in fills:
        # both sides of a trade between two of the node's orders share its id
        trades.setdefault(fill["trade_id"], set()).add(
            (fill["last_px"], fill["last_qty"], fill["ts_event"])
        )
    assert fills and first.fills and second.fills
    shared = {v: c for v, c in orders_of.items() if len(c) > 1}
    assert not shared, f"{len(shared)} venue order ids name two orders, e.g. {shared.popitem()}"
    reused = {t: f for t, f in trades.items() if len(f) > 1}
    assert not reused, f"{len(reused)} trade ids name two trades, e.g. {reused.popitem()}"
    # the positions still equal the sum of the fills, live and in the read model
    assert {key: doc["quantity_raw"] for key, doc in positions.items()} == {
        key: quantity for key, (quantity, _) in live.items()
    }


def test_manual_order_ids_continue_after_a_restart(tmp_path: Path) -> None:
    """An order sent through the API without a client order id gets ``manual-<n>``; a
    restarted node goes on after the ids in its log instead of answering 409."""
    store = tmp_path / "events.db"

    def request(node: TradingNode, below: float) -> OrderRequest:
        bid = node.marketdata.book("AAA.SIM").best_bid
        assert bid is not None
        price = f"{bid / 1e9 * (1 - below):.2f}"
        return OrderRequest(instrument_id="AAA.SIM", side=OrderSide.BUY, quantity="1", price=price)

    first = _node(store)
    first.start()
    _run(first, 5.0)
    control = NodeControl(first)
    # one the collar denies (10% below the bid), one that rests (2% below)
    before = [control.submit_order(request(first, b), actor="ops") for b in (0.1, 0.02)]
    _run(first, 1.0)
    second = _restart(first, store)
    second.start()
    _run(second, 1.0)
    control = NodeControl(second)
    after = control.submit_order(request(second, 0.02), actor="ops")
    given = msgspec.structs.replace(request(second, 0.02), client_order_id="manual-9")
    control.submit_order(given, actor="ops")
    following = control.submit_order(request(second, 0.02), actor="ops")
    _stop(second)

    assert [(o.client_order_id, o.status) for o in before] == [
        ("manual-1", OrderStatus.DENIED),
        ("manual-2", OrderStatus.SUBMITTED),
    ]
    assert after.client_order_id == "manual-3"
    assert following.client_order_id == "manual-10"


def test_denied_client_order_id_is_still_409_after_a_restart(tmp_path: Path) -> None:
    """A client retrying a denied order after the node restarted (its first answer was
    lost) gets the same 409: the node reads its denials back from the log."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 5.0)
    bid = first.marketdata.book("AAA.SIM").best_bid
    assert bid is not None
    request = OrderRequest(
        instrument_id="AAA.SIM",
        side=OrderSide.BUY,
        quantity="1",
        price=f"{bid / 1e9 * 0.9:.2f}",  # the collar denies it
        client_order_id="client-7",
    )
    denied = NodeControl(first).submit_order(request, actor="ops")
    _run(first, 1.0)
    second = _restart(first, store)
    second.start()
    _run(second, 1.0)
    with pytest.raises(ConflictError, match="was denied") as retry:
        NodeControl(second).submit_order(request, actor="ops")
    _stop(second)

    assert denied.status is OrderStatus.DENIED
    assert retry.value.field == "client_order_id"


def test_client_order_id_of_an_order_purged_from_memory_is_still_409(tmp_path: Path) -> None:
    """The OMS keeps only its latest closed orders (``[oms] retain_closed``); an id older
    than those is found in the read models, which hold every order of the log."""
    node = TradingNode(
        NodeConfig(seed=9, pairs=2, oms=OmsConfig(retain_closed=1)),
        store_url=f"sqlite:///{tmp_path / 'events.db'}",
        latency_breaker=False,
    )
    node.start()
    _run(node, 5.0)
    control = NodeControl(node)
    bid = node.marketdata.book("AAA.SIM").best_bid
    assert bid is not None
    request = OrderRequest(
        instrument_id="AAA.SIM",
        side=OrderSide.BUY,
        quantity="1",
        price=f"{bid / 1e9 * 0.99:.2f}",
        client_order_id="client-old",
    )
    control.submit_order(request, actor="ops")
    _run(node, 0.5)
    control.cancel_order("client-old", actor="ops")
    _run(node, 10.0)  # the strategies close more orders: this one is purged from memory
    purged = node.oms.order("client-old") is None

    with pytest.raises(ConflictError, match="exists \\(CANCELED\\)") as again:
        control.submit_order(request, actor="ops")
    _stop(node)

    assert purged
    assert again.value.field == "client_order_id"


StrategyState = tuple[TradingState, str, dict[str, int], dict[str, int], bool, int]


def _strategy_state(node: TradingNode) -> dict[str, StrategyState]:
    return {
        s.strategy_id: (
            s.trading_state,
            str(s.state),
            dict(s.targets),
            dict(s.positions),
            s.running,
            s.in_flight,
        )
        for s in node.strategies.strategies()
    }


@pytest.mark.parametrize("scope", ["all", "strategy", "instrument"])
def test_strategies_stay_reducing_under_a_kill_switch_after_a_restart(
    tmp_path: Path, scope: Literal["all", "strategy", "instrument"]
) -> None:
    """A kill switch puts the strategies in its scope in REDUCING (they trade their
    position out and open nothing); a restarted node must not set them back to ACTIVE,
    where they would hold the position and send orders the gate denies (a global kill
    switch then trips the deny-rate breaker)."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 25.0)
    holding = next(s for s in first.strategies.strategies() if any(s.positions.values()))
    target = {"all": None, "strategy": holding.strategy_id, "instrument": holding.instrument_ids[0]}
    first.submit_command(
        EngageKillSwitch(
            scope=scope, target=target[scope], operator="ops", reason="t", ts_init=first.now()
        )
    )
    before = _strategy_state(first)
    second = _restart(first, store)
    after = _strategy_state(second)
    second.start()
    second.reconcile()
    _run(second, 20.0)
    _stop(second)

    assert before[holding.strategy_id][0] is TradingState.REDUCING
    assert after == before
    assert second.denied == 0, "the restored strategies sent orders the kill switch denies"
    assert second.risk.breaker_trips == []
    assert not any(second.strategies.find(holding.strategy_id).positions.values())  # type: ignore[union-attr]


def test_a_manual_order_booked_to_a_strategy_does_not_block_it_after_a_restart(
    tmp_path: Path,
) -> None:
    """An order sent through the API with a strategy's id moves that strategy's position
    but is not one the strategy waits for; restored, it must not hold the strategy's
    order slot (the strategy would never trade again while the order rests)."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 5.0)
    strategy_id = "pairs.AAA_BBB"
    bid = first.marketdata.book("AAA.SIM").best_bid
    assert bid is not None
    request = OrderRequest(
        instrument_id="AAA.SIM",
        side=OrderSide.BUY,
        quantity="1",
        price=f"{bid / 1e9 * 0.98:.2f}",  # rests
        strategy_id=strategy_id,
    )
    resting = NodeControl(first).submit_order(request, actor="ops")
    _run(first, 1.0)
    before = _strategy_state(first)
    second = _restart(first, store)
    after = _strategy_state(second)
    strategy = second.strategies.find(strategy_id)
    assert strategy is not None
    sent = strategy.orders_submitted
    second.start()
    second.reconcile()
    _run(second, 30.0)
    _stop(second)

    assert resting.status is OrderStatus.SUBMITTED
    assert after[strategy_id][5] == before[strategy_id][5] == 0
    assert strategy.orders_submitted > sent, "the restored strategy never traded again"


@pytest.mark.parametrize("seconds", [7.11, 19.44, 30.4])
def test_a_strategy_stopped_between_a_decision_and_its_fills_holds_no_single_leg(
    tmp_path: Path, seconds: float
) -> None:
    """Stopped while one leg of a strategy's entry or exit had filled and the other had
    not (its IOC found no liquidity and waits for the next quote), the restarted strategy
    must not take the filled leg alone as its new target and hold it unhedged until the
    model, warming up again, signals an exit: it trades the rest out (or, where nothing
    is left over, keeps the decision)."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, seconds)
    before = _strategy_state(first)
    legs = {s.strategy_id: s.instrument_ids for s in first.strategies.strategies()}
    legged = [sid for sid, state in before.items() if state[2] != state[3]]
    second = _restart(first, store)
    after = _strategy_state(second)
    second.start()
    second.reconcile()
    _run(second, 5.0)
    later = _strategy_state(second)
    _stop(second)

    assert legged, "no strategy was between its decision and its fills at the stop"
    for strategy_id, (y, x) in legs.items():
        targets = after[strategy_id][2]
        assert bool(targets[y]) == bool(targets[x]), f"{strategy_id} holds one leg: {targets}"
        assert targets == before[strategy_id][2] or not any(targets.values())
        positions = later[strategy_id][3]
        assert bool(positions[y]) == bool(positions[x]), f"{strategy_id} still one-legged"


def test_a_notional_too_large_to_size_keeps_the_node_running_and_restartable(
    tmp_path: Path,
) -> None:
    """PATCH /v1/strategies/{id}/params accepts any 18-digit notional; the entry it
    sizes does not fit a Quantity. The node must keep dispatching (and restart with
    the accepted change) instead of raising out of its quote path."""
    from spreadwire.api.schemas import StrategyParams

    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 5.0)
    control = NodeControl(first)
    strategy_id = first.strategies.strategies()[0].strategy_id
    control.set_strategy_params(
        strategy_id,
        StrategyParams(notional="999999999999", entry_z=0.3, exit_z=0.1, window=10),
        actor="ops",
    )
    _run(first, 10.0)
    second = _restart(first, store)
    second.start()
    second.reconcile()
    _run(second, 10.0)
    restored = second.strategies.find(strategy_id)
    _stop(second)

    assert restored is not None
    assert restored.config.notional == "999999999999"


def test_releasing_a_kill_switch_does_not_lift_a_breaker_trip_for_the_strategies(
    tmp_path: Path,
) -> None:
    """The breaker is HALTED and an operator releases a kill switch: the strategies
    follow the breaker (HALTED), not ACTIVE, and the gate has nothing to deny; a scoped
    release under a global switch leaves its strategies REDUCING."""
    node = _node(tmp_path / "events.db")
    node.start()
    _run(node, 25.0)
    strategy = node.strategies.strategies()[0].strategy_id

    def switch(command: type[EngageKillSwitch | ReleaseKillSwitch], **scope: str) -> None:
        node.submit_command(command(operator="ops", reason="drill", ts_init=node.now(), **scope))  # type: ignore[arg-type]

    switch(EngageKillSwitch, scope="all")
    switch(EngageKillSwitch, scope="strategy", target=strategy)
    switch(ReleaseKillSwitch, scope="strategy", target=strategy)
    scoped = {s.strategy_id: s.trading_state for s in node.strategies.strategies()}
    node.risk.trip(TradingState.HALTED, "DRILL")
    switch(ReleaseKillSwitch, scope="all")
    denied = node.denied
    _run(node, 10.0)
    after = {s.trading_state for s in node.strategies.strategies()}
    _stop(node)

    assert scoped[strategy] is TradingState.REDUCING  # the global switch still holds
    assert after == {TradingState.HALTED}
    assert node.denied == denied


def test_manual_trips_and_kill_switches_name_their_operator_in_the_audit_log(
    tmp_path: Path,
) -> None:
    node = _node(tmp_path / "events.db")
    node.start()
    _run(node, 5.0)
    control = NodeControl(node)
    control.set_trading_state(
        TradingStateChange(state=TradingState.REDUCING, reason="maintenance"), actor="alice"
    )
    control.engage_kill_switch(KillSwitchRequest(scope="all", reason="drill"), actor="bob")
    node.writer.flush()
    audit = node.read_models().audit(0, 1_000)
    _stop(node)

    changes = {
        (doc["detail"]["reason"].split(" ")[0], doc["operator"])
        for doc in audit
        if doc["type"] == "TradingStateChanged"
    }
    assert {("MANUAL", "alice"), ("KILL_SWITCH", "bob")} <= changes


def test_a_kill_switch_engaged_twice_keeps_its_first_engagement_live_and_restored(
    tmp_path: Path,
) -> None:
    """A second engage changes nothing but the audit log (and cancels what works in its
    scope): the switch keeps the time and reason it was engaged with, and so does the
    node restarted from the log."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 3.0)
    control = NodeControl(first)
    engaged = control.engage_kill_switch(KillSwitchRequest(scope="all", reason="a"), actor="a")
    _run(first, 1.0)
    control.engage_kill_switch(KillSwitchRequest(scope="all", reason="b"), actor="b")
    live = control.trading_state()
    second = _restart(first, store)
    restored = NodeControl(second).trading_state()
    second.recorder.close()

    assert live.kill_switches == engaged.state.kill_switches
    assert (live.ts_changed, live.reason) == (engaged.state.ts_changed, engaged.state.reason)
    assert restored.kill_switches == live.kill_switches


def test_restored_strategies_are_never_less_restricted_than_the_breaker(tmp_path: Path) -> None:
    """A log written before releases carried the breaker's state holds, after a trip, a
    release that says ACTIVE: the restored strategies still follow the HALTED breaker."""
    store = tmp_path / "events.db"
    first = _node(store)
    first.start()
    _run(first, 5.0)
    first.risk.trip(TradingState.HALTED, "MANUAL by ops: test", operator="ops")
    now = first.now()
    first.writer.append(  # what a release used to record under a trip
        TradingStateChanged(
            state=TradingState.ACTIVE,
            previous=TradingState.REDUCING,
            reason="KILL_SWITCH_RELEASED by ops: old",
            ts_event=now,
            ts_init=now,
        )
    )
    second = _restart(first, store)
    states = {s.trading_state for s in second.strategies.strategies()}
    second.recorder.close()

    assert second.risk.trading_state is TradingState.HALTED
    assert states == {TradingState.HALTED}


def _gate(node: TradingNode) -> dict[str, TradingState]:
    """What the gate lets each strategy do: the breaker's state, REDUCING under a kill
    switch that blocks any of its legs."""
    breaker, kill = node.risk.trading_state, node.risk.kill_switch
    allowed = {}
    for s in node.strategies.strategies():
        state = breaker
        if state is TradingState.ACTIVE and any(
            kill.blocks(s.strategy_id, i) for i in s.instrument_ids
        ):
            state = TradingState.REDUCING
        allowed[s.strategy_id] = state
    return allowed


SEQUENCES = {
    "trip_halted_then_engage_strategy": ["trip", "E strategy"],
    "trip_halted_then_engage_all": ["trip", "E all"],
    "engage_strategy_engage_all_release_all": ["E strategy", "E all", "R all"],
    "engage_instrument_engage_strategy_release_strategy": [
        "E instrument",
        "E strategy",
        "R strategy",
    ],
    "engage_all_trip_reset": ["E all", "trip", "reset"],
}


@pytest.mark.parametrize("steps", SEQUENCES.values(), ids=SEQUENCES.keys())
def test_strategies_follow_the_gate_live_and_restored(tmp_path: Path, steps: list[str]) -> None:
    store = tmp_path / "events.db"
    node = _node(store)
    node.start()
    _run(node, 3.0)
    strategy = node.strategies.strategies()[0]
    target = {"all": None, "strategy": strategy.strategy_id}
    target["instrument"] = sorted(strategy.instrument_ids)[0]
    for step in steps:
        if step == "trip":
            node.risk.trip(TradingState.HALTED, "MANUAL by ops: drill", operator="ops")
            node.flush_outbox()
        elif step == "reset":
            node.submit_command(ResetTradingState(operator="ops", reason="ok", ts_init=node.now()))
        else:
            kind, scope = step.split()
            command = EngageKillSwitch if kind == "E" else ReleaseKillSwitch
            extra = {} if target[scope] is None else {"target": target[scope]}
            node.submit_command(
                command(scope=scope, operator="ops", reason="drill", ts_init=node.now(), **extra)  # type: ignore[arg-type]
            )
    live = {s.strategy_id: s.trading_state for s in node.strategies.strategies()}
    allowed = _gate(node)
    second = _restart(node, store)
    restored = {s.strategy_id: s.trading_state for s in second.strategies.strategies()}
    second.recorder.close()

    assert live == allowed
    assert restored == live


def test_commands_of_the_longest_operator_the_api_takes_are_readable_and_restored(
    tmp_path: Path,
) -> None:
    """The operator of an API command is its key id or ``jwt:<sub>``, and an OpenID
    ``sub`` may be 255 characters: every command recorded with it must read back (the
    audit log) and restore; one the stored type could not decode made the whole log
    unreadable and the node impossible to restart."""
    store = tmp_path / "events.db"
    node = _node(store)
    node.start()
    _run(node, 3.0)
    control = NodeControl(node)
    actor = "jwt:" + "u" * 255
    control.set_risk_limits(RiskLimitsPatch(max_order_quantity="4000"), actor=actor)
    control.set_trading_state(
        TradingStateChange(state=TradingState.REDUCING, reason="maintenance"), actor=actor
    )
    control.engage_kill_switch(KillSwitchRequest(scope="all", reason="drill"), actor=actor)
    page = control.events(0, 100_000)
    restored = _restart(node, store)
    limits = restored.risk.config.max_order_quantity
    engaged = restored.risk.kill_switch.all
    _stop(restored)

    operators = {e.data.get("operator") for e in page.events if "operator" in e.data}
    assert actor in operators
    assert (limits, engaged) == ("4000", True)
