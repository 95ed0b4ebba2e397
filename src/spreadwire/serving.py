"""The node's network edges in one process: the REST admin API and the WebSocket
market-data server, both behind the same API gateway, on the node's event loop.

The bus feeds the WebSocket broadcaster (quotes, trades, book deltas, order events,
fills); PnL and latency snapshots are published on a wall-clock interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import final

from spreadwire.api.config import GatewayConfig, WsConfig
from spreadwire.api.keys import KeyStore
from spreadwire.api.metrics import ApiMetrics
from spreadwire.api.rest.app import create_app
from spreadwire.api.rest.server import RestServer
from spreadwire.api.ws.broadcaster import Broadcaster
from spreadwire.api.ws.server import WsServer
from spreadwire.app import TradingNode
from spreadwire.control import NodeControl
from spreadwire.core.clock import LiveClock

log = logging.getLogger("spreadwire.serving")

SNAPSHOT_INTERVAL_S = 1.0


@final
class ApiServers:
    """REST on ``rest_port`` and WebSocket on ``ws_port`` (0: any free port)."""

    def __init__(
        self,
        node: TradingNode,
        key_store: KeyStore,
        *,
        host: str = "127.0.0.1",
        rest_port: int = 8080,
        ws_port: int = 8081,
    ) -> None:
        self.node = node
        self.control = NodeControl(node)
        clock = LiveClock()
        self.metrics = ApiMetrics()
        self.app = create_app(
            self.control,
            GatewayConfig(host=host, port=rest_port),
            key_store,
            clock=clock,
            metrics=self.metrics,
        )
        self.broadcaster = Broadcaster(
            clock=clock,
            symbols=[(iid, instrument.symbol) for iid, instrument in node.instruments.items()],
        )
        node.bus.subscribe(self.broadcaster.message_types, self.broadcaster.publish)
        self.rest = RestServer(self.app, host=host, port=rest_port)
        self.ws = WsServer(
            self.broadcaster,
            self.app.gateway,
            WsConfig(host=host, port=ws_port),
            clock=clock,
            metrics=self.metrics,
        )
        self._snapshots: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.rest.start()
        try:
            await self.ws.start()
        except BaseException:
            await self.rest.stop()
            raise
        self._snapshots = asyncio.create_task(self._publish_snapshots(), name="api-snapshots")
        log.info("REST on %s, WebSocket on %s", self.rest.url, self.ws.url)

    async def _publish_snapshots(self) -> None:
        while True:
            await asyncio.sleep(SNAPSHOT_INTERVAL_S)
            self.broadcaster.publish(self.control.pnl())
            self.broadcaster.publish(self.control.latency())

    async def stop(self) -> None:
        if self._snapshots is not None:
            self._snapshots.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._snapshots
        await self.ws.stop()
        await self.rest.stop()
