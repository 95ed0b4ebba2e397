"""The pairs strategy on a real rolling OLS hedge, fed quotes with a controlled spread."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
from spreadwire.domain.events import OrderEvent, OrderExpired, OrderRejected
from spreadwire.domain.values import FIXED_SCALAR
from spreadwire.strategy.pairs import SpreadState
from tests.unit.strategy.support import (
    STEP_NS,
    WARMUP_STEPS,
    WINDOW,
    X_ID,
    Y_ID,
    PairFeed,
    canceled_event,
    denied_event,
    make_pair,
    quote,
    signed_raw,
)

ENTRY_SHOCK = 3  # cents: z about 3.1, between entry_z (2.0) and stop_z (3.5)
STOP_SHOCK = 6  # cents after an entry at ENTRY_SHOCK: z about 3.8, beyond stop_z
OVER_STOP_SHOCK = 10  # cents from flat: z about 5.1, beyond stop_z


def _short_spread() -> PairFeed:
    """Warmed up, entered SHORT and both entry orders filled."""
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)
    feed.fill_all()
    return feed


def test_strategy_warming_up_sends_no_orders_until_window_full() -> None:
    feed = make_pair()

    for _ in range(WARMUP_STEPS - 1):
        feed.step(ENTRY_SHOCK * 10)

    assert feed.orders == []
    assert math.isnan(feed.strategy.zscore)
    assert feed.strategy.state is SpreadState.FLAT


def test_strategy_warmed_up_with_spread_on_line_stays_flat() -> None:
    feed = make_pair()

    feed.warm_up()
    feed.step()

    assert not math.isnan(feed.strategy.zscore)
    assert feed.strategy.beta == pytest.approx(2.0, rel=1e-6)
    assert feed.orders == []


def test_strategy_z_above_entry_enters_short_selling_y_at_bid_buying_x_at_ask() -> None:
    feed = make_pair()
    feed.warm_up()

    feed.step(ENTRY_SHOCK)

    z = feed.zscores[-1]
    assert feed.strategy.config.entry_z <= z < feed.strategy.config.stop_z
    assert feed.strategy.state is SpreadState.SHORT
    sell_y, buy_x = feed.orders
    assert (sell_y.instrument_id, sell_y.side) == (Y_ID, OrderSide.SELL)
    assert (buy_x.instrument_id, buy_x.side) == (X_ID, OrderSide.BUY)
    x_cents = 10_000 + feed.steps - 1
    assert sell_y.price is not None and buy_x.price is not None
    assert sell_y.price.raw == (2 * x_cents + ENTRY_SHOCK - 1) * 10_000_000  # y bid
    assert buy_x.price.raw == (x_cents + 1) * 10_000_000  # x ask
    for order in (sell_y, buy_x):
        assert order.order_type is OrderType.LIMIT
        assert order.time_in_force is TimeInForce.IOC
        assert order.strategy_id == "pairs.test"


def test_strategy_entry_sizes_y_by_notional_and_x_by_beta_on_lots() -> None:
    feed = make_pair()
    feed.warm_up()

    feed.step(ENTRY_SHOCK)

    sell_y, buy_x = feed.orders
    y_mid = (2 * (10_000 + feed.steps - 1) + ENTRY_SHOCK) / 100
    assert sell_y.quantity.raw % FIXED_SCALAR == 0 and buy_x.quantity.raw % FIXED_SCALAR == 0
    assert sell_y.quantity.raw // FIXED_SCALAR == int(10_000 / y_mid)
    assert buy_x.quantity.raw // FIXED_SCALAR == int(
        sell_y.quantity.raw // FIXED_SCALAR * feed.strategy.beta
    )
    assert feed.strategy.targets == {Y_ID: signed_raw(sell_y), X_ID: signed_raw(buy_x)}


def test_strategy_z_below_minus_entry_enters_long_buying_y_selling_x() -> None:
    feed = make_pair()
    feed.warm_up()

    feed.step(-4)

    assert feed.zscores[-1] <= -feed.strategy.config.entry_z
    assert feed.strategy.state is SpreadState.LONG
    assert [(o.instrument_id, o.side) for o in feed.orders] == [
        (Y_ID, OrderSide.BUY),
        (X_ID, OrderSide.SELL),
    ]


def test_strategy_z_beyond_stop_when_flat_does_not_enter() -> None:
    feed = make_pair()
    feed.warm_up()

    feed.step(OVER_STOP_SHOCK)

    assert feed.zscores[-1] >= feed.strategy.config.stop_z
    assert feed.strategy.state is SpreadState.FLAT
    assert feed.orders == []


def test_strategy_beta_outside_bounds_does_not_enter() -> None:
    feed = make_pair(max_beta=1.5)
    feed.warm_up()

    feed.step(ENTRY_SHOCK)

    assert feed.zscores[-1] >= feed.strategy.config.entry_z
    assert feed.orders == []
    assert feed.strategy.state is SpreadState.FLAT


def test_strategy_fills_move_positions_to_targets() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)

    feed.fill_all()

    assert feed.strategy.positions == feed.strategy.targets
    assert feed.strategy.positions[Y_ID] < 0 < feed.strategy.positions[X_ID]
    assert feed.strategy.in_flight == 0


def test_strategy_short_spread_reverting_to_exit_flattens_both_legs() -> None:
    feed = _short_spread()
    entered = list(feed.orders)

    feed.step()

    assert feed.zscores[-1] <= feed.strategy.config.exit_z
    assert feed.strategy.state is SpreadState.FLAT
    exit_y, exit_x = feed.orders[len(entered) :]
    assert (exit_y.instrument_id, exit_y.side, exit_y.quantity) == (
        Y_ID,
        OrderSide.BUY,
        entered[0].quantity,
    )
    assert (exit_x.instrument_id, exit_x.side, exit_x.quantity) == (
        X_ID,
        OrderSide.SELL,
        entered[1].quantity,
    )


def test_strategy_exit_fills_return_positions_to_flat() -> None:
    feed = _short_spread()
    feed.step()

    feed.fill_all()

    assert feed.strategy.positions == {Y_ID: 0, X_ID: 0}


def test_strategy_short_spread_between_exit_and_stop_holds() -> None:
    feed = _short_spread()
    sent = len(feed.orders)

    feed.step(ENTRY_SHOCK + 2)

    config = feed.strategy.config
    assert all(config.exit_z < z < config.stop_z for z in feed.zscores[-2:])
    assert feed.strategy.state is SpreadState.SHORT
    assert len(feed.orders) == sent


def test_strategy_z_beyond_stop_stops_out_and_flattens() -> None:
    feed = _short_spread()
    sent = len(feed.orders)

    feed.step(STOP_SHOCK)

    assert feed.zscores[-1] >= feed.strategy.config.stop_z
    assert feed.strategy.state is SpreadState.FLAT
    assert [(o.instrument_id, o.side) for o in feed.orders[sent:]] == [
        (Y_ID, OrderSide.BUY),
        (X_ID, OrderSide.SELL),
    ]


def test_strategy_after_stop_entry_signal_within_cooldown_is_ignored() -> None:
    feed = _short_spread()
    feed.step(STOP_SHOCK)
    feed.fill_all()
    sent = len(feed.orders)

    feed.step()

    assert feed.zscores[-2] >= feed.strategy.config.entry_z
    assert feed.strategy.state is SpreadState.FLAT
    assert len(feed.orders) == sent


def test_strategy_after_stop_entry_signal_after_cooldown_enters() -> None:
    feed = _short_spread()
    feed.step(STOP_SHOCK)
    feed.fill_all()
    sent = len(feed.orders)
    feed.clock.advance(feed.strategy.config.cooldown_ns)

    feed.step()

    assert feed.zscores[-2] >= feed.strategy.config.entry_z
    assert len(feed.orders) == sent + 2
    assert feed.orders[sent].side is OrderSide.SELL


def test_strategy_orders_in_flight_block_new_orders() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)

    feed.step()  # exit signal while both entry orders are still working
    feed.step()

    assert len(feed.orders) == 2
    assert feed.strategy.in_flight == 2
    assert feed.strategy.targets == {Y_ID: 0, X_ID: 0}


def test_strategy_partial_fill_keeps_slot_until_terminal_event() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)
    sell_y, buy_x = feed.orders
    feed.fill(buy_x)

    feed.fill(sell_y, quantity_raw=10 * FIXED_SCALAR)
    feed.step(ENTRY_SHOCK)

    assert feed.strategy.positions[Y_ID] == -10 * FIXED_SCALAR
    assert feed.strategy.in_flight == 1
    assert len(feed.orders) == 2


def test_strategy_cancel_of_ioc_remainder_frees_slot_and_resends_rest() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)
    sell_y, buy_x = feed.orders
    feed.fill(buy_x)
    feed.fill(sell_y, quantity_raw=10 * FIXED_SCALAR)

    feed.strategy.on_event(canceled_event(sell_y))
    feed.step(ENTRY_SHOCK + 2)

    assert feed.strategy.state is SpreadState.SHORT
    resent = feed.orders[2:]
    assert [(o.instrument_id, o.side) for o in resent] == [(Y_ID, OrderSide.SELL)]
    assert resent[0].quantity.raw == sell_y.quantity.raw - 10 * FIXED_SCALAR


def _rejected(order: SubmitOrder) -> OrderEvent:
    return OrderRejected(
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        reason="INVALID_PRICE",
        ts_event=0,
        ts_init=0,
    )


def _expired(order: SubmitOrder) -> OrderEvent:
    return OrderExpired(
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        ts_event=0,
        ts_init=0,
    )


@pytest.mark.parametrize("terminal", [_rejected, denied_event, _expired, canceled_event])
def test_strategy_terminal_events_free_slots_and_positions_stay(
    terminal: Callable[[SubmitOrder], OrderEvent],
) -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)

    for order in feed.orders:
        feed.strategy.on_event(terminal(order))

    assert feed.strategy.in_flight == 0
    assert feed.strategy.positions == {Y_ID: 0, X_ID: 0}


def test_strategy_terminal_event_for_one_leg_keeps_other_leg_in_flight() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)
    sell_y, _ = feed.orders

    feed.strategy.on_event(_rejected(sell_y))
    feed.step(ENTRY_SHOCK + 2)

    assert feed.strategy.in_flight == 1
    assert len(feed.orders) == 2


def test_strategy_client_order_ids_are_unique_and_prefixed() -> None:
    feed = _short_spread()

    feed.step()

    ids = [o.client_order_id for o in feed.orders]
    assert ids == ["pairs.test-1", "pairs.test-2", "pairs.test-3", "pairs.test-4"]


def test_strategy_stopped_ignores_entry_signal() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.strategy.stop()

    feed.step(ENTRY_SHOCK)

    assert feed.zscores[-1] >= feed.strategy.config.entry_z
    assert feed.orders == []
    assert feed.strategy.state is SpreadState.FLAT


def test_strategy_stopped_keeps_model_warm_and_restart_enters() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.strategy.stop()
    feed.step()

    feed.strategy.start()
    feed.step(ENTRY_SHOCK)

    assert feed.strategy.state is SpreadState.SHORT
    assert len(feed.orders) == 2


def test_strategy_stopped_with_open_spread_still_exits_on_signal() -> None:
    feed = _short_spread()
    feed.strategy.stop()

    feed.step()

    assert feed.strategy.state is SpreadState.FLAT
    assert [o.side for o in feed.orders[2:]] == [OrderSide.BUY, OrderSide.SELL]


def test_strategy_flatten_after_stop_trades_position_out() -> None:
    feed = _short_spread()
    feed.strategy.stop()

    feed.strategy.flatten()
    feed.step(ENTRY_SHOCK + 2)  # no exit signal: only the flatten moves the targets

    assert feed.strategy.targets == {Y_ID: 0, X_ID: 0}
    assert [o.side for o in feed.orders[2:]] == [OrderSide.BUY, OrderSide.SELL]


def test_strategy_quote_of_one_leg_only_does_nothing() -> None:
    feed = make_pair()

    for _ in range(WINDOW * 2):
        feed.clock.advance(STEP_NS)
        feed.strategy.on_quote(quote(X_ID, 10_000, feed.clock.timestamp_ns()))

    assert math.isnan(feed.strategy.zscore)
    assert feed.orders == []


def test_strategy_short_spread_overshooting_past_zero_exits() -> None:
    feed = _short_spread()

    feed.step(-4)

    config = feed.strategy.config
    assert -config.stop_z < feed.zscores[-1] < -config.exit_z
    assert feed.strategy.state is SpreadState.FLAT
    assert [o.side for o in feed.orders[2:]] == [OrderSide.BUY, OrderSide.SELL]


def test_strategy_ignores_a_quote_of_another_instrument() -> None:
    feed = make_pair()
    feed.warm_up()
    feed.step(ENTRY_SHOCK)
    orders = len(feed.orders)
    zscore = feed.strategy.zscore

    feed.strategy.on_quote(quote("ZZZ.SIM", 12_345, feed.clock.timestamp_ns()))

    assert feed.strategy.zscore == zscore  # no model update (a repeated pair would move it)
    assert len(feed.orders) == orders


def test_strategy_entry_too_large_for_a_quantity_is_skipped_not_raised() -> None:
    """A notional the API accepts (up to 18 digits) can size an entry past the int64 raw
    range of a Quantity: the strategy must not enter (nor raise on the quote path, which
    would stop the node's dispatch)."""
    feed = make_pair(notional="999999999999999999.999999999")
    feed.warm_up()

    feed.step(ENTRY_SHOCK)

    assert feed.orders == []
    assert feed.strategy.state is SpreadState.FLAT
