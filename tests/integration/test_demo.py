"""The main job end to end: a `--speed max` demo run, its summary and its event log."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pytest

from spreadwire.app import TradingNode
from spreadwire.cli.main import main
from spreadwire.config import NodeConfig
from spreadwire.domain.enums import OrderSide
from spreadwire.domain.events import OrderEvent, OrderFill, OrderInitialized
from spreadwire.domain.order import Order
from spreadwire.domain.values import FIXED_SCALAR, Price
from spreadwire.node import Driver, Speed

SECONDS = 40.0


def _run_node(tmp_path: Path, seed: int = 5, seconds: float = SECONDS) -> TradingNode:
    node = TradingNode(
        NodeConfig(seed=seed, pairs=2),
        store_url=f"sqlite:///{tmp_path / 'events.db'}",
        latency_breaker=False,
    )
    node.start()
    asyncio.run(Driver(node.now, node.advance).run(seconds=seconds, speed=Speed.MAX))
    node.close()
    return node


@pytest.fixture(scope="module")
def node_run(tmp_path_factory: pytest.TempPathFactory) -> TradingNode:
    return _run_node(tmp_path_factory.mktemp("node"))


def test_demo_cli_max_speed_writes_summary_with_required_fields(tmp_path: Path) -> None:
    out = tmp_path / "run"

    status = main(
        [
            "demo",
            "--seconds",
            "30",
            "--speed",
            "max",
            "--seed",
            "3",
            "--out",
            str(out),
            "--no-live",
            "--rest-port",
            "0",
            "--ws-port",
            "0",
            "--keys",
            str(tmp_path / "keys.json"),
        ]
    )

    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "seed",
        "quotes",
        "orders",
        "fills",
        "denied",
        "events_stored",
        "pnl",
        "positions",
        "latency_ns",
        "wall_seconds",
        "event_store",
        "trading_state",
        "breaker_trips",
    ):
        assert key in summary, key
    assert summary["seed"] == 3
    assert summary["orders"] > 0
    assert summary["fills"] > 0
    assert summary["events_stored"] > summary["orders"]
    assert "total" in summary["pnl"]
    assert all(isinstance(v, str) for v in summary["pnl"].values())
    stage = summary["latency_ns"]["tick_to_order"]
    assert set(stage) == {"p50", "p99", "p999", "max", "count"}
    assert stage["count"] > 0
    assert (out / "events.db").exists()
    assert any((out / "ticks").rglob("*.parquet"))


def test_node_run_trades(node_run: TradingNode) -> None:
    assert node_run.orders > 0
    assert node_run.fills > 0


def test_node_positions_equal_sum_of_fills_in_event_log(node_run: TradingNode) -> None:
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for entry in node_run.recorder.read():
        event = entry.message
        if isinstance(event, OrderFill):
            sign = 1 if event.side is OrderSide.BUY else -1
            expected[(event.strategy_id, event.instrument_id)] += sign * event.last_qty.raw

    actual = {(p.strategy_id, p.instrument_id): p.quantity_raw for p in node_run.oms.positions()}

    assert {k: v for k, v in expected.items() if v} == {k: v for k, v in actual.items() if v}
    assert expected, "the run produced no fills"


def test_node_pnl_agrees_with_fills_and_marks(node_run: TradingNode) -> None:
    cash: dict[str, Fraction] = defaultdict(Fraction)
    holdings: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for entry in node_run.recorder.read():
        event = entry.message
        if isinstance(event, OrderFill):
            sign = 1 if event.side is OrderSide.BUY else -1
            qty = Fraction(event.last_qty.raw, FIXED_SCALAR) * sign
            px = Fraction(event.last_px.raw, FIXED_SCALAR)
            cash[event.strategy_id] -= qty * px
            holdings[(event.strategy_id, event.instrument_id)] += qty

    for strategy in node_run.strategies.strategies():
        sid = strategy.strategy_id
        value = cash[sid]
        for (owner, iid), qty in holdings.items():
            if owner == sid and qty:
                mark: Price = node_run.marks[iid]
                value += qty * Fraction(mark.raw, FIXED_SCALAR)

        assert node_run.strategy_pnl(sid) == value


def test_node_replaying_event_log_rebuilds_orders(node_run: TradingNode) -> None:
    rebuilt: dict[str, Order] = {}
    for entry in node_run.recorder.read():
        event = entry.message
        if isinstance(event, OrderInitialized):
            rebuilt[event.client_order_id] = Order(event)
        elif isinstance(event, OrderEvent) and event.client_order_id in rebuilt:
            rebuilt[event.client_order_id].apply(event)

    live = {order.client_order_id: order for order in node_run.oms.orders()}
    assert rebuilt.keys() == live.keys()
    for client_order_id, order in live.items():
        again = rebuilt[client_order_id]
        assert (again.status, again.filled_qty, again.quantity) == (
            order.status,
            order.filled_qty,
            order.quantity,
        ), client_order_id


def test_node_same_seed_max_speed_same_results(tmp_path: Path, node_run: TradingNode) -> None:
    again = _run_node(tmp_path)

    assert again.orders == node_run.orders
    assert again.fills == node_run.fills
    assert again.position_rows() == node_run.position_rows()
    assert again.view().pnl_total == node_run.view().pnl_total


def _demo_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``spreadwire demo`` in its own process, for what a user sees: status and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "spreadwire.cli.main", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--seconds", "-1"], "--seconds"),
        (["--pairs", "99"], "--pairs"),
        (["--speed", "warp"], "--speed"),
        (["--idle", "doze"], "--idle"),
        (["--shadow"], "--shadow"),
        (["--seed", "x"], "--seed"),
        (["--store", "mysql://x"], "--store"),
    ],
)
def test_demo_cli_bad_argument_exits_2_naming_it(args: list[str], named: str) -> None:
    result = _demo_cli(*args)

    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_cli_bad_config_file_exits_2_naming_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[risk]\nmax_order_quantity = "lots"\n')

    result = _demo_cli("--config", str(config))

    assert result.returncode == 2
    assert "max_order_quantity" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_cli_realtime_spin_with_shadow_runs_and_records_the_idle_policy(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"

    status = main(
        [
            "demo",
            "--seconds",
            "2",
            "--speed",
            "realtime",
            "--idle",
            "spin",
            "--shadow",
            "--out",
            str(out),
            "--no-live",
            "--no-api",
            "--no-ticks",
        ]
    )

    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["speed"] == "realtime"
    assert summary["idle"] == "spin"
    assert summary["shadow"] is True
    assert summary["quotes"] > 0
    assert summary["sim_seconds"] == pytest.approx(2.0)


def test_demo_cli_idle_sleep_against_a_config_with_shadow_exits_2_naming_both(
    tmp_path: Path,
) -> None:
    config = tmp_path / "node.toml"
    config.write_text('[driver]\nidle = "spin"\nshadow = true\n')

    result = _demo_cli("--config", str(config), "--idle", "sleep")

    assert result.returncode == 2
    assert "--idle" in result.stderr
    assert "shadow" in result.stderr
    assert "Traceback" not in result.stderr
