"""The strategy engine: adding strategies, routing quotes and events, parameter changes."""

from __future__ import annotations

import pytest

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType
from spreadwire.errors import ValidationError
from spreadwire.stats import RollingOLS
from spreadwire.strategy.engine import StrategyEngine
from spreadwire.strategy.pairs import HedgeModel
from tests.builders import price, qty
from tests.unit.strategy.support import (
    STEP_NS,
    X_ID,
    X_START_CENTS,
    Y_ID,
    fill_event,
    instruments,
    pair_config,
    quote,
)


class Models:
    """A model factory that remembers every model it made."""

    def __init__(self) -> None:
        self.made: list[RollingOLS] = []

    def __call__(self, window: int) -> HedgeModel:
        model = RollingOLS(window)
        self.made.append(model)
        return model


def _engine() -> tuple[StrategyEngine, list[SubmitOrder], Models, SimClock]:
    clock = SimClock(0)
    orders: list[SubmitOrder] = []
    models = Models()
    engine = StrategyEngine(clock, instruments(), submit=orders.append, model_factory=models)
    return engine, orders, models, clock


def _feed(engine: StrategyEngine, clock: SimClock, steps: int, shock_cents: int = 0) -> None:
    for step in range(steps):
        clock.advance(STEP_NS)
        x_cents = X_START_CENTS + step
        engine.on_quote(quote(X_ID, x_cents, clock.timestamp_ns()))
        engine.on_quote(quote(Y_ID, 2 * x_cents + shock_cents, clock.timestamp_ns()))


def test_engine_add_builds_strategy_with_model_of_configured_window() -> None:
    engine, _, models, _ = _engine()

    strategy = engine.add(pair_config(window=25))

    assert engine.get("pairs.test") is strategy
    assert engine.strategies() == [strategy]
    assert strategy.instrument_ids == (Y_ID, X_ID)
    assert [m.window for m in models.made] == [25]
    assert strategy.model is models.made[0]


def test_engine_add_duplicate_strategy_id_raises_naming_strategy_id() -> None:
    engine, _, _, _ = _engine()
    engine.add(pair_config())

    with pytest.raises(ValidationError) as error:
        engine.add(pair_config())

    assert error.value.field == "strategy_id"
    assert "pairs.test" in str(error.value)


@pytest.mark.parametrize("field", ["leg_y", "leg_x"])
def test_engine_add_unknown_instrument_raises_naming_leg(field: str) -> None:
    engine, _, _, _ = _engine()

    with pytest.raises(ValidationError) as error:
        engine.add(pair_config(**{field: "NOPE.SIM"}))

    assert error.value.field == field
    assert "NOPE.SIM" in str(error.value)
    assert engine.strategies() == []


def test_engine_get_unknown_strategy_raises_naming_strategy_id() -> None:
    engine, _, _, _ = _engine()

    with pytest.raises(ValidationError) as error:
        engine.get("missing")

    assert error.value.field == "strategy_id"


def test_engine_on_quote_routes_to_strategies_of_instrument() -> None:
    engine, orders, models, clock = _engine()
    engine.add(pair_config())

    _feed(engine, clock, steps=30)

    assert models.made[0].count == 40
    assert orders == []


def test_engine_quote_of_other_instrument_is_ignored() -> None:
    engine, _, models, clock = _engine()
    engine.add(pair_config())

    engine.on_quote(quote("ZZZ.SIM", 100, clock.timestamp_ns()))

    assert models.made[0].count == 0


def test_engine_entry_signal_submits_orders_through_submit() -> None:
    engine, orders, _, clock = _engine()
    engine.add(pair_config())
    _feed(engine, clock, steps=21)

    clock.advance(STEP_NS)
    engine.on_quote(quote(X_ID, X_START_CENTS + 21, clock.timestamp_ns()))
    engine.on_quote(quote(Y_ID, 2 * (X_START_CENTS + 21) + 3, clock.timestamp_ns()))

    assert [(o.instrument_id, o.strategy_id) for o in orders] == [
        (Y_ID, "pairs.test"),
        (X_ID, "pairs.test"),
    ]


def test_engine_on_event_routes_fill_to_owning_strategy() -> None:
    engine, orders, _, clock = _engine()
    strategy = engine.add(pair_config())
    _feed(engine, clock, steps=21)
    clock.advance(STEP_NS)
    engine.on_quote(quote(X_ID, X_START_CENTS + 21, clock.timestamp_ns()))
    engine.on_quote(quote(Y_ID, 2 * (X_START_CENTS + 21) + 3, clock.timestamp_ns()))

    for order in orders:
        engine.on_event(fill_event(order))

    assert strategy.positions == strategy.targets
    assert strategy.in_flight == 0


def test_engine_event_of_unknown_strategy_is_ignored() -> None:
    engine, _, _, _ = _engine()
    strategy = engine.add(pair_config())
    stray = SubmitOrder(
        strategy_id="someone.else",
        instrument_id=Y_ID,
        client_order_id="someone.else-1",
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=qty("5"),
        price=price("1.00"),
        ts_init=0,
    )

    engine.on_event(fill_event(stray))

    assert strategy.positions == {Y_ID: 0, X_ID: 0}


def test_engine_start_and_stop_toggle_running() -> None:
    engine, _, _, _ = _engine()
    strategy = engine.add(pair_config())

    engine.stop("pairs.test")
    stopped = strategy.running
    engine.start("pairs.test")

    assert (stopped, strategy.running) == (False, True)


def test_engine_update_params_applies_valid_changes() -> None:
    engine, _, models, _ = _engine()
    strategy = engine.add(pair_config())

    config = engine.update_params("pairs.test", {"entry_z": 2.5, "notional": "5000"})

    assert (config.entry_z, config.notional) == (2.5, "5000")
    assert strategy.config is config
    assert len(models.made) == 1


def test_engine_update_params_window_change_resets_model() -> None:
    engine, _, models, clock = _engine()
    strategy = engine.add(pair_config())
    _feed(engine, clock, steps=25)

    engine.update_params("pairs.test", {"window": 50})

    assert [m.window for m in models.made] == [40, 50]
    assert strategy.model is models.made[1]
    assert models.made[1].count == 0


def test_engine_update_params_same_window_keeps_model() -> None:
    engine, _, models, _ = _engine()
    strategy = engine.add(pair_config())

    engine.update_params("pairs.test", {"window": 40, "exit_z": 0.8})

    assert strategy.model is models.made[0]


@pytest.mark.parametrize("field", ["strategy_id", "leg_y", "leg_x"])
def test_engine_update_params_identity_field_raises_naming_it(field: str) -> None:
    engine, _, _, _ = _engine()
    engine.add(pair_config())

    with pytest.raises(ValidationError) as error:
        engine.update_params("pairs.test", {field: "other"})

    assert error.value.field == field


def test_engine_update_params_unknown_parameter_raises_naming_it() -> None:
    engine, _, _, _ = _engine()
    strategy = engine.add(pair_config())
    before = strategy.config

    with pytest.raises(ValidationError) as error:
        engine.update_params("pairs.test", {"entry": 3.0})

    assert error.value.field == "entry"
    assert strategy.config is before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"exit_z": -1.0}, "exit_z"),
        ({"window": 5}, "window"),
        ({"notional": "ten"}, "notional"),
        ({"entry_z": "2"}, "entry_z"),
        ({"entry_z": 9.0}, "entry_z"),
        ({"min_beta": 30.0}, "min_beta"),
    ],
)
def test_engine_update_params_invalid_value_raises_naming_field_and_keeps_config(
    changes: dict[str, object], field: str
) -> None:
    engine, _, models, _ = _engine()
    strategy = engine.add(pair_config())
    before = strategy.config

    with pytest.raises(ValidationError) as error:
        engine.update_params("pairs.test", changes)

    assert error.value.field == field
    assert strategy.config is before
    assert strategy.model is models.made[0]
