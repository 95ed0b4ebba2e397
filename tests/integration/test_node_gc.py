"""The node runs the garbage collector from its timer (between dispatches) while it runs,
and gives the process its collector thresholds back when it closes."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from spreadwire.app import TradingNode
from spreadwire.config import GcConfig, NodeConfig
from spreadwire.node import Driver, Speed


@pytest.fixture(autouse=True)
def _thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def _node(tmp_path: Path, gc_config: GcConfig) -> TradingNode:
    return TradingNode(
        NodeConfig(seed=5, pairs=1, gc=gc_config),
        store_url=f"sqlite:///{tmp_path / 'events.db'}",
        latency_breaker=False,
    )


def test_controlled_collection_runs_on_the_timer_and_is_undone_on_close(tmp_path: Path) -> None:
    node = _node(tmp_path, GcConfig(safety_limit=30_000, middle_every=5, full_every=20))
    node.start()
    assert gc.get_threshold() == (30_000, 10, 10)
    asyncio.run(Driver(node.now, node.advance).run(seconds=3.0, speed=Speed.MAX))
    node.close()
    node.recorder.close()
    # 100 ms timer: about 30 ticks in 3 simulated seconds
    young, middle, full = node.collector.collections
    assert full >= 1
    assert middle >= 4
    assert young + middle + full >= 25
    assert node.latency.stage("gc").count == young + middle + full
    assert gc.get_threshold() == (700, 10, 10)


def test_automatic_mode_leaves_the_collector_alone(tmp_path: Path) -> None:
    node = _node(tmp_path, GcConfig(mode="automatic"))
    node.start()
    assert gc.get_threshold() == (700, 10, 10)
    asyncio.run(Driver(node.now, node.advance).run(seconds=1.0, speed=Speed.MAX))
    node.close()
    node.recorder.close()
    assert node.collector.collections == [0, 0, 0]
    assert node.latency.stage("gc").count == 0
