"""Real-time tick-to-order: how the driver waits between ticks, measured in one run.

The benchmark's node (seed 11, 3 pairs, SQLite store; the strategy settings of
``bench_tick_to_order.py``) warms up for 10 simulated seconds at ``--speed max``, then
runs ``--seconds`` in real time in each mode, alternated over ``--rounds``, each run in a
fresh process:

* ``sleep``         the default driver: sleeps until the next delivery is due, 1 ms at
  most (the reference);
* ``spin``          ``[driver] idle = "spin"``;
* ``spin+shadow``   ``idle = "spin"`` with ``shadow = true`` (``spreadwire.warmup``).

Beside the node, on the same event loop, a task times a 5 ms ``asyncio.sleep`` (timer
lag) and a TCP echo server answers a client in another process every 3 ms (echo RTT):
what spinning costs the loop's other users. ``lateness`` is how long after its due time
a venue delivery started (``tick_to_order`` starts only when it does). CPU seconds are
the node process's.

Figures per mode are medians over the rounds; ``*_vs_sleep`` are ratios of p50s measured
in the same run.

    python benchmarks/bench_realtime.py [--seconds 20] [--rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spreadwire.app import TradingNode
from spreadwire.config import NodeConfig, StrategyDefaults
from spreadwire.core.clock import perf_counter_ns
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.node import Driver, Idle, Speed
from spreadwire.warmup import ShadowNode, writers_busy

MODES = ("sleep", "spin", "spin+shadow")
ECHO_BYTES = 32


def echo_client(port: int, seconds: float) -> dict[str, float]:
    """Ping the echo server every 3 ms for ``seconds``; round-trip percentiles in µs."""
    rtts: list[int] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        end = time.monotonic() + seconds
        payload = b"x" * ECHO_BYTES
        while time.monotonic() < end:
            start = time.perf_counter_ns()
            sock.sendall(payload)
            received = 0
            while received < ECHO_BYTES:
                chunk = sock.recv(64)
                if not chunk:
                    raise ConnectionError("echo server closed the connection")
                received += len(chunk)
            rtts.append(time.perf_counter_ns() - start)
            time.sleep(0.003)
    rtts.sort()
    return {
        "echo_rtt_p50_us": rtts[len(rtts) // 2] / 1e3,
        "echo_rtt_p99_us": rtts[int(len(rtts) * 0.99)] / 1e3,
    }


def _late_advance(node: TradingNode, late: LatencyHistogram) -> Callable[[int], int]:
    """``node.advance`` that records how late the earliest due delivery is."""
    scheduler = node.scheduler
    advance = node.advance

    def timed(ts_ns: int) -> int:
        due = scheduler.next_time()
        if due is not None and due <= ts_ns:
            late.record(ts_ns - due)
        return advance(ts_ns)

    return timed


def run_mode(mode: str, seconds: float) -> dict[str, Any]:
    config = NodeConfig(
        seed=11,
        pairs=3,
        strategy=StrategyDefaults(window=100, entry_z=1.0, exit_z=0.25, stop_z=6.0),
    )
    with tempfile.TemporaryDirectory() as directory:
        node = TradingNode(
            config, store_url=f"sqlite:///{Path(directory) / 'events.db'}", latency_breaker=False
        )
        node.start()
        late = LatencyHistogram("lateness")
        shadow = ShadowNode(config) if mode == "spin+shadow" else None
        if shadow is not None:
            shadow.start()
        driver = Driver(
            node.now,
            _late_advance(node, late),
            busy=writers_busy(node, shadow),
            warm=shadow.step if shadow else None,
            next_due=node.scheduler.next_time,
        )
        asyncio.run(driver.run(seconds=10.0, speed=Speed.MAX))
        node.writer.flush()  # the warm-up's events are not the measured run's
        for name in node.latency.names():
            node.latency.stage(name).reset()
        node.writer.ack_histogram().reset()
        late.reset()
        lag = LatencyHistogram("timer_lag")
        idle = Idle.SLEEP if mode == "sleep" else Idle.SPIN
        cpu_start = time.process_time()
        echo = asyncio.run(_realtime(driver, idle, seconds, lag))
        cpu = time.process_time() - cpu_start
        node.close()
        if shadow is not None:
            shadow.close()
        node.recorder.close()
    tick = node.latency.stage("tick_to_order")
    ack = node.writer.ack_histogram()
    return {
        "mode": mode,
        "tick_to_order_p50_ns": tick.percentile(0.5),
        "tick_to_order_p99_ns": tick.percentile(0.99),
        "first_order_p50_ns": node.latency.stage("first_order").percentile(0.5),
        "orders_measured": tick.count,
        "lateness_p50_ns": late.percentile(0.5),
        "lateness_p99_ns": late.percentile(0.99),
        "ack_p50_ns": ack.percentile(0.5),
        "ack_p99_ns": ack.percentile(0.99),
        "timer_lag_p50_ns": lag.percentile(0.5),
        "cpu_seconds": round(cpu, 2),
        **echo,
    }


async def _realtime(
    driver: Driver, idle: Idle, seconds: float, lag: LatencyHistogram
) -> dict[str, float]:
    done = asyncio.Event()

    async def timer_probe() -> None:
        while not done.is_set():
            start = perf_counter_ns()
            await asyncio.sleep(0.005)
            lag.record(perf_counter_ns() - start - 5_000_000)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(64):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--echo-client",
        str(port),
        str(max(1.0, seconds - 2.0)),
        stdout=asyncio.subprocess.PIPE,
    )
    probe = asyncio.create_task(timer_probe())
    await driver.run(seconds=seconds, speed=Speed.REALTIME, idle=idle)
    done.set()
    await probe
    out, _ = await client.communicate()
    server.close()
    if client.returncode != 0:
        raise RuntimeError(f"echo client failed with status {client.returncode}")
    result: dict[str, float] = json.loads(out)
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def run_rounds(seconds: float, rounds: int, *, progress: bool) -> dict[str, list[dict[str, Any]]]:
    """Every mode once per round, alternated, each run in a fresh process."""
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for round_ in range(rounds):
        for mode in MODES:
            if progress:
                print(f"round {round_ + 1}/{rounds}: {mode} ...", flush=True)
            done = subprocess.run(
                [sys.executable, __file__, "--mode", mode, "--seconds", str(seconds)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return runs


def print_table(result: dict[str, Any]) -> None:
    print(
        f"real time, {result['seconds']:g} s per run, medians of {result['rounds']} "
        "alternated rounds"
    )
    print(
        f"{'mode':<13}{'t2o p50':>9}{'t2o p99':>9}{'late p50':>10}{'late p99':>10}"
        f"{'ack p50':>9}{'lag p50':>9}{'rtt p50':>9}{'cpu s':>7}   (µs)"
    )
    for mode in MODES:
        r = result[mode]
        print(
            f"{mode:<13}{r['tick_to_order_p50_ns'] / 1e3:>9.1f}"
            f"{r['tick_to_order_p99_ns'] / 1e3:>9.1f}"
            f"{r['lateness_p50_ns'] / 1e3:>10.1f}{r['lateness_p99_ns'] / 1e3:>10.1f}"
            f"{r['ack_p50_ns'] / 1e3:>9.0f}{r['timer_lag_p50_ns'] / 1e3:>9.0f}"
            f"{r['echo_rtt_p50_us']:>9.0f}{r['cpu_seconds']:>7.1f}"
        )
    for mode in ("spin", "spin+shadow"):
        print(f"{mode} tick_to_order p50 / sleep: {result[f'{mode}_vs_sleep']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="real-time seconds per run")
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds of the modes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--echo-client", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_client:
        print(json.dumps(echo_client(int(args.echo_client[0]), float(args.echo_client[1]))))
        return 0
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.seconds)))
        return 0
    if args.seconds < 3 or args.rounds < 1:
        parser.error("--seconds must be >= 3 and --rounds >= 1")

    runs = run_rounds(args.seconds, args.rounds, progress=not args.json)
    keys = [k for k in runs["sleep"][0] if k != "mode"]
    result: dict[str, Any] = {
        mode: {key: _median(mode_runs, key) for key in keys} for mode, mode_runs in runs.items()
    }
    sleep_p50 = result["sleep"]["tick_to_order_p50_ns"]
    for mode in ("spin", "spin+shadow"):
        result[f"{mode}_vs_sleep"] = round(result[mode]["tick_to_order_p50_ns"] / sleep_p50, 3)
    result.update(
        seconds=args.seconds,
        rounds=args.rounds,
        python=platform.python_version(),
        machine=platform.machine(),
    )
    if args.json:
        print(json.dumps(result))
        return 0
    print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
