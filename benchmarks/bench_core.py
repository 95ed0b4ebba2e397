"""Core hot-path costs: latency-histogram ``record`` and ``MessageBus.publish``.

Each figure is measured beside a reference in the same run, so the ratio survives a noisy
machine: an empty loop over the same values and a plain call of a no-op function for
``record``; a direct call of the handler for ``publish``. Every figure is the best of
several rounds, in nanoseconds per operation (loop overhead included).

``core/histogram.py`` is compiled with mypyc (``setup.py``); ``record_interpreted_ns`` is
the same source run by the interpreter, measured in the same run.

Target (issue #3): histogram record <= 150 ns.

    python benchmarks/bench_core.py            # a table
    python benchmarks/bench_core.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
from collections.abc import Callable

from interpreted import interpreted, is_compiled
from spreadwire.core.bus import MessageBus
from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.values import Price, Quantity

RECORD_TARGET_NS = 150


def _latencies(count: int, seed: int) -> list[int]:
    """Latency-shaped samples: mostly a few microseconds, a tail up to milliseconds."""
    rng = random.Random(seed)
    return [int(rng.lognormvariate(8.5, 1.0)) for _ in range(count)]


def _best_ns_per_op(run: Callable[[], None], operations: int, rounds: int) -> float:
    best = None
    for _ in range(rounds):
        start = perf_counter_ns()
        run()
        elapsed = perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    assert best is not None
    return best / operations


def _noop(value: object) -> None:
    return None


def bench_record(values: list[int], rounds: int) -> dict[str, float | bool]:
    histogram = LatencyHistogram("bench")
    record = histogram.record

    def empty_loop() -> None:
        for _ in values:
            pass

    def call_loop() -> None:
        noop = _noop
        for value in values:
            noop(value)

    def record_loop() -> None:
        for value in values:
            record(value)

    plain_record = interpreted("spreadwire.core.histogram").LatencyHistogram("bench").record

    def interpreted_loop() -> None:
        for value in values:
            plain_record(value)

    n = len(values)
    empty_ns = _best_ns_per_op(empty_loop, n, rounds)
    call_ns = _best_ns_per_op(call_loop, n, rounds)
    record_ns = _best_ns_per_op(record_loop, n, rounds)
    interpreted_ns = _best_ns_per_op(interpreted_loop, n, rounds)
    return {
        "compiled": is_compiled(sys.modules[LatencyHistogram.__module__]),
        "record_interpreted_ns": round(interpreted_ns, 1),
        "compiled_vs_interpreted": round(interpreted_ns / record_ns, 2),
        "record_ns": round(record_ns, 1),
        "empty_loop_ns": round(empty_ns, 1),
        "noop_call_ns": round(call_ns, 1),
        "record_net_ns": round(record_ns - empty_ns, 1),
        "record_vs_empty_loop": round(record_ns / empty_ns, 2),
        "record_vs_noop_call": round(record_ns / call_ns, 2),
    }


def _quote() -> QuoteTick:
    return QuoteTick(
        instrument_id="AAA.SIM",
        bid_price=Price.parse("100.00"),
        ask_price=Price.parse("100.02"),
        bid_size=Quantity.parse("10"),
        ask_size=Quantity.parse("10"),
        ts_event=1,
        ts_init=1,
    )


def bench_publish(operations: int, rounds: int) -> dict[str, float]:
    quote = _quote()
    bus = MessageBus()
    bus.subscribe(QuoteTick, _noop)
    publish = bus.publish
    batch = range(operations)

    def direct() -> None:
        handler = _noop
        for _ in batch:
            handler(quote)

    def one_handler() -> None:
        for _ in batch:
            publish(quote)

    direct_ns = _best_ns_per_op(direct, operations, rounds)
    publish_ns = _best_ns_per_op(one_handler, operations, rounds)
    bus.subscribe_all(_noop)
    publish_all_ns = _best_ns_per_op(one_handler, operations, rounds)
    return {
        "publish_ns": round(publish_ns, 1),
        "publish_with_catch_all_ns": round(publish_all_ns, 1),
        "direct_call_ns": round(direct_ns, 1),
        "publish_vs_direct_call": round(publish_ns / direct_ns, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--operations", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.operations < 1 or args.rounds < 1:
        parser.error("--operations and --rounds must be >= 1")

    values = _latencies(args.operations, args.seed)
    record = bench_record(values, args.rounds)
    result: dict[str, object] = {
        **record,
        **bench_publish(args.operations, args.rounds),
        "record_target_ns": RECORD_TARGET_NS,
        "operations": args.operations,
        "rounds": args.rounds,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()} {platform.processor()}".strip(),
    }
    result["record_within_target"] = record["record_ns"] <= RECORD_TARGET_NS

    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(key) for key in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
