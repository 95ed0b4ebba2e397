"""The shadow node that keeps the hot path warm: it trades on its own market, keeps
nothing, and leaves the real node's results exactly as they are without it."""

from __future__ import annotations

from typing import Any

import pytest

from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig
from spreadwire.scenarios import apply_scenario
from spreadwire.warmup import SHADOW_ID_MEMORY, ShadowNode, shadow_config

MS = 1_000_000


def test_shadow_config_differs_only_where_it_must() -> None:
    config = apply_scenario(
        apply_scenario(NodeConfig(seed=7, pairs=2), "flash-crash"), "fat-finger"
    )

    shadow = shadow_config(config)

    assert shadow.seed == 8
    assert shadow.venue.scenario is None
    assert shadow.store.url == "null://"
    assert shadow.gc.mode == "automatic"
    assert shadow.risk.duplicate_id_memory == SHADOW_ID_MEMORY
    assert int(shadow.risk.daily_loss_limit) > 10**9
    assert int(shadow.risk.max_drawdown) > 10**9
    assert config.strategy.size_multiplier > 1
    assert shadow.strategy.size_multiplier == 1
    # what it exercises is the real node's: strategies, limits per order, venue latencies
    assert shadow.strategy.window == config.strategy.window
    assert shadow.strategy.entry_z == config.strategy.entry_z
    assert shadow.pairs == config.pairs
    assert shadow.risk.max_order_notional == config.risk.max_order_notional
    assert shadow.venue.order_latency_ns == config.venue.order_latency_ns
    assert shadow_config(NodeConfig(seed=2**32 - 1)).seed == 0


def test_shadow_node_trades_on_its_own_market_and_keeps_no_event() -> None:
    shadow = ShadowNode(NodeConfig(seed=3, pairs=2))
    shadow.start(warm_up_s=15.0)

    for _ in range(1_000):  # 1,000 steps of 1 ms: one more simulated second
        shadow.step()
    shadow.close()

    assert shadow.node.orders > 0
    assert shadow.node.fills > 0
    assert "trading state ACTIVE" in shadow.describe()
    assert shadow.node.recorder.last_position() > 0
    assert list(shadow.node.recorder.read()) == []


def _results(node: TradingNode) -> dict[str, Any]:
    return {
        "orders": node.orders,
        "fills": node.fills,
        "denied": node.denied,
        "events": node.recorder.last_position(),
        "positions": node.position_rows(),
        "pnl": node.view().pnl_total,
    }


def _run(with_shadow: bool) -> dict[str, Any]:
    config = NodeConfig(seed=5, pairs=2)
    node = TradingNode(config, store_url="memory://", latency_breaker=False)
    node.start()
    shadow = ShadowNode(config) if with_shadow else None
    if shadow is not None:
        shadow.start(warm_up_s=5.0)
    end = node.now() + 30_000 * MS
    while node.now() < end:
        node.advance(min(end, node.now() + MS))
        if shadow is not None:
            shadow.step()
    node.close()
    if shadow is not None:
        shadow.close()
        assert shadow.node.orders > 0
    return _results(node)


@pytest.mark.slow
def test_shadow_node_leaves_the_real_nodes_results_unchanged() -> None:
    alone = _run(with_shadow=False)
    beside_a_shadow = _run(with_shadow=True)

    assert alone["orders"] > 0
    assert beside_a_shadow == alone
