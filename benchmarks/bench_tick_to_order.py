"""Tick-to-order latency of the full in-process chain, with a per-stage histogram.

A node runs on the simulated exchange as fast as it can (``--speed max``): every venue
book delta goes through market data → strategy → risk → OMS → venue gateway. The
``tick_to_order`` stage is measured from the delta's arrival to the order being handed
to the venue gateway, for every delta that produced an order.

Reference, measured in the same run: a minimal loop doing the least a quote-to-order
path can do in Python (read a delta, update a top of book, build a quote and an order
message, call a send function), timed the same way.

    python benchmarks/bench_tick_to_order.py [--seconds 120] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import sys
import tempfile
from pathlib import Path

import msgspec

from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig, StrategyDefaults
from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import BookAction, BookSide, OrderSide, OrderType, TimeInForce
from spreadwire.domain.market import BookDelta, QuoteTick
from spreadwire.domain.values import Price, Quantity
from spreadwire.node import Driver, Speed

TARGETS = {"p50_ns": 10_000, "p99_ns": 30_000, "p999_ns": 100_000}


def reference_loop(samples: int) -> LatencyHistogram:
    """Delta in -> top of book -> quote -> order -> send, with no engine in between."""
    histogram = LatencyHistogram("reference")
    sent: list[SubmitOrder] = []
    send = sent.append
    bids: dict[int, int] = {}
    deltas = [
        BookDelta(
            instrument_id="AAA.SIM",
            action=BookAction.UPDATE,
            side=BookSide.BID,
            price=Price(raw=(10_000 + i % 7) * 10_000_000, precision=2),
            size=Quantity(raw=(1 + i % 5) * 10**9, precision=0),
            sequence=i + 1,
            last=True,
            ts_event=i,
            ts_init=i,
        )
        for i in range(samples)
    ]
    ask = Price(raw=101 * 10**9, precision=2)
    ask_size = Quantity(raw=10 * 10**9, precision=0)
    for i, delta in enumerate(deltas):
        start = perf_counter_ns()
        bids[delta.price.raw] = delta.size.raw
        best = max(bids)
        quote = QuoteTick(
            instrument_id=delta.instrument_id,
            bid_price=Price(raw=best, precision=2),
            ask_price=ask,
            bid_size=Quantity(raw=bids[best], precision=0),
            ask_size=ask_size,
            ts_event=delta.ts_event,
            ts_init=i,
        )
        send(
            SubmitOrder(
                strategy_id="reference",
                instrument_id=quote.instrument_id,
                client_order_id=f"reference-{i}",
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=Quantity(raw=10**9, precision=0),
                price=quote.ask_price,
                time_in_force=TimeInForce.IOC,
                ts_init=i,
            )
        )
        histogram.record(perf_counter_ns() - start)
        if len(bids) > 64:
            bids.clear()
    return histogram


def run_node(seconds: float, pairs: int) -> TradingNode:
    config = NodeConfig(
        seed=11,
        pairs=pairs,
        strategy=StrategyDefaults(window=100, entry_z=1.0, exit_z=0.25, stop_z=6.0),
    )
    with tempfile.TemporaryDirectory() as directory:
        node = TradingNode(
            config,
            store_url=f"sqlite:///{Path(directory) / 'events.db'}",
            latency_breaker=False,
        )
        node.start()
        driver = Driver(node.now, node.advance)
        # warm up (imports, numba, caches), then measure from a clean slate
        asyncio.run(driver.run(seconds=min(10.0, seconds / 4), speed=Speed.MAX))
        for name in node.latency.names():
            node.latency.stage(name).reset()
        gc.collect()
        gc.freeze()
        asyncio.run(driver.run(seconds=seconds, speed=Speed.MAX))
        gc.unfreeze()
        node.close()
        node.recorder.close()
    return node


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="simulated seconds")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    node = run_node(args.seconds, args.pairs)
    tick = node.latency.stage("tick_to_order")
    first = node.latency.stage("first_order")
    reference = reference_loop(max(tick.count, 20_000))
    stages = {name: node.latency.stage(name).summary() for name in node.latency.names()}
    result = {
        "p50_ns": tick.percentile(0.5),
        "p99_ns": tick.percentile(0.99),
        "p999_ns": tick.percentile(0.999),
        "max_ns": tick.max,
        "samples": tick.count,
        "reference_p50_ns": reference.percentile(0.5),
        "reference_p99_ns": reference.percentile(0.99),
        "p50_vs_reference": round(tick.percentile(0.5) / max(1, reference.percentile(0.5)), 2),
        # the first order a delta causes (a pair's second leg waits for the first one)
        "first_order_p50_ns": first.percentile(0.5),
        "first_order_p99_ns": first.percentile(0.99),
        "orders": node.orders,
        "fills": node.fills,
        "stages": {name: msgspec.structs.asdict(s) for name, s in stages.items()},
        "targets": TARGETS,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"tick-to-order over {tick.count} orders ({node.orders} orders, {node.fills} fills)")
    print(f"{'stage':<14}{'count':>9}{'p50 µs':>10}{'p99 µs':>10}{'p99.9 µs':>10}{'max µs':>10}")
    for name, s in stages.items():
        if s.count:
            print(
                f"{name:<14}{s.count:>9}{s.p50 / 1e3:>10.1f}{s.p99 / 1e3:>10.1f}"
                f"{s.p999 / 1e3:>10.1f}{s.max / 1e3:>10.1f}"
            )
    print(
        f"reference loop p50 {reference.percentile(0.5) / 1e3:.2f} µs, "
        f"p99 {reference.percentile(0.99) / 1e3:.2f} µs; "
        f"chain p50 = {result['p50_vs_reference']}x reference"
    )
    for key, target in TARGETS.items():
        verdict = "ok" if int(result[key]) <= target else "MISSED"  # type: ignore[call-overload]
        print(f"target {key} <= {target / 1e3:.0f} µs: {int(result[key]) / 1e3:.1f} µs {verdict}")  # type: ignore[call-overload]
    return 0


if __name__ == "__main__":
    sys.exit(main())
