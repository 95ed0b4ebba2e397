"""Matching-engine throughput: mixed add / cancel / market operations per second.

One seeded operation stream runs through each engine: about 48% passive limit orders
(1-20 ticks from 100.00), 9% marketable limits (0-3 ticks through), 35% cancels (90% of
adds are canceled 1-4,000 operations later unless filled) and 8% market orders, sizes
1-30 lots, after 2,000 prefill adds; the resting book stays around a thousand orders.
The engines are

* ``OrderBook``, the venue's book (dict of levels + heaps + tombstone cancels),
* ``ReferenceBook``, a plain sorted-list book measured in the same run (the ratio),
* ``OrderBook`` with the cyclic GC frozen and disabled during the loop,
* ``OrderBook`` interpreted: ``venue/book.py`` is compiled with mypyc (``setup.py``); the
  same source run by the interpreter shows what the compilation buys,
* ``SimulatedExchange`` (background fast path): the same stream including L2 deltas and
  trade ticks built as msgspec messages.

Every figure is the best of several rounds (the median is printed too). Target (issue
#3): >= 1M ops/s for the book.

    python benchmarks/bench_matching.py            # a table
    python benchmarks/bench_matching.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from interpreted import interpreted, is_compiled
from spreadwire.core.clock import SimClock, perf_counter_ns
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import Money, Price, Quantity
from spreadwire.venue.book import NO_LIMIT, BookOrder, OrderBook
from spreadwire.venue.exchange import SimulatedExchange
from spreadwire.venue.reference import ReferenceBook

TARGET_OPS_PER_S = 1_000_000
TICK = 10_000_000  # 0.01 at scale 1e9
LOT = 1_000_000_000
MID = 10_000 * TICK
ADD, CANCEL, MARKET = 0, 1, 2
RING = 4096  # a cancel targets one of the last 4,096 adds; older orders are not kept
Ops = list[tuple[int, bool, int, int, int]]


def make_operations(count: int, seed: int, prefill: int) -> Ops:
    """(kind, is_buy, price, quantity, cancel slot) tuples; the first ``prefill`` are adds.

    Each add is canceled later with probability 0.9, after 1..4,000 operations (if it has
    not filled by then), so cancels hit distinct orders and the book stays stationary.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    draw = rng.random(count).tolist()
    is_buy = (rng.random(count) < 0.5).tolist()
    offset = rng.integers(1, 21, size=count).tolist()
    cross = rng.integers(0, 4, size=count).tolist()
    size = rng.integers(1, 31, size=count).tolist()
    lifetime = rng.integers(1, 4_001, size=count).tolist()
    doomed = (rng.random(count) < 0.9).tolist()
    due: list[tuple[int, int, bool]] = []  # (op index, add sequence, side)
    ops: Ops = []
    adds = 0
    for i in range(count):
        if due and due[0][0] <= i and i >= prefill:
            _, sequence, buy = heappop(due)
            ops.append((CANCEL, buy, 0, 0, sequence % RING))
            continue
        buy = is_buy[i]
        u = 0.0 if i < prefill else draw[i]
        if u < 0.85:
            ticks = offset[i] if u < 0.72 else -cross[i]
            price = MID - ticks * TICK if buy else MID + ticks * TICK
            ops.append((ADD, buy, price, size[i] * LOT, 0))
            if doomed[i]:
                heappush(due, (i + lifetime[i], adds, buy))
            adds += 1
        else:
            ops.append((MARKET, buy, 0, size[i] * LOT, 0))
    return ops


def run_book(book: Any, ops: Ops, order_type: Any = BookOrder) -> int:
    """Apply ``ops`` the way the exchange does; return the number of fills. ``order_type``
    is the ``BookOrder`` of the same build as ``book``."""
    execute, cancel, clear = book.execute, book.cancel, book.clear_touched
    placed: list[Any] = [None] * RING
    adds = 0
    fills = 0
    for order_id, (kind, is_buy, price, quantity, target) in enumerate(ops, 1):
        if kind == ADD:
            order = order_type(order_id, is_buy, price, quantity)
            fills += len(execute(order, price, True))
            placed[adds % RING] = order
            adds += 1
        elif kind == CANCEL:
            victim = placed[target]
            if victim is not None:
                cancel(victim)
        else:
            fills += len(execute(order_type(order_id, is_buy, 0, quantity), NO_LIMIT, False))
        clear()
    return fills


def run_exchange(ops: Ops) -> int:
    """The same stream through SimulatedExchange, with L2 deltas and trades emitted."""
    counts = [0]

    def sink(_: object) -> None:
        counts[0] += 1

    instrument = Instrument(
        symbol="AAA",
        price_precision=2,
        size_precision=0,
        tick_size=Price.parse("0.01"),
        lot_size=Quantity.parse("1"),
        min_notional=Money.parse("1", "USD"),
    )
    exchange = SimulatedExchange(
        [instrument], SimClock(0), on_report=sink, on_delta=sink, on_trade=sink
    )
    place, withdraw = exchange.place, exchange.withdraw
    iid = instrument.instrument_id
    placed: list[Any] = [None] * RING
    adds = 0
    for kind, is_buy, price, quantity, target in ops:
        if kind == ADD:
            placed[adds % RING] = place("mm", iid, is_buy, price, quantity)
            adds += 1
        elif kind == CANCEL:
            if (order := placed[target]) is not None:
                withdraw(order)
        else:
            place("taker", iid, is_buy, None, quantity)
    return counts[0]


def _timed(run: Callable[[], object], *, gc_off: bool) -> float:
    gc.collect()
    if gc_off:
        gc.freeze()
        gc.disable()
    start = perf_counter_ns()
    run()
    elapsed = perf_counter_ns() - start
    if gc_off:
        gc.enable()
        gc.unfreeze()
    return elapsed / 1e9


def bench(count: int, rounds: int, seed: int) -> dict[str, object]:
    ops = make_operations(count, seed, prefill=2_000)
    plain = interpreted("spreadwire.venue.book")
    fills = run_book(OrderBook(), ops)
    assert fills == run_book(ReferenceBook(), ops), "books disagree"
    assert fills == run_book(plain.OrderBook(), ops, plain.BookOrder), "builds disagree"
    engines: dict[str, tuple[Callable[[], object], bool]] = {
        "book": (lambda: run_book(OrderBook(), ops), False),
        "reference": (lambda: run_book(ReferenceBook(), ops), False),
        "book_gc_off": (lambda: run_book(OrderBook(), ops), True),
        "book_interpreted": (lambda: run_book(plain.OrderBook(), ops, plain.BookOrder), False),
        "exchange": (lambda: run_exchange(ops), False),
    }
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(rounds):  # interleaved, so machine noise hits every engine alike
        for name, (run, gc_off) in engines.items():
            times[name].append(_timed(run, gc_off=gc_off))
    best = {name: count / min(t) for name, t in times.items()}
    median = {name: count / statistics.median(t) for name, t in times.items()}
    return {
        "ops": count,
        "rounds": rounds,
        "seed": seed,
        "ops_per_s": round(best["book"]),
        "ops_per_s_median": round(median["book"]),
        "reference_ops_per_s": round(best["reference"]),
        "ratio": round(best["book"] / best["reference"], 2),
        "ops_per_s_gc_off": round(best["book_gc_off"]),
        "compiled": is_compiled(sys.modules[OrderBook.__module__]),
        "interpreted_ops_per_s": round(best["book_interpreted"]),
        "compiled_vs_interpreted": round(best["book"] / best["book_interpreted"], 2),
        "exchange_ops_per_s": round(best["exchange"]),
        "median": {name: round(value) for name, value in median.items()},
        "target_ops_per_s": TARGET_OPS_PER_S,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def print_table(result: dict[str, object]) -> None:
    median = result["median"]
    assert isinstance(median, dict)
    reference = result["reference_ops_per_s"]
    assert isinstance(reference, int)
    rows = [
        ("OrderBook", result["ops_per_s"], median["book"]),
        ("ReferenceBook (sorted lists)", reference, median["reference"]),
        ("OrderBook, GC frozen+off", result["ops_per_s_gc_off"], median["book_gc_off"]),
        ("OrderBook, interpreted", result["interpreted_ops_per_s"], median["book_interpreted"]),
        ("SimulatedExchange + L2/trades", result["exchange_ops_per_s"], median["exchange"]),
    ]
    build = "compiled (mypyc)" if result["compiled"] else "interpreted (SPREADWIRE_PURE=1)"
    print(f"mixed ops: {result['ops']:,} x {result['rounds']} rounds, seed {result['seed']}")
    print(f"OrderBook as installed: {build}")
    print(f"{'engine':<32}{'best ops/s':>14}{'median ops/s':>14}{'vs reference':>14}")
    for name, best, med in rows:
        assert isinstance(best, int)
        print(f"{name:<32}{best:>14,}{med:>14,}{best / reference:>13.2f}x")
    verdict = "met" if result["ops_per_s"] >= TARGET_OPS_PER_S else "NOT met"  # type: ignore[operator]
    print(f"target >= {TARGET_OPS_PER_S:,} ops/s: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ops", type=int, default=300_000, help="operations per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.ops < 10_000 or args.rounds < 1:
        parser.error("--ops must be >= 10000 and --rounds >= 1")
    result = bench(args.ops, args.rounds, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
