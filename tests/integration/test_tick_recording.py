"""A node's ticks recorded to Parquet while it runs, and queried back with DuckDB."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq

from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig
from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.node import Driver, Speed
from spreadwire.persistence.tickrecorder import TickRecorder
from spreadwire.persistence.ticks import TickHistory
from tests.builders import make_trade


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


_KILLED_RECORDER = """
import sys, time
from spreadwire.persistence.tickrecorder import TickRecorder
from tests.builders import make_trade
recorder = TickRecorder(sys.argv[1], max_delay_ns=1_000_000_000, flush_s=0.2)
for n in range(50):  # one trade a second of tick time
    recorder.record(make_trade(trade_id=f"T{n}", ts_event=n * 1_000_000_000 + 1))
print("recorded", flush=True)
time.sleep(600)  # killed before close()
"""


def test_ticks_reach_parquet_without_close_so_a_kill_loses_little(tmp_path: Path) -> None:
    """Ticks are handed over after ``max_delay_ns`` of tick time and written after
    ``flush_s`` of wall time, not only per 1,000-tick hand-off and 10,000-row batch: a
    process killed with SIGKILL keeps what it recorded before that."""
    root = tmp_path / "ticks"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RECORDER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "recorded"
        deadline = time.monotonic() + 60
        rows = 0
        while rows < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
            files = list(root.rglob("*.parquet"))
            rows = sum(pq.read_metadata(f).num_rows for f in files)
    finally:
        child.kill()
        child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    history = TickHistory(root)
    trades = history.trades("AAA.SIM", 0, 2**62)
    history.close()

    assert trades.num_rows == 50


def test_a_handoff_of_one_hands_over_every_tick(tmp_path: Path) -> None:
    recorder = TickRecorder(tmp_path / "ticks", handoff=1)
    for n in range(3):
        recorder.record(make_trade(trade_id=f"T{n}", ts_event=n + 1))

    handed = recorder.recorded
    recorder.close()

    assert handed == 3
