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
from spreadwire.api.keys import KeyStore
from spreadwire.app import TradingNode
from spreadwire.cli.args import bounded_int, positive_float, store_url
from spreadwire.cli.keys import DEFAULT_STORE as DEFAULT_KEY_STORE
from spreadwire.cli.live import Progress
from spreadwire.cli.stores import check_server, stored_head
from spreadwire.config import NodeConfig
from spreadwire.core.clock import LiveClock
from spreadwire.domain.market import QuoteTick, TradeTick
from spreadwire.errors import ConfigError, StoreError, ValidationError
from spreadwire.node import Driver, Idle, Speed
from spreadwire.persistence.tickrecorder import TickRecorder
from spreadwire.persistence.ticks import TickHistory
from spreadwire.scenarios import SCENARIO_NAMES, apply_scenario
from spreadwire.serving import ApiServers
from spreadwire.summary import RunSummary, summarize
from spreadwire.warmup import ShadowNode, writers_busy

ADMIN_KEY_ENV = "SPREADWIRE_ADMIN_KEY"


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
        "--idle",
        choices=[i.value for i in Idle],
        default=None,
        help="how a realtime run waits between steps: sleep (default, little CPU) or "
        "spin (lower tick-to-order latency, one busy core); overrides [driver] idle",
    )
    parser.add_argument(
        "--shadow",
        action="store_true",
        default=None,
        help="with --idle spin: run a shadow node on a market of its own while idle, to "
        "keep the hot path warm (overrides [driver] shadow)",
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
    parser.add_argument(
        "--no-ticks",
        action="store_true",
        help="do not record quotes and trades to Parquet (default: <out>/ticks)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="restore the node from the event store (--store or --out) before running",
    )
    api = parser.add_argument_group("API (REST admin and WebSocket market data)")
    api.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    api.add_argument(
        "--rest-port", type=bounded_int(0, 65535), default=8080, help="REST port (0: any free)"
    )
    api.add_argument(
        "--ws-port", type=bounded_int(0, 65535), default=8081, help="WebSocket port (0: any free)"
    )
    api.add_argument(
        "--admin-key",
        default=None,
        help=f"admin API key (default ${ADMIN_KEY_ENV}, else a new key printed once)",
    )
    api.add_argument(
        "--keys",
        type=Path,
        default=DEFAULT_KEY_STORE,
        help=f"key file (default {DEFAULT_KEY_STORE})",
    )
    api.add_argument("--no-api", action="store_true", help="do not serve the APIs")
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
    config = _driver_overrides(config, args)
    started = datetime.fromtimestamp(LiveClock().timestamp_ns() / 1e9, tz=UTC)
    run_id = f"{started:%Y%m%dT%H%M%S}-{started.microsecond:06d}-seed{config.seed}"
    out_dir: Path = args.out if args.out is not None else Path("runs") / run_id
    url, store_option = _store_url(args, config, out_dir)
    _prepare(args, out_dir, url, store_option)
    speed = Speed(args.speed)
    try:
        node = TradingNode(config, store_url=url, latency_breaker=speed is Speed.REALTIME)
    except StoreError as error:
        raise StoreError(f"{store_option}: {error}") from error
    console = Console()
    console.print(
        f"[b]spreadwire[/b] demo: {config.pairs} pairs, seed {config.seed}, "
        f"{args.seconds:g} s at {speed} speed"
        + (
            f" ({config.driver.idle} between steps"
            + (", shadow node)" if config.driver.shadow else ")")
            if speed is Speed.REALTIME
            else ""
        )
        + f", store {url}"
        + (f", scenario {args.scenario}" if args.scenario else "")
    )
    ticks: TickRecorder | None = None
    if not args.no_ticks:
        ticks = TickRecorder(out_dir / "ticks")
        node.bus.subscribe((QuoteTick, TradeTick), ticks.record)
        _expire_on_timer(node, ticks)
    if args.resume:
        if ticks is not None:
            _continue_after_ticks(node, out_dir / "ticks")
        try:
            restored = node.restore()
        except ConfigError as error:
            raise ConfigError(f"--resume: {error} (--pairs, --config)") from None
        console.print(f"restored {restored} stored messages; reconciling open orders")
    node.start()
    if args.resume:
        node.reconcile()
    live = False if args.no_live else None
    with Progress(live=live) as progress:
        wall = asyncio.run(
            _serve_and_run(node, args, speed=speed, progress=progress, console=console, live=live)
        )
    node.close()
    tick_error = _close_ticks(ticks, console, out_dir) if ticks is not None else None
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
    node.close_read_models()
    node.recorder.close()
    if node.store_error is not None:
        raise StoreError(
            f"the event store failed during the run, so trading was halted: {node.store_error}"
            f" ({node.unrecorded} messages after the failure were not recorded)"
        )
    if tick_error is not None:
        raise tick_error
    return 0


def _close_ticks(ticks: TickRecorder, console: Console, out_dir: Path) -> StoreError | None:
    """Close the tick history; its failure, if any (the run itself went on: it is
    summarized first, then reported)."""
    try:
        count = ticks.close()
    except StoreError as error:
        console.print(f"[red]{error}[/red]")
        return error
    console.print(
        f"recorded {count} ticks to {out_dir / 'ticks'} "
        f"(query: spreadwire data query --root {out_dir / 'ticks'} --start ... --end ...)"
    )
    return None


def _store_url(args: argparse.Namespace, config: NodeConfig, out_dir: Path) -> tuple[str, str]:
    """The event store URL and the option it comes from, for error messages."""
    if args.store:
        return args.store, "--store"
    if config.store.url:
        return config.store.url, "[store] url"
    return f"sqlite:///{out_dir / 'events.db'}", "--out"


def _prepare(args: argparse.Namespace, out_dir: Path, url: str, store_option: str) -> None:
    """Check the output directory and the store, then create the directory: a new run
    never lands on a previous one (its events, ticks or summary) unless ``--resume``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out: {out_dir} exists and is not a directory")
    check_server(url, store_option)
    if not args.resume:
        _refuse_previous_run(out_dir, url, store_option, ticks=not args.no_ticks)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"--out: cannot create directory {out_dir}: {error.strerror or error}"
        ) from error
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"--out: cannot write to {out_dir}")


def _refuse_previous_run(out_dir: Path, url: str, store_option: str, *, ticks: bool) -> None:
    again = "pass --resume to continue it, or choose another --out"
    head = stored_head(url, store_option)
    if head:
        if store_option == "--out":
            raise ConfigError(
                f"--out: {out_dir} already holds a previous run ({head} events in {url}); {again}"
            )
        raise ConfigError(
            f"{store_option}: {url} already holds {head} events of a previous run;"
            f" pass --resume to continue it, or choose another {store_option}"
        )
    ticks_dir = out_dir / "ticks"
    if ticks and ticks_dir.is_dir() and any(ticks_dir.iterdir()):
        raise ConfigError(f"--out: {ticks_dir} already holds a previous run's ticks; {again}")
    if (out_dir / "summary.json").exists():
        raise ConfigError(f"--out: {out_dir} already holds a previous run's summary.json; {again}")


def _expire_on_timer(node: TradingNode, ticks: TickRecorder) -> None:
    """Hand a quiet feed's last ticks to the recorder's writer on the node's timer (the
    dispatch thread), not only when the next tick comes."""
    interval = node.config.timer_interval_ns

    def expire() -> None:
        ticks.expire(node.clock.timestamp_ns())
        node.scheduler.after(interval, expire)

    node.scheduler.after(interval, expire)


def _continue_after_ticks(node: TradingNode, root: Path) -> None:
    """Simulated time resumes after the ticks already recorded under ``root`` too, not
    only after the last stored event: a run that halted stored no more events while it
    went on recording ticks, and the new run's ticks must not overlap them."""
    if not root.is_dir():
        return
    history = TickHistory(root)
    try:
        last = history.last_ts()
    finally:
        history.close()
    if last is not None and last > node.clock.timestamp_ns():
        node.clock.set_time(last)


async def _serve_and_run(
    node: TradingNode,
    args: argparse.Namespace,
    *,
    speed: Speed,
    progress: Progress,
    console: Console,
    live: bool | None,
) -> float:
    shadow: ShadowNode | None = None
    if speed is Speed.REALTIME and node.config.driver.shadow:
        # warmed up before anything is served: the run starts with it trading
        shadow = ShadowNode(node.config)
        console.print("shadow node: warming up on a market of its own (seed + 1)")
        shadow.start()
    servers: ApiServers | None = None
    try:
        if not args.no_api:
            servers = ApiServers(
                node,
                _key_store(args, console),
                host=args.host,
                rest_port=args.rest_port,
                ws_port=args.ws_port,
            )
            try:
                await servers.start()
            except OSError as error:
                servers = None
                raise ConfigError(
                    f"--rest-port/--ws-port: cannot serve on {args.host}: {error}; "
                    "choose free ports (0 picks any) or pass --no-api"
                ) from None
            console.print(
                f"REST {servers.rest.url}/v1 (docs {servers.rest.url}/docs), "
                f"WebSocket {servers.ws.url}"
            )
        driver = Driver(
            node.now,
            node.advance,
            busy=writers_busy(node, shadow),
            warm=shadow.step if shadow else None,
            next_due=node.scheduler.next_time,
        )
        return await driver.run(
            seconds=args.seconds,
            speed=speed,
            idle=Idle(node.config.driver.idle),
            on_progress=lambda: progress.update(node.view()),
            progress_interval_s=0.25 if progress_is_live(live) else 2.0,
        )
    finally:
        if shadow is not None:
            shadow.close()
            console.print(shadow.describe())
        if servers is not None:
            await servers.stop()


def _driver_overrides(config: NodeConfig, args: argparse.Namespace) -> NodeConfig:
    driver = config.driver
    idle = args.idle if args.idle is not None else driver.idle
    shadow = bool(args.shadow) or driver.shadow
    if shadow and idle != "spin":
        if args.shadow:
            raise ConfigError('--shadow: needs --idle spin (or [driver] idle = "spin")')
        raise ConfigError(
            f"--idle: {idle} conflicts with [driver] shadow = true in the config, which "
            "needs --idle spin; pass --idle spin or set shadow = false"
        )
    driver = msgspec.structs.replace(driver, idle=idle, shadow=shadow)
    return msgspec.structs.replace(config, driver=driver)


def _key_store(args: argparse.Namespace, console: Console) -> KeyStore:
    """The gateway's keys, with an admin key for this run: ``--admin-key``, the
    environment, or a new one printed once."""
    store = KeyStore(args.keys, clock=LiveClock())
    admin_key = args.admin_key or os.environ.get(ADMIN_KEY_ENV)
    if admin_key:
        try:
            store.import_key(admin_key, "admin", "demo admin")
        except ValidationError as error:
            raise ConfigError(f"--admin-key: {error.message}") from None
    else:
        _, key = store.create("admin", "demo run")
        console.print(f"admin API key for this run (shown once): {key}")
    return store


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
