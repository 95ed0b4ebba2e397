"""Restoring a strategy whose decision had one leg denied by the risk gate."""

from __future__ import annotations

import msgspec

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.events import OrderEvent, OrderInitialized
from tests.unit.strategy.support import (
    STEP_NS,
    X_ID,
    Y_ID,
    PairFeed,
    denied_event,
    fill_event,
    make_pair,
)

ENTRY_SHOCK = 3


def _initialized(order: SubmitOrder) -> OrderInitialized:
    fields = msgspec.structs.asdict(order)
    fields.pop("ts_init")
    fields.pop("operator")
    return OrderInitialized(**fields, ts_event=order.ts_init, ts_init=order.ts_init)


def _entered(live: PairFeed) -> tuple[list[SubmitOrder], list[object]]:
    """Warm up, enter, fill both legs: the entry's orders and what the node stored."""
    live.warm_up()
    log: list[object] = []
    live.step(ENTRY_SHOCK)
    entry = live.orders[-2:]
    for order in entry:
        log += [order, _initialized(order)]
    for order in entry:
        filled = fill_event(order)
        live.strategy.on_event(filled)
        log.append(filled)
    return entry, log


def _live_and_log(decision_shocks: list[int]) -> tuple[PairFeed, list[object]]:
    """Drive a live strategy; each decision's x order is denied by the gate, its y
    order fills. Return the feed and what the node stores (commands and events)."""
    live = make_pair(retry_backoff_ns=100 * STEP_NS)
    live.warm_up()
    log: list[object] = []
    for shock in decision_shocks:
        sent = len(live.orders)
        live.step(shock)
        y_order, x_order = live.orders[sent:]
        assert (y_order.instrument_id, x_order.instrument_id) == (Y_ID, X_ID)
        events: list[object] = [y_order, _initialized(y_order), x_order]
        denied = denied_event(x_order)
        live.strategy.on_event(denied)
        events.append(denied)
        filled = fill_event(y_order)
        live.strategy.on_event(filled)
        events.append(filled)
        log.extend(events)
    return live, log


def _restored(log: list[object]) -> PairFeed:
    """What TradingNode.restore hands a strategy: its stored orders and order events
    (a SubmitOrder changed nothing in a strategy before the fix), then resume()."""
    restored = make_pair(retry_backoff_ns=100 * STEP_NS)
    for message in log:
        if isinstance(message, OrderEvent | SubmitOrder):
            restored.strategy.restore(message)
    restored.strategy.resume()
    return restored


def test_restored_entry_with_a_denied_leg_holds_no_single_leg() -> None:
    live, log = _live_and_log([ENTRY_SHOCK])
    live_targets = dict(live.strategy.targets)
    assert live_targets[Y_ID] and live_targets[X_ID]  # live still wants the hedge
    assert live.strategy.positions[X_ID] == 0  # and retries the denied leg

    restored = _restored(log)

    targets = restored.strategy.targets
    assert bool(targets[Y_ID]) == bool(targets[X_ID]), f"restored holds one leg: {targets}"


def test_restored_exit_with_a_denied_leg_keeps_no_orphan_leg() -> None:
    """Entered and filled; the exit's y order fills, its x order is denied: live still
    targets flat (and re-sends x); restored, the strategy must not hold x as FLAT."""
    live = make_pair(retry_backoff_ns=100 * STEP_NS)
    _, log = _entered(live)
    sent = len(live.orders)
    while len(live.orders) == sent:  # the spread comes back: the exit decision
        live.step(0)
    y_order, x_order = live.orders[sent:]
    denied = denied_event(x_order)
    filled = fill_event(y_order)
    live.strategy.on_event(denied)
    live.strategy.on_event(filled)
    log += [y_order, _initialized(y_order), x_order, denied, filled]
    assert live.strategy.targets == {Y_ID: 0, X_ID: 0}
    assert live.strategy.positions[X_ID] != 0

    restored = _restored(log)

    assert restored.strategy.targets == {Y_ID: 0, X_ID: 0}, (
        f"restored keeps the x leg as its target: {restored.strategy.targets}"
    )


def test_restored_spread_with_a_manual_fill_booked_to_the_strategy_is_kept() -> None:
    """A one-lot API order booked to the strategy fills after its entry: live keeps the
    entry's targets (and trades the lot back); restored, the strategy must not trade
    the whole spread out as if its own entry had been left half done."""
    live = make_pair()
    entry, log = _entered(live)
    lot = type(entry[0].quantity)(raw=10**9, precision=entry[0].quantity.precision)
    manual = msgspec.structs.replace(
        entry[0], client_order_id="manual-1", side=entry[1].side, quantity=lot
    )
    filled = fill_event(manual)
    live.strategy.on_event(filled)
    log += [manual, _initialized(manual), filled]

    restored = _restored(log)

    assert restored.strategy.state is live.strategy.state
    assert restored.strategy.targets == live.strategy.targets
