"""Benchmark of the pre-trade risk gate and of the kill switch.

* ``gate``: ``RiskEngine.execute(SubmitOrder)`` with every check on (state, instrument,
  venue breaker, shape, precision, quantity, notional, reference age, collar, reduce-only,
  margin, open orders, strategy and global order rate, cancel rate, duplicate id,
  self-trade against 20 own resting orders, position limit, strategy budget, gross and
  net exposure, daily loss, drawdown) on an approved order, each call timed alone with
  ``perf_counter_ns`` (the figure includes the timer pair). Between calls, outside the
  timed region, the order is canceled again and the clock moves on 10 µs; every 100 ms
  of simulated time (10,000 orders) fresh quotes arrive and the engine's timer runs, as
  the node's timer does.
* ``reference``: an empty function call with the same argument, timed the same way in
  the same run, so the ratio survives a noisy machine.
* ``quote``: ``RiskEngine.on_quote`` as the node calls it for every quote (reference,
  collar and expiry, mark, exposure and PnL rooms, price band, stale timer) on an
  instrument with an open position and 20 working orders: the mid moves on every other
  quote (the PnL, high-water mark and rooms follow), the others change sizes only. Timed
  alone like the gate, same reference.
* ``kill_10k``: one ``EngageKillSwitch`` with 10,000 working orders, through the risk
  engine and the order manager (each order: ``CancelOrder`` -> ``OrderPendingCancel``
  event through the state machine -> published -> sent), and risk alone.

GC is frozen after warm-up and disabled while timing, as in the node's hot loop.

    python benchmarks/bench_risk.py [--orders N] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from spreadwire.core.clock import SimClock
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.domain.commands import EngageKillSwitch, SubmitOrder
from spreadwire.domain.enums import LiquiditySide, OrderSide, OrderType
from spreadwire.domain.events import OrderCanceled, OrderFilled
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.values import Money, Price, Quantity
from spreadwire.oms.manager import OrderManager
from spreadwire.risk.config import RateLimit, RiskConfig
from spreadwire.risk.engine import RiskEngine

SECOND = 1_000_000_000
START = 1_700_000_000 * SECOND


def _instrument(symbol: str) -> Instrument:
    return Instrument(
        symbol=symbol,
        price_precision=2,
        size_precision=0,
        tick_size=Price.parse("0.01", 2),
        lot_size=Quantity.parse("1", 0),
        min_notional=Money.parse("10.00", "USD"),
    )


def _quote(instrument_id: str, now: int) -> QuoteTick:
    return QuoteTick(
        instrument_id=instrument_id,
        bid_price=Price.parse("100.00"),
        ask_price=Price.parse("100.02"),
        bid_size=Quantity.parse("500"),
        ask_size=Quantity.parse("500"),
        ts_event=now,
        ts_init=now,
    )


def _order(cid: str, side: OrderSide, price: str, quantity: str = "10") -> SubmitOrder:
    return SubmitOrder(
        strategy_id="S1",
        instrument_id="AAA.SIM",
        client_order_id=cid,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=Quantity.parse(quantity),
        price=Price.parse(price),
        ts_init=0,
    )


def _config(open_orders: int = 50_000) -> RiskConfig:
    fast = RateLimit(limit=1_000_000, interval_ns=SECOND)
    return RiskConfig(
        order_rate=fast,
        strategy_order_rate=fast,
        cancel_rate=fast,
        strategy_cancel_rate=fast,
        max_open_orders=open_orders,
        strategy_max_open_orders=open_orders,
        duplicate_id_memory=10_000_000,
        max_position="100000000",
        strategy_notional_budget="1000000000",
        max_gross_exposure="1000000000",
        max_net_exposure="1000000000",
    )


def _timed(
    call: Callable[[Any], object], args: list[Any], between: Callable[[int], None]
) -> LatencyHistogram:
    histogram = LatencyHistogram()
    record = histogram.record
    clock = time.perf_counter_ns
    for index, arg in enumerate(args):
        start = clock()
        call(arg)
        end = clock()
        record(end - start)
        between(index)
    return histogram


@contextmanager
def _collector_off() -> Iterator[None]:
    """Collect once, freeze what survived the warm-up, and keep the cyclic GC off while
    timing."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _engine_with_resting_orders(clock: SimClock) -> RiskEngine:
    """A risk engine with quotes on both instruments and 20 own resting orders on both
    sides (the self-trade check has work to do)."""
    instruments = {i.instrument_id: i for i in (_instrument("AAA"), _instrument("BBB"))}
    engine = RiskEngine(
        _config(), clock, instruments, forward=lambda command: None, publish=lambda event: None
    )
    for iid in instruments:
        engine.on_quote(_quote(iid, START))
    for i in range(10):
        engine.execute(_order(f"rest-b{i}", OrderSide.BUY, f"{99.50 - i / 100:.2f}"))
        engine.execute(_order(f"rest-s{i}", OrderSide.SELL, f"{100.50 + i / 100:.2f}"))
    return engine


def bench_gate(orders: int) -> tuple[LatencyHistogram, LatencyHistogram, int]:
    clock = SimClock(START)
    engine = _engine_with_resting_orders(clock)
    sides = (OrderSide.BUY, OrderSide.SELL)
    commands = [
        _order(f"g{i}", sides[i % 2], "100.00" if i % 2 else "100.02") for i in range(orders)
    ]
    cancels = [
        OrderCanceled(
            strategy_id="S1",
            instrument_id="AAA.SIM",
            client_order_id=c.client_order_id,
            ts_event=0,
            ts_init=0,
        )
        for c in commands
    ]
    on_event = engine.on_event
    refresh = [_quote("AAA.SIM", 0)]

    def between(index: int) -> None:
        on_event(cancels[index])
        clock.advance(10_000)
        if index % 10_000 == 0:
            now = clock.timestamp_ns()
            refresh[0] = _quote("AAA.SIM", now)
            engine.on_quote(refresh[0])
            engine.on_quote(_quote("BBB.SIM", now))
            engine.check(now)  # the node's 100 ms timer

    warm = min(20_000, orders // 5)
    _timed(engine.execute, commands[:warm], between)
    with _collector_off():
        gate = _timed(engine.execute, commands[warm:], lambda index: between(index + warm))

        def noop(command: object) -> bool:
            return True

        reference = _timed(noop, commands[warm:], lambda index: None)
    denied = engine.stats().denied
    return gate, reference, denied


def bench_quote(quotes: int) -> LatencyHistogram:
    clock = SimClock(START)
    engine = _engine_with_resting_orders(clock)
    engine.execute(_order("long", OrderSide.BUY, "100.02", "50"))
    engine.on_event(
        OrderFilled(
            strategy_id="S1",
            instrument_id="AAA.SIM",
            client_order_id="long",
            venue_order_id="V1",
            trade_id="T1",
            side=OrderSide.BUY,
            last_qty=Quantity.parse("50"),
            last_px=Price.parse("100.02"),
            cum_qty=Quantity.parse("50"),
            leaves_qty=Quantity.parse("0"),
            liquidity_side=LiquiditySide.TAKER,
            ts_event=START,
            ts_init=START,
        )
    )
    bids = ("100.00", "100.00", "100.01", "100.01", "99.99", "99.99", "100.01", "100.01")
    sizes = ("500", "300")
    stream = []
    for i in range(quotes):
        now = START + (i + 1) * 10_000
        bid = Price.parse(bids[i % len(bids)])
        stream.append(
            QuoteTick(
                instrument_id="AAA.SIM",
                bid_price=bid,
                ask_price=Price(raw=bid.raw + 20_000_000, precision=2),
                bid_size=Quantity.parse(sizes[i % 2]),
                ask_size=Quantity.parse("500"),
                ts_event=now,
                ts_init=now,
            )
        )

    def between(index: int) -> None:
        clock.advance(10_000)

    warm = min(20_000, quotes // 5)
    _timed(engine.on_quote, stream[:warm], between)
    with _collector_off():
        return _timed(engine.on_quote, stream[warm:], between)


def bench_kill(working: int, *, with_oms: bool) -> float:
    clock = SimClock(START)
    instruments = {i.instrument_id: i for i in (_instrument("AAA"), _instrument("BBB"))}
    published: list[object] = []
    sent: list[object] = []
    oms = OrderManager(clock, instruments, send=sent.append, publish=published.append)
    forward: Callable[[Any], None] = oms.execute if with_oms else (lambda command: None)
    engine = RiskEngine(
        _config(working + 10), clock, instruments, forward=forward, publish=published.append
    )
    engine.on_quote(_quote("AAA.SIM", START))
    for i in range(working):
        side = OrderSide.BUY if i % 2 else OrderSide.SELL
        engine.execute(_order(f"k{i}", side, "99.00" if i % 2 else "101.00", "1"))
    assert engine.stats().open_orders == working, engine.stats()
    sent.clear()
    kill = EngageKillSwitch(operator="bench", reason="drill", ts_init=0)
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        cancels = engine.engage_kill_switch(kill)
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    assert cancels == working
    if with_oms:
        assert len(sent) == working and len(oms.open_orders()) == working
    return elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    gate, reference, denied = bench_gate(args.orders)
    quote = bench_quote(args.orders)
    kill = min(bench_kill(10_000, with_oms=True) for _ in range(3))
    kill_risk = min(bench_kill(10_000, with_oms=False) for _ in range(3))
    result = {
        "gate_p50_ns": gate.percentile(0.5),
        "gate_p99_ns": gate.percentile(0.99),
        "gate_p999_ns": gate.percentile(0.999),
        "gate_mean_ns": round(gate.mean, 1),
        "gate_count": gate.count,
        "gate_denied": denied,
        "reference_p50_ns": reference.percentile(0.5),
        "reference_p99_ns": reference.percentile(0.99),
        "gate_to_reference_p50": round(gate.percentile(0.5) / max(1, reference.percentile(0.5)), 1),
        "quote_p50_ns": quote.percentile(0.5),
        "quote_p99_ns": quote.percentile(0.99),
        "kill_10k_ms": round(kill, 2),
        "kill_10k_risk_only_ms": round(kill_risk, 2),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"gate   p50 {result['gate_p50_ns']} ns  p99 {result['gate_p99_ns']} ns  "
        f"p99.9 {result['gate_p999_ns']} ns  (n={gate.count}, targets 1000 / 3000)"
    )
    print(
        f"ref    p50 {result['reference_p50_ns']} ns  p99 {result['reference_p99_ns']} ns  "
        f"(empty call, same timer) -> gate/ref p50 = {result['gate_to_reference_p50']}x"
    )
    print(
        f"quote  p50 {result['quote_p50_ns']} ns  p99 {result['quote_p99_ns']} ns  "
        "(RiskEngine.on_quote, position open, mid moving on every other quote)"
    )
    print(
        f"kill   10k working orders: {result['kill_10k_ms']} ms risk+OMS, "
        f"{result['kill_10k_risk_only_ms']} ms risk only (target 50 ms)"
    )


if __name__ == "__main__":
    main()
