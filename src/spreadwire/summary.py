"""The summary of a run: what the node did, written to ``summary.json``."""

from __future__ import annotations

from typing import Any

import msgspec

from spreadwire.app import TradingNode
from spreadwire.domain.position import PositionRow


class RunSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What a run did; written to ``summary.json``. Money amounts are strings."""

    run_id: str
    seed: int
    speed: str
    #: How a real-time run waited between steps (``sleep`` or ``spin``).
    idle: str
    #: Whether a shadow node kept the hot path warm while idle (``spreadwire.warmup``).
    shadow: bool
    scenario: str | None
    sim_seconds: float
    wall_seconds: float
    quotes: int
    orders: int
    fills: int
    denied: int
    rejected: int
    denied_by_reason: dict[str, int]
    events_stored: int
    pnl: dict[str, str]
    positions: list[PositionRow]
    latency_ns: dict[str, dict[str, int]]
    trading_state: str
    breaker_trips: list[dict[str, Any]]
    event_store: str
    out_dir: str


def summarize(
    node: TradingNode,
    *,
    run_id: str,
    speed: str,
    scenario: str | None,
    wall_seconds: float,
    out_dir: str,
) -> RunSummary:
    """The run's figures; call after :meth:`TradingNode.close` so every event is stored."""
    view = node.view()
    pnl = {row.strategy_id: row.pnl for row in view.pairs}
    pnl["total"] = view.pnl_total
    latency = {
        stage: {
            "p50": s.p50,
            "p99": s.p99,
            "p999": s.p999,
            "max": s.max,
            "count": s.count,
        }
        for stage, s in view.latency_ns.items()
    }
    return RunSummary(
        run_id=run_id,
        seed=node.config.seed,
        speed=speed,
        idle=node.config.driver.idle,
        shadow=node.config.driver.shadow and speed == "realtime",
        scenario=scenario,
        sim_seconds=view.sim_seconds,
        wall_seconds=round(wall_seconds, 3),
        quotes=view.quotes,
        orders=view.orders,
        fills=view.fills,
        denied=view.denied,
        rejected=view.rejected,
        denied_by_reason=dict(node.risk.stats().denied_by_reason),
        events_stored=node.recorder.last_position() if not node.writer_open else view.events_stored,
        pnl=pnl,
        positions=node.position_rows(),
        latency_ns=latency,
        trading_state=view.trading_state,
        breaker_trips=node.risk.breaker_trips,
        event_store=node.store_url,
        out_dir=out_dir,
    )
