"""Stress scenarios end to end: the right breaker trips, nothing risk-increasing gets
through while the node is REDUCING or HALTED, and the event log shows it."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig
from spreadwire.domain.enums import OrderSide, TradingState
from spreadwire.domain.events import OrderFill, OrderInitialized, TradingStateChanged
from spreadwire.node import Driver, Speed
from spreadwire.scenarios import apply_scenario

EXPECTED_TRIP = {
    "flash-crash": "PRICE_BAND",
    "stale-feed": "STALE_MARKET_DATA",
    "reject-storm": "VENUE_ERRORS",
    "fat-finger": "DENY_REJECT_RATE",
}


def _run(scenario: str) -> TradingNode:
    config = apply_scenario(NodeConfig(seed=5, pairs=2), scenario)
    node = TradingNode(config, store_url="memory://", latency_breaker=False)
    node.start()
    asyncio.run(Driver(node.now, node.advance).run(seconds=25.0, speed=Speed.MAX))
    node.close()
    return node


@pytest.fixture(scope="module", params=sorted(EXPECTED_TRIP))
def scenario_run(request: pytest.FixtureRequest) -> tuple[str, TradingNode]:
    return request.param, _run(request.param)


def test_scenario_trips_the_expected_breaker(scenario_run: tuple[str, TradingNode]) -> None:
    scenario, node = scenario_run

    trips = node.risk.breaker_trips

    assert trips, f"{scenario}: no breaker trip"
    assert str(trips[0]["reason"]).startswith(EXPECTED_TRIP[scenario])
    assert node.risk.trading_state is not TradingState.ACTIVE


def test_scenario_event_log_records_the_state_change(
    scenario_run: tuple[str, TradingNode],
) -> None:
    scenario, node = scenario_run

    changes = [
        e.message for e in node.recorder.read() if isinstance(e.message, TradingStateChanged)
    ]

    assert changes, scenario
    assert changes[0].reason.startswith(EXPECTED_TRIP[scenario])
    assert changes[0].state in (TradingState.REDUCING, TradingState.HALTED)


def test_scenario_no_risk_increasing_order_while_restricted(
    scenario_run: tuple[str, TradingNode],
) -> None:
    _, node = scenario_run
    state = TradingState.ACTIVE
    positions: dict[tuple[str, str], int] = defaultdict(int)
    checked = 0

    for entry in node.recorder.read():
        message = entry.message
        if isinstance(message, TradingStateChanged) and message.scope == "all":
            state = message.state
        elif isinstance(message, OrderFill):
            sign = 1 if message.side is OrderSide.BUY else -1
            positions[(message.strategy_id, message.instrument_id)] += sign * message.last_qty.raw
        elif isinstance(message, OrderInitialized) and state is not TradingState.ACTIVE:
            checked += 1
            assert state is not TradingState.HALTED, message.client_order_id
            held = positions[(message.strategy_id, message.instrument_id)]
            sign = 1 if message.side is OrderSide.BUY else -1
            assert held * sign < 0, f"{message.client_order_id} increases risk"
            assert message.quantity.raw <= abs(held), f"{message.client_order_id} flips"
