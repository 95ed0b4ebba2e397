"""Risk limits changed at run time (the operator's audited command) and restored."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from spreadwire.domain.enums import OrderSide
from spreadwire.risk.config import RiskConfig
from tests.unit.risk.support import Harness


class ChangeRiskLimits(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Stands for the node's stored command of the same tag."""

    operator: str
    changes: dict[str, Any]
    ts_init: int


def test_change_limits_lower_max_position_counts_working_orders() -> None:
    h = Harness()
    assert h.submit(OrderSide.BUY, "10", "100.00")

    h.engine.change_limits({"max_position": "15"})

    assert not h.submit(OrderSide.BUY, "10", "100.00")
    assert h.last_denial() == "POSITION_LIMIT"
    assert h.submit(OrderSide.BUY, "5", "100.00")


def test_change_limits_higher_max_order_quantity_lets_a_larger_order_through() -> None:
    h = Harness(RiskConfig(max_order_quantity="10"))
    assert not h.submit(OrderSide.BUY, "20", "100.00")

    config = h.engine.change_limits({"max_order_quantity": "50"})

    assert config.max_order_quantity == "50"
    assert h.engine.config is config
    assert h.submit(OrderSide.BUY, "20", "100.00")


def test_change_limits_narrower_collar_applies_to_the_current_reference() -> None:
    h = Harness()

    h.engine.change_limits({"collar_bps": 10})

    assert not h.submit(OrderSide.BUY, "1", "99.80")
    assert h.last_denial() == "PRICE_COLLAR"


def test_change_limits_lower_strategy_budget_denies_past_it() -> None:
    h = Harness()
    assert h.submit(OrderSide.BUY, "10", "100.00")

    h.engine.change_limits({"strategy_notional_budget": "1500"})

    assert not h.submit(OrderSide.BUY, "10", "100.00")
    assert h.last_denial() == "STRATEGY_NOTIONAL_BUDGET"


def test_change_limits_new_order_rate_takes_effect_at_once() -> None:
    h = Harness()

    h.engine.change_limits({"strategy_order_rate": {"limit": 1, "interval_ns": 10**9}})

    assert h.submit(OrderSide.BUY, "1", "100.00")
    assert not h.submit(OrderSide.BUY, "1", "100.00")
    assert h.last_denial() == "STRATEGY_ORDER_RATE"


def test_change_limits_invalid_value_raises_and_changes_nothing() -> None:
    h = Harness()

    with pytest.raises(msgspec.ValidationError, match="max_position"):
        h.engine.change_limits({"max_position": "a lot"})

    assert h.engine.config == RiskConfig()


def test_change_limits_of_the_breaker_is_refused() -> None:
    h = Harness()

    with pytest.raises(msgspec.ValidationError, match="breaker"):
        h.engine.change_limits({"breaker": {}})


def test_restore_limit_change_applies_it_without_publishing() -> None:
    h = Harness()
    h.published.clear()

    h.engine.restore(ChangeRiskLimits(operator="ops", changes={"max_position": "5"}, ts_init=0))

    assert h.engine.config.max_position == "5"
    assert h.published == []


def test_restore_invalid_limit_change_changes_nothing() -> None:
    h = Harness()

    h.engine.restore(ChangeRiskLimits(operator="ops", changes={"max_position": "-1"}, ts_init=0))

    assert h.engine.config == RiskConfig()
