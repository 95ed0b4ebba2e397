"""WebSocket market data: throughput, fan-out and round trip, beside references in the run.

* ``quotes_per_s``   one msgpack client subscribed to 1,000 quote channels; the server
  publishes ``--quotes`` QuoteTicks through the :class:`Broadcaster` (encode, per-client
  queue, batching, frames) and the client decodes every frame; quotes delivered per
  second from the first publish to the last record decoded (target >= 1M).
* ``fanout_dps``     the same to 10 clients: deliveries per second (target >= 180k).
* ``vs_websockets``  ``quotes_per_s`` over a ``websockets`` server sending the same
  records in the same 256-record frames to the same client.
* ``echo_p99_vs_raw`` p99 of a ping -> pong round trip through the server beside a raw
  asyncio socket echo (32 bytes) in the same run (target <= 1.5); three interleaved runs
  of each, medians (one in-flight message: a p99 on a shared VM moves with its neighbours).

The server runs in its own process on CPU 0 and the clients on CPU 1 (when there are two
CPUs), both on uvloop. The producer yields to the loop every 256 quotes and waits while a
client's socket pushes back, so quotes are delivered, not conflated away (``conflated``
is reported).

    python benchmarks/bench_ws.py [--quotes 2000000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import msgspec
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from spreadwire.api.auth import Authenticator, Principal
from spreadwire.api.config import GatewayConfig, RateLimit, WsConfig
from spreadwire.api.gateway import Gateway
from spreadwire.api.keys import KeyStore
from spreadwire.api.ws.broadcaster import Broadcaster
from spreadwire.api.ws.codec import MSGPACK
from spreadwire.api.ws.protocol import Subscribed, Welcome
from spreadwire.api.ws.server import WsServer
from spreadwire.api.ws.session import Session
from spreadwire.core.clock import LiveClock
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.values import Price, Quantity

SYMBOLS = 1_000
BATCH = 256
HUGE = RateLimit(limit=10**9, burst=10**9)
CHANNELS = [f"quotes.S{i:04d}" for i in range(SYMBOLS)]


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def make_quotes() -> list[QuoteTick]:
    return [
        QuoteTick(
            instrument_id=f"S{i:04d}.SIM",
            bid_price=Price.parse(f"{100 + i % 50}.25"),
            ask_price=Price.parse(f"{100 + i % 50}.27"),
            bid_size=Quantity.parse("10"),
            ask_size=Quantity.parse("12"),
            ts_event=1_700_000_000_000_000_000 + i,
            ts_init=1_700_000_000_000_000_000 + i,
        )
        for i in range(SYMBOLS)
    ]


# --- servers (CPU 0) ----------------------------------------------------------------------


async def _commands(conn: Connection) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


def _broadcaster(clock: LiveClock) -> Broadcaster:
    symbols = [(f"S{i:04d}.SIM", f"S{i:04d}") for i in range(SYMBOLS)]
    return Broadcaster(clock=clock, symbols=symbols)


def _config(batch: int) -> WsConfig:
    return WsConfig(port=0, op_rate=HUGE, max_subscriptions=5 * SYMBOLS, max_batch=batch,
                    max_connections_per_key=1000)  # fmt: skip


async def _produce(
    conn: Connection,
    broadcaster: Broadcaster,
    backlogged: Callable[[], bool],
    conflated: Callable[[], int],
) -> None:
    """On each ``publish`` command, publish that many quotes, pacing on backpressure."""
    quotes = make_quotes() * 2  # a slice of BATCH from any offset is full
    publish = broadcaster.publish_quote
    while (command := await _commands(conn))[0] == "publish":
        start = time.perf_counter_ns()
        sent = 0
        while sent < command[1]:
            offset = sent % SYMBOLS
            for quote in quotes[offset : offset + BATCH]:
                publish(quote)
            sent += BATCH
            await asyncio.sleep(0)
            while backlogged():
                await asyncio.sleep(0.0001)
        conn.send({"start": start, "sent": sent, "conflated": conflated()})


async def spreadwire_server(batch: int, conn: Connection) -> None:
    clock = LiveClock()
    store = KeyStore(None, clock=clock)
    _, key = store.create("viewer")
    gateway = Gateway(GatewayConfig(ip_rate=HUGE, key_rate=HUGE), Authenticator(store, clock))
    broadcaster = _broadcaster(clock)
    server = WsServer(broadcaster, gateway, _config(batch), clock=clock)
    await server.start()
    conn.send((server.port, key))
    await _produce(
        conn,
        broadcaster,
        lambda: any(s.paused for s in server.sessions),
        lambda: sum(s.conflated for s in server.sessions),
    )
    await server.stop()


class _WebsocketsTransport:
    """The part of picows' transport a :class:`Session` uses, over a websockets connection
    (the synchronous write path of ``websockets.broadcast``)."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self.underlying_transport = ws.transport
        self.is_disconnected = False

    def send_reuse_external_bytearray(self, _: WSMsgType, buffer: bytearray, offset: int) -> None:
        self._ws.protocol.send_binary(buffer[offset:])
        self._ws.send_data()

    def send(self, msg_type: WSMsgType, message: bytes, rsv1: bool = False) -> None:
        self.send_reuse_external_bytearray(msg_type, bytearray(14) + message, 14)

    def send_close(self, *_: Any) -> None:
        self.is_disconnected = True

    def disconnect(self, graceful: bool = True) -> None:
        self.is_disconnected = True


class _Owner:
    def __init__(self, broadcaster: Broadcaster) -> None:
        self.broadcaster = broadcaster

    def on_connected(self, session: Session) -> None:
        pass

    def on_message(self, session: Session, payload: bytes) -> None:
        names = msgspec.json.decode(payload)["channels"]
        session.queue_control(Subscribed(channels=names))
        for name in names:
            self.broadcaster.subscribe(session, name)
        session.flush()

    def on_disconnected(self, session: Session) -> None:
        self.broadcaster.detach(session)


async def websockets_server(batch: int, conn: Connection) -> None:
    """The same broadcaster and sessions, with websockets as the WebSocket layer."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.exceptions import ConnectionClosed

    broadcaster = _broadcaster(LiveClock())
    owner = _Owner(broadcaster)
    connections: list[ServerConnection] = []
    sessions: list[Session] = []
    principal = Principal("bench", "viewer", "key")
    config = _config(batch)
    high = config.write_buffer_high

    async def handler(ws: ServerConnection) -> None:
        session = Session(len(sessions) + 1, owner, principal, config, broadcaster.codec,
                          encoding=MSGPACK, deflate=None, now_ns=time.perf_counter_ns)  # fmt: skip
        session.on_ws_connected(_WebsocketsTransport(ws))  # type: ignore[arg-type]
        session.send_control(Welcome(session=1, encoding="msgpack", compression="none",
                                     heartbeat_interval_ns=1, max_batch=batch))  # fmt: skip
        connections.append(ws)
        sessions.append(session)
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                payload = message if isinstance(message, bytes) else message.encode()
                owner.on_message(session, payload)
        session.on_ws_disconnected(None)  # type: ignore[arg-type]

    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=None,
                     ping_interval=None) as server:  # fmt: skip
        conn.send((server.sockets[0].getsockname()[1], "no-key"))
        await _produce(
            conn,
            broadcaster,
            lambda: any(c.transport.get_write_buffer_size() > high for c in connections),
            lambda: sum(s.conflated for s in sessions),
        )


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def raw_echo_server(batch: int, conn: Connection) -> None:
    server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", 0)
    conn.send((server.sockets[0].getsockname()[1], "no-key"))
    await _commands(conn)
    server.close()


SERVERS = {"spreadwire": spreadwire_server, "websockets": websockets_server, "raw": raw_echo_server}


def run_server(kind: str, batch: int, conn: Connection) -> None:
    pin(0)
    uvloop.run(SERVERS[kind](batch, conn))


# --- clients (CPU 1) ----------------------------------------------------------------------


def _array_length(payload: memoryview) -> int:
    """The element count of a msgpack array from its header alone."""
    head = payload[0]
    if head & 0xF0 == 0x90:
        return head & 0x0F
    if head == 0xDC:
        return int.from_bytes(payload[1:3], "big")
    return int.from_bytes(payload[1:5], "big")


class _Stream(WSListener):
    """Counts quote records; ``decode`` decodes every frame (else reads array headers).

    Control records (maps) only come before the quotes: the welcome and the acknowledgement.
    """

    def __init__(self, target: int, encoding: str, decode: bool) -> None:
        self.target = target
        self.count = 0
        self.last = 0
        self.full = decode
        self.subscribed = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()
        decoder = msgspec.msgpack.Decoder() if encoding == "msgpack" else msgspec.json.Decoder()
        self.decode = decoder.decode

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is not WSMsgType.BINARY and frame.msg_type is not WSMsgType.TEXT:
            return
        payload = frame.get_payload_as_memoryview()
        if not self.subscribed.done():
            records = self.decode(payload)
            if any(r.get("type") == "subscribed" for r in records if type(r) is dict):
                self.subscribed.set_result(None)
            return
        if self.full:
            self.count += len(self.decode(payload))
        else:
            self.count += _array_length(payload)
        if self.count >= self.target and not self.done.done():
            self.last = time.perf_counter_ns()
            self.done.set_result(None)


async def stream_clients(
    port: int, key: str, clients: int, target: int, *, mode: str, conn: Connection
) -> None:
    encoding = "json" if mode == "json" else "msgpack"
    url = f"ws://127.0.0.1:{port}/ws?encoding={encoding}&token={key}"
    decode = mode != "count"
    listeners: list[_Stream] = []
    subscribe = json.dumps({"op": "subscribe", "channels": CHANNELS}).encode()
    for _ in range(clients):
        transport, listener = await ws_connect(
            lambda: _Stream(target, encoding, decode), url, max_frame_size=2**26
        )
        transport.send(WSMsgType.TEXT, subscribe)
        assert isinstance(listener, _Stream)
        listeners.append(listener)
    await asyncio.gather(*(listener.subscribed for listener in listeners))
    conn.send("ready")
    async with asyncio.timeout(300):
        await asyncio.gather(*(listener.done for listener in listeners))
    conn.send({"count": sum(listener.count for listener in listeners),
               "last": max(listener.last for listener in listeners)})  # fmt: skip


class _Pinger(WSListener):
    def __init__(self, samples: int) -> None:
        self.samples = samples
        self.rtts: list[int] = []
        self.sent = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()
        self.transport: WSTransport | None = None
        self.ping = json.dumps({"op": "ping"}).encode()

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if not self.ready.done():
            self.ready.set_result(None)  # the welcome
            return
        self.rtts.append(time.perf_counter_ns() - self.sent)
        self.next()

    def next(self) -> None:
        if len(self.rtts) >= self.samples:
            if not self.done.done():
                self.done.set_result(None)
            return
        assert self.transport is not None
        self.sent = time.perf_counter_ns()
        self.transport.send(WSMsgType.TEXT, self.ping)


class _RawPinger(asyncio.Protocol):
    def __init__(self, samples: int) -> None:
        self.samples = samples
        self.rtts: list[int] = []
        self.sent = 0
        self.done = asyncio.get_running_loop().create_future()
        self.payload = b"x" * 32

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.rtts.append(time.perf_counter_ns() - self.sent)
        self.next()

    def next(self) -> None:
        if len(self.rtts) >= self.samples:
            if not self.done.done():
                self.done.set_result(None)
            return
        self.sent = time.perf_counter_ns()
        self.transport.write(self.payload)  # type: ignore[attr-defined]


async def echo_client(kind: str, port: int, key: str, samples: int, conn: Connection) -> None:
    pinger: _Pinger | _RawPinger
    if kind == "raw":
        _, pinger = await asyncio.get_running_loop().create_connection(
            lambda: _RawPinger(samples), "127.0.0.1", port
        )
    else:
        url = f"ws://127.0.0.1:{port}/ws?encoding=msgpack&token={key}"
        _, pinger = await ws_connect(lambda: _Pinger(samples), url)  # type: ignore[assignment]
        await pinger.ready
    pinger.next()
    async with asyncio.timeout(120):
        await pinger.done
    conn.send(pinger.rtts)


def run_client(task: str, args: tuple[Any, ...], conn: Connection) -> None:
    pin(1)
    if task == "stream":
        *positional, mode = args
        uvloop.run(stream_clients(*positional, mode=mode, conn=conn))
    else:
        uvloop.run(echo_client(*args, conn))


# --- orchestration ------------------------------------------------------------------------


def _start(target: Any, *args: Any) -> tuple[mp.process.BaseProcess, Connection]:
    ours, theirs = mp.get_context("spawn").Pipe()
    process = mp.get_context("spawn").Process(target=target, args=(*args, theirs), daemon=True)
    process.start()
    return process, ours


def stream(
    kind: str, clients: int, quotes: int, mode: str = "decode", batch: int = BATCH
) -> dict[str, float]:
    """``mode``: ``decode`` (msgpack, every frame decoded), ``count`` or ``json``."""
    quotes = max(BATCH, quotes // BATCH * BATCH)
    server, to_server = _start(run_server, kind, batch)
    port, key = to_server.recv()
    client, to_client = _start(run_client, "stream", (port, key, clients, quotes, mode))
    assert to_client.recv() == "ready"
    to_server.send(("publish", quotes))
    published = to_server.recv()
    received = to_client.recv()
    to_server.send(("stop",))
    for process in (client, server):
        process.join(10)
    seconds = (received["last"] - published["start"]) / 1e9
    return {"per_s": received["count"] / seconds, "seconds": seconds,
            "conflated": published["conflated"]}  # fmt: skip


def echo(kind: str, samples: int) -> list[int]:
    server, to_server = _start(run_server, kind, BATCH)
    port, key = to_server.recv()
    client, to_client = _start(run_client, "echo", (kind, port, key, samples))
    rtts: list[int] = to_client.recv()
    to_server.send(("stop",))
    for process in (client, server):
        process.join(10)
    return sorted(rtts[samples // 10 :])  # drop the warm-up tenth


def pct(values: list[int], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] / 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quotes", type=int, default=2_000_000, help="quotes per throughput run")
    parser.add_argument("--fanout-quotes", type=int, default=300_000, help="quotes per fan-out run")
    parser.add_argument("--samples", type=int, default=20_000, help="round trips per echo run")
    parser.add_argument("--echo-rounds", type=int, default=3, help="echo runs of each (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    ours = stream("spreadwire", 1, args.quotes)
    as_json = stream("spreadwire", 1, args.quotes // 4, "json")
    server_bound = stream("spreadwire", 1, args.quotes, "count")
    reference = stream("websockets", 1, args.quotes, "count")
    small = stream("spreadwire", 1, args.quotes // 4, "count", batch=10)
    small_reference = stream("websockets", 1, args.quotes // 4, "count", batch=10)
    fanout = stream("spreadwire", 10, args.fanout_quotes)
    ws_p99, raw_p99, ws_p50, raw_p50 = [], [], [], []
    for _ in range(args.echo_rounds):  # interleaved, so a noisy moment hits both
        raw_rtt = echo("raw", args.samples)
        ws_rtt = echo("spreadwire", args.samples)
        raw_p99.append(pct(raw_rtt, 0.99))
        ws_p99.append(pct(ws_rtt, 0.99))
        raw_p50.append(pct(raw_rtt, 0.5))
        ws_p50.append(pct(ws_rtt, 0.5))
    result = {
        "quotes_per_s": round(ours["per_s"]),
        "conflated": ours["conflated"],
        "json_quotes_per_s": round(as_json["per_s"]),
        "server_quotes_per_s": round(server_bound["per_s"]),
        "websockets_quotes_per_s": round(reference["per_s"]),
        "vs_websockets": round(server_bound["per_s"] / reference["per_s"], 2),
        "batch10_quotes_per_s": round(small["per_s"]),
        "batch10_websockets_quotes_per_s": round(small_reference["per_s"]),
        "vs_websockets_batch10": round(small["per_s"] / small_reference["per_s"], 2),
        "fanout_dps": round(fanout["per_s"]),
        "fanout_conflated": fanout["conflated"],
        "echo_p50_us": round(statistics.median(ws_p50), 1),
        "echo_p99_us": round(statistics.median(ws_p99), 1),
        "raw_echo_p50_us": round(statistics.median(raw_p50), 1),
        "raw_echo_p99_us": round(statistics.median(raw_p99), 1),
        "echo_p99_vs_raw": round(statistics.median(ws_p99) / statistics.median(raw_p99), 2),
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:>24}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
