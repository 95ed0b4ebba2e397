"""``spreadwire demo``: run a node on the simulated exchange and summarise the run."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from spreadwire import config as node_config
from spreadwire.app import SCENARIO_NAMES, RunSummary, TradingNode, apply_scenario, summarize
from spreadwire.cli.args import bounded_int, positive_float, store_url
from spreadwire.cli.live import Progress
from spreadwire.core.clock import LiveClock
from spreadwire.node import Driver, Speed


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run a pairs-trading node on the simulated exchange",
        description="Run a pairs-trading node on the simulated exchange, show it live, "
        "and write summary.json and the event store to the output directory.",
    )
    parser.add_argument(
        "--seconds",
        type=positive_float(86_400),
        default=20.0,
        help="simulated seconds to run (default 20)",
    )
    parser.add_argument(
        "--pairs",
        type=bounded_int(1, 13),
        default=None,
        help="number of cointegrated pairs (default 3)",
    )
    parser.add_argument(
        "--seed",
        type=bounded_int(0, 2**32 - 1),
        default=None,
        help="random seed of the market (default 7)",
    )
    parser.add_argument(
        "--speed",
        choices=[s.value for s in Speed],
        default="realtime",
        help="realtime: simulated time follows the wall clock; max: as fast as possible",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output directory (default runs/<run id>/)"
    )
    parser.add_argument("--config", type=Path, default=None, help="TOML configuration file")
    parser.add_argument(
        "--store",
        type=store_url,
        default=None,
        help="event store URL (default sqlite:///<out>/events.db)",
    )
    parser.add_argument(
        "--scenario", choices=SCENARIO_NAMES, default=None, help="play a stress scenario"
    )
    parser.add_argument(
        "--no-live", action="store_true", help="plain progress lines even on a terminal"
    )
    parser.set_defaults(handler=run)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.pairs is not None:
        overrides["pairs"] = args.pairs
    if args.seed is not None:
        overrides["seed"] = args.seed
    return overrides


def run(args: argparse.Namespace) -> int:
    config = node_config.load(args.config, os.environ, _overrides(args))
    config = apply_scenario(config, args.scenario)
    started = datetime.fromtimestamp(LiveClock().timestamp_ns() / 1e9, tz=UTC)
    run_id = f"{started:%Y%m%dT%H%M%S}-{started.microsecond:06d}-seed{config.seed}"
    out_dir: Path = args.out if args.out is not None else Path("runs") / run_id
    out_dir.mkdir(parents=True, exist_ok=True)
    url = args.store or config.store.url or f"sqlite:///{out_dir / 'events.db'}"
    speed = Speed(args.speed)
    node = TradingNode(config, store_url=url, latency_breaker=speed is Speed.REALTIME)
    console = Console()
    console.print(
        f"[b]spreadwire[/b] demo: {config.pairs} pairs, seed {config.seed}, "
        f"{args.seconds:g} s at {speed} speed, store {url}"
        + (f", scenario {args.scenario}" if args.scenario else "")
    )
    node.start()
    driver = Driver(node.now, node.advance)
    live = False if args.no_live else None
    with Progress(live=live) as progress:
        wall = asyncio.run(
            driver.run(
                seconds=args.seconds,
                speed=speed,
                on_progress=lambda: progress.update(node.view()),
                progress_interval_s=0.25 if progress_is_live(live) else 2.0,
            )
        )
    node.close()
    summary = summarize(
        node,
        run_id=run_id,
        speed=str(speed),
        scenario=args.scenario,
        wall_seconds=wall,
        out_dir=str(out_dir),
    )
    (out_dir / "summary.json").write_bytes(msgspec.json.format(msgspec.json.encode(summary)))
    print_summary(console, summary)
    console.print(f"summary: {out_dir / 'summary.json'}")
    node.recorder.close()
    return 0


def progress_is_live(live: bool | None) -> bool:
    return sys.stdout.isatty() if live is None else live


def print_summary(console: Console, summary: RunSummary) -> None:
    table = Table(title=f"run {summary.run_id}", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name in ("quotes", "orders", "fills", "denied", "rejected", "events_stored"):
        table.add_row(name, str(getattr(summary, name)))
    for name, value in summary.pnl.items():
        table.add_row(f"pnl {name}", value)
    table.add_row("trading state", summary.trading_state)
    table.add_row("breaker trips", str(len(summary.breaker_trips)))
    stage = summary.latency_ns.get("tick_to_order")
    if stage and stage["count"]:
        table.add_row(
            "tick→order p50/p99/p99.9 µs",
            f"{stage['p50'] / 1e3:.1f} / {stage['p99'] / 1e3:.1f} / {stage['p999'] / 1e3:.1f}",
        )
    table.add_row("sim / wall seconds", f"{summary.sim_seconds:.1f} / {summary.wall_seconds:.1f}")
    console.print(table)
