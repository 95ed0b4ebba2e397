"""A client that stops reading is closed with 1013 while a fast one misses nothing."""

from __future__ import annotations

import asyncio
import json
import socket

import websockets
from websockets.asyncio.client import ClientConnection, connect

from spreadwire.api.config import WsConfig
from tests.builders import make_trade
from tests.unit.api.harness import GENEROUS, Api, running_api

SLOW_CONFIG = WsConfig(
    port=0,
    op_rate=GENEROUS,
    queue_capacity=2_000,
    write_buffer_high=64 * 1024,
    idle_timeout_ns=120 * 10**9,
    ping_timeout_ns=60 * 10**9,
    max_lag_ns=60 * 10**9,
)


async def subscribed(ws: ClientConnection, channel: str) -> None:
    await ws.recv()  # welcome
    await ws.send(json.dumps({"op": "subscribe", "channels": [channel]}))
    await ws.recv()  # subscribed


async def open_slow_reader(api: Api, headers: dict[str, str]) -> ClientConnection:
    """A client with a tiny receive buffer that never reads after subscribing."""
    assert api.ws is not None
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    async with asyncio.timeout(5):
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", api.ws.port))
    return await connect(
        f"{api.ws.url}?encoding=json", additional_headers=headers, max_queue=1, sock=sock
    )


async def test_ws_slow_client_is_closed_1013_while_fast_client_gets_every_trade() -> None:
    async with running_api(rest=False, ws_config=SLOW_CONFIG) as api:
        assert api.ws is not None
        headers = api.keys.header("viewer")
        fast = await connect(f"{api.ws.url}?encoding=json", additional_headers=headers)
        slow = await open_slow_reader(api, headers)
        for ws in (fast, slow):
            await subscribed(ws, "trades.AAA")
        (slow_session,) = [s for s in api.ws.sessions if s.session_id == 2]
        seqs: list[int] = []

        async def read_fast() -> None:
            async for frame in fast:
                seqs.extend(record["seq"] for record in json.loads(frame))

        reader = asyncio.create_task(read_fast())
        published = 0
        trade = make_trade()
        while not slow_session.closed and published < 2_000_000:
            for _ in range(200):
                api.broadcaster.publish_trade(trade)
            published += 200
            await asyncio.sleep(0)
        async with asyncio.timeout(30):
            while len(seqs) < published:
                await asyncio.sleep(0.01)
        async with asyncio.timeout(30):
            try:
                async for _ in slow:
                    pass
            except websockets.ConnectionClosed:
                pass
        reader.cancel()
        await fast.close()

    assert slow_session.slow
    assert slow.close_code == 1013
    assert seqs == list(range(1, published + 1))
    assert api.ws.counters["slow_disconnects"] == 1
