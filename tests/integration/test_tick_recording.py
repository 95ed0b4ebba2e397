"""A node's ticks recorded to Parquet while it runs, and queried back with DuckDB."""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path

from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig
from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.node import Driver, Speed
from spreadwire.persistence.tickrecorder import TickRecorder
from spreadwire.persistence.ticks import TickHistory


def test_node_ticks_recorded_to_parquet_match_the_bus(tmp_path: Path) -> None:
    node = TradingNode(NodeConfig(seed=4, pairs=1), store_url="memory://", latency_breaker=False)
    recorder = TickRecorder(tmp_path / "ticks", handoff=100)
    seen: list[TradeTick] = []
    node.bus.subscribe((QuoteTick, TradeTick), recorder.record)
    node.bus.subscribe(TradeTick, seen.append)
    node.start()
    asyncio.run(Driver(node.now, node.advance).run(seconds=20.0, speed=Speed.MAX))
    node.close()
    recorded = recorder.close()
    history = TickHistory(tmp_path / "ticks")

    trades = history.trades("AAA.SIM", 0, 2**62)
    vwaps = {v.instrument_id: v for v in history.vwap(0, 2**62)}

    aaa = [t for t in seen if t.instrument_id == "AAA.SIM"]
    assert recorded > len(seen) > 0
    assert trades.num_rows == len(aaa)
    volume = sum(t.size.raw for t in aaa)
    expected = Fraction(sum(t.price.raw * t.size.raw for t in aaa), volume * 10**9)
    assert abs(Fraction(vwaps["AAA.SIM"].vwap) - expected) < Fraction(1, 10**6)
    history.close()
