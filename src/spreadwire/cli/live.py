"""Progress display for long runs: a rich live view on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO, final

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from spreadwire.node import NodeView


def _us(ns: int) -> str:
    return f"{ns / 1000:.1f}"


def render(view: NodeView) -> Group:
    header = Table.grid(padding=(0, 3))
    for _ in range(8):
        header.add_column()
    header.add_row(
        f"[b]sim[/b] {view.sim_seconds:7.1f}s",
        f"[b]quotes[/b] {view.quotes}",
        f"[b]orders[/b] {view.orders}",
        f"[b]fills[/b] {view.fills}",
        f"[b]denied[/b] {view.denied}",
        f"[b]rejected[/b] {view.rejected}",
        f"[b]events[/b] {view.events_stored}",
        f"[b]state[/b] {view.trading_state}",
    )
    pairs = Table(title="pairs", expand=True)
    for column in ("strategy", "legs", "z", "beta", "state", "pos y", "pos x", "pnl"):
        pairs.add_column(column, justify="right" if column not in ("strategy", "legs") else "left")
    for row in view.pairs:
        pairs.add_row(
            row.strategy_id,
            f"{row.leg_y}/{row.leg_x}",
            f"{row.zscore:+.2f}",
            f"{row.beta:.3f}",
            row.state,
            row.position_y,
            row.position_x,
            row.pnl,
        )
    pairs.add_row("", "", "", "", "", "", "[b]total[/b]", f"[b]{view.pnl_total}[/b]")
    latency = Table(title="latency (µs)", expand=True)
    for column in ("stage", "count", "p50", "p99", "p99.9", "max"):
        latency.add_column(column, justify="left" if column == "stage" else "right")
    for stage, summary in view.latency_ns.items():
        if summary.count:
            latency.add_row(
                stage,
                str(summary.count),
                _us(summary.p50),
                _us(summary.p99),
                _us(summary.p999),
                _us(summary.max),
            )
    return Group(header, pairs, latency)


def plain_line(view: NodeView) -> str:
    return (
        f"sim={view.sim_seconds:.1f}s quotes={view.quotes} orders={view.orders} "
        f"fills={view.fills} denied={view.denied} rejected={view.rejected} "
        f"events={view.events_stored} state={view.trading_state} pnl={view.pnl_total}"
    )


@final
class Progress:
    """Shows node views: live-updating on a terminal, one line per update otherwise."""

    __slots__ = ("_console", "_live", "_stream")

    def __init__(self, *, live: bool | None = None, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        use_live = self._stream.isatty() if live is None else live
        self._console = Console(file=self._stream)
        self._live: Live | None = (
            Live(console=self._console, refresh_per_second=4, transient=False) if use_live else None
        )

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, view: NodeView) -> None:
        if self._live is not None:
            self._live.update(render(view))
        else:
            print(plain_line(view), file=self._stream, flush=True)

    @property
    def console(self) -> Console:
        return self._console
