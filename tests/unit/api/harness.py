"""Test harness of the API edge: keys for each role, the in-memory node, real servers.

``running_api()`` starts the REST app on uvicorn and the WebSocket server on picows, both
on ephemeral loopback ports, around a :class:`MemoryNodeService`; integration tests use it
(the node's own integration tests use the real node instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from spreadwire.api.config import GatewayConfig, RateLimit, WsConfig
from spreadwire.api.gateway import GatewayMiddleware
from spreadwire.api.keys import KeyStore
from spreadwire.api.rest.app import create_app
from spreadwire.api.rest.server import RestServer
from spreadwire.api.ws.broadcaster import Broadcaster
from spreadwire.api.ws.server import WsServer
from spreadwire.core.clock import Clock, LiveClock
from tests.unit.api.twin import MemoryNodeService

GENEROUS = RateLimit(limit=1_000_000, burst=1_000_000)


@dataclass(frozen=True)
class Keys:
    viewer: str
    trader: str
    admin: str

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


def make_keys(store: KeyStore) -> Keys:
    return Keys(
        viewer=store.create("viewer", "test viewer")[1],
        trader=store.create("trader", "test trader")[1],
        admin=store.create("admin", "test admin")[1],
    )


def generous_gateway(**overrides: object) -> GatewayConfig:
    """A gateway whose limits never get in the way unless a test sets them."""
    settings: dict[str, object] = {"ip_rate": GENEROUS, "key_rate": GENEROUS}
    settings.update(overrides)
    return GatewayConfig(port=0, **settings)  # type: ignore[arg-type]


@dataclass
class Api:
    service: MemoryNodeService
    key_store: KeyStore
    keys: Keys
    app: GatewayMiddleware
    broadcaster: Broadcaster
    rest: RestServer | None
    ws: WsServer | None

    def http(self) -> httpx.AsyncClient:
        assert self.rest is not None
        return httpx.AsyncClient(base_url=self.rest.url, timeout=10.0)


def build_api(
    *,
    gateway: GatewayConfig | None = None,
    clock: Clock | None = None,
    service: MemoryNodeService | None = None,
    fast_reads: bool = True,
) -> tuple[MemoryNodeService, KeyStore, Keys, GatewayMiddleware]:
    clock = clock or LiveClock()
    service = service or MemoryNodeService()
    store = KeyStore(None, clock=clock)
    keys = make_keys(store)
    config = gateway or generous_gateway()
    app = create_app(service, config, store, clock=clock, fast_reads=fast_reads)
    return service, store, keys, app


@asynccontextmanager
async def running_api(
    *,
    gateway: GatewayConfig | None = None,
    ws_config: WsConfig | None = None,
    rest: bool = True,
    ws: bool = True,
) -> AsyncIterator[Api]:
    clock = LiveClock()
    service, store, keys, app = build_api(gateway=gateway, clock=clock)
    broadcaster = Broadcaster(
        clock=clock, symbols=[(i.instrument_id, i.symbol) for i in service.instrument_list]
    )
    rest_server = RestServer(app, port=0) if rest else None
    ws_server = (
        WsServer(
            broadcaster,
            app.gateway,
            ws_config or WsConfig(port=0, op_rate=GENEROUS),
            clock=clock,
            metrics=app.metrics,
        )
        if ws
        else None
    )
    if rest_server is not None:
        await rest_server.start()
    if ws_server is not None:
        await ws_server.start()
    try:
        yield Api(service, store, keys, app, broadcaster, rest_server, ws_server)
    finally:
        if ws_server is not None:
            await ws_server.stop()
        if rest_server is not None:
            await rest_server.stop()
