"""REST: requests per second of a representative GET, beside FastAPI; gateway cost per request.

* ``rest_rps``   ``GET /v1/positions`` (three positions, viewer key) on the spreadwire app
  (gateway, then the direct read path that answers parameterless GETs with one msgspec
  encode), one uvicorn worker (uvloop, httptools) on CPU 0. ``rest_litestar_rps``: the
  same request routed through Litestar (``fast_reads=False``), as every other request is.
* ``fastapi_rps`` the same handler (same in-memory node, same gateway middleware in
  front) on FastAPI, measured in the same run; ``vs_fastapi`` is the ratio (target >= 1.3).
  Rounds alternate between the two apps and the median of each is kept.
* ``gateway_us`` the gateway's admission of one request in process: per-IP bucket, header
  scan, API-key check (SHA-256 + constant-time compare) and per-key bucket (target <= 15).

Load comes from ``wrk`` (``-t1 -c16``, keep-alive) on CPU 1 when it is installed (Debian:
``apt-get install wrk``): a C load generator does not steal the server's CPU the way a
Python client would. Without it, a small asyncio HTTP/1.1 client with 16 keep-alive
connections stands in (and says so in ``load_generator``).

    python benchmarks/bench_rest.py [--seconds 5] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any, cast

import msgspec

from spreadwire.api.auth import Authenticator
from spreadwire.api.config import GatewayConfig, JwtConfig, RateLimit
from spreadwire.api.gateway import Gateway, GatewayMiddleware
from spreadwire.api.keys import KeyStore
from spreadwire.api.ports import NodeService
from spreadwire.api.rest.app import create_app
from spreadwire.api.schemas import LatencyView, PositionView
from spreadwire.core.clock import LiveClock

HUGE = RateLimit(limit=10**9, burst=10**9)
PATH = "/v1/positions"
KEY_FILE_ENV = "SPREADWIRE_BENCH_KEY"


class BenchNode:
    """The part of a node ``GET /v1/positions`` touches."""

    def __init__(self) -> None:
        self._positions = [
            PositionView(
                strategy_id="pair1",
                instrument_id=f"{s}.SIM",
                side="LONG",
                quantity="10",
                avg_price="100.00",
                realized_pnl="0.00",
                unrealized_pnl="1.50",
                currency="USD",
            )
            for s in ("AAA", "BBB", "CCC")
        ]

    def positions(self) -> list[PositionView]:
        return self._positions

    def latency(self) -> LatencyView:
        return LatencyView(stages=[])

    def instruments(self) -> list[Any]:
        return []

    strategies = instruments

    def pnl(self) -> Any:
        raise NotImplementedError

    risk_limits = trading_state = pnl


def build(kind: str, key: str) -> Any:
    clock = LiveClock()
    store = KeyStore(None, clock=clock)
    store.import_key(key, "viewer")
    node = BenchNode()
    config = GatewayConfig(ip_rate=HUGE, key_rate=HUGE)
    fast = kind != "litestar"
    app = create_app(cast(NodeService, node), config, store, clock=clock, fast_reads=fast)
    if kind in ("spreadwire", "litestar"):
        return app
    from fastapi import FastAPI

    fastapi = FastAPI()

    @fastapi.get(PATH)
    async def positions() -> Any:
        return msgspec.to_builtins(node.positions())

    return GatewayMiddleware(fastapi, app.gateway, app.metrics)


def serve(kind: str, port: int) -> None:
    import uvicorn

    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    app = build(kind, os.environ[KEY_FILE_ENV])
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                log_level="warning", access_log=False, lifespan="off")  # fmt: skip


# --- load ---------------------------------------------------------------------------------


def _wrk(url: str, key: str, seconds: int) -> dict[str, float]:
    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", "--latency", "-H",
               f"Authorization: Bearer {key}", url]  # fmt: skip
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        command = ["taskset", "-c", "1", *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    unit = {"us": 1.0, "ms": 1e3, "s": 1e6}
    latency = {
        p: float(v) * unit[u]
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)", out, re.M)
    }
    return {"rps": rps, "p50_us": latency.get("50", 0.0), "p99_us": latency.get("99", 0.0),
            "errors": float(errors.group(1)) if errors else 0.0}  # fmt: skip


class _Client(asyncio.Protocol):
    """One keep-alive connection sending the next request when a response completes."""

    def __init__(self, request: bytes, counts: list[int]) -> None:
        self.request = request
        self.counts = counts
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
            self.transport.write(self.request)


async def _python_load(port: int, key: str, seconds: int) -> dict[str, float]:
    request = (f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n"
               ).encode()  # fmt: skip
    counts = [0, 0]
    loop = asyncio.get_running_loop()
    clients = [await loop.create_connection(lambda: _Client(request, counts), "127.0.0.1", port)
               for _ in range(16)]  # fmt: skip
    await asyncio.sleep(seconds)
    for transport, _ in clients:
        transport.close()
    return {"rps": counts[0] / seconds, "p50_us": 0.0, "p99_us": 0.0, "errors": float(counts[1])}


def measure(kind: str, key: str, seconds: int, port: int) -> dict[str, float]:
    env = {**os.environ, KEY_FILE_ENV: key}
    server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)],
                              env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}{PATH}"
        if shutil.which("wrk"):
            _wrk(url, key, 1)  # warm-up
            return _wrk(url, key, seconds)
        return asyncio.run(_python_load(port, key, seconds))
    finally:
        server.terminate()
        server.wait(10)


# --- gateway in process -------------------------------------------------------------------


def _best_us(run: Any, calls: int, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter_ns()
        run(calls)
        best = min(best, (time.perf_counter_ns() - start) / calls / 1000)
    return best


def gateway_costs(calls: int) -> dict[str, float]:
    clock = LiveClock()
    store = KeyStore(None, clock=clock)
    _, key = store.create("viewer")
    config = GatewayConfig(ip_rate=HUGE, key_rate=HUGE, jwt=JwtConfig(key="k" * 32))
    gateway = Gateway(config, Authenticator(store, clock, config.jwt))
    import jwt

    token = jwt.encode({"sub": "a", "role": "viewer", "exp": 2**40}, "k" * 32)
    base = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"bench"), (b"accept", b"*/*")]
    with_key = [*base, (b"authorization", f"Bearer {key}".encode())]
    with_jwt = [*base, (b"authorization", f"Bearer {token}".encode())]

    def admit(headers: list[tuple[bytes, bytes]]) -> Any:
        def run(n: int) -> None:
            for _ in range(n):
                gateway.admit("127.0.0.1", PATH, headers)

        return run

    def verify(n: int) -> None:
        for _ in range(n):
            store.verify(key)

    return {
        "gateway_us": round(_best_us(admit(with_key), calls), 2),
        "gateway_key_check_us": round(_best_us(verify, calls), 2),
        "gateway_jwt_us": round(_best_us(admit(with_jwt), calls), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="measured seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per app")
    parser.add_argument("--port", type=int, default=18_080)
    parser.add_argument(
        "--serve", choices=["spreadwire", "litestar", "fastapi"], help=argparse.SUPPRESS
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    key = "bench-viewer-key-" + os.urandom(16).hex()
    runs: dict[str, list[dict[str, float]]] = {"spreadwire": [], "litestar": [], "fastapi": []}
    for _ in range(args.rounds):
        for kind, results in runs.items():
            results.append(measure(kind, key, args.seconds, args.port))
    ours = statistics.median(r["rps"] for r in runs["spreadwire"])
    routed = statistics.median(r["rps"] for r in runs["litestar"])
    theirs = statistics.median(r["rps"] for r in runs["fastapi"])
    result: dict[str, Any] = {
        "rest_rps": round(ours),
        "rest_litestar_rps": round(routed),
        "fastapi_rps": round(theirs),
        "vs_fastapi": round(ours / theirs, 2),
        "vs_fastapi_litestar": round(routed / theirs, 2),
        "rest_p99_us": statistics.median(r["p99_us"] for r in runs["spreadwire"]),
        "fastapi_p99_us": statistics.median(r["p99_us"] for r in runs["fastapi"]),
        "errors": sum(r["errors"] for rs in runs.values() for r in rs),
        **gateway_costs(200_000),
        "load_generator": "wrk -t1 -c16" if shutil.which("wrk") else "python asyncio, 16 conns",
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:>22}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
