"""The REST API served by uvicorn on loopback: gateway behaviour over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from spreadwire.api.config import RateLimit
from spreadwire.api.rest.server import RestServer
from tests.unit.api.harness import generous_gateway, running_api

ORDER = {"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "1", "price": "100.00"}


async def test_rest_server_answers_reads_with_a_viewer_key() -> None:
    async with running_api(ws=False) as api, api.http() as http:
        health = await http.get("/health")
        instruments = await http.get("/v1/instruments", headers=api.keys.header("viewer"))

    assert health.status_code == 200
    assert [i["symbol"] for i in instruments.json()] == ["AAA", "BBB", "CCC"]


async def test_rest_server_role_refusals_are_401_then_403() -> None:
    async with running_api(ws=False) as api, api.http() as http:
        anonymous = await http.post("/v1/orders", json=ORDER)
        viewer = await http.post("/v1/orders", json=ORDER, headers=api.keys.header("viewer"))
        trader = await http.post("/v1/orders", json=ORDER, headers=api.keys.header("trader"))

    assert (anonymous.status_code, viewer.status_code, trader.status_code) == (401, 403, 201)


async def test_rest_server_per_key_limit_is_429_with_retry_after() -> None:
    gateway = generous_gateway(key_rate=RateLimit(limit=1, interval_ns=60 * 10**9, burst=3))
    async with running_api(ws=False, gateway=gateway) as api, api.http() as http:
        headers = api.keys.header("viewer")
        statuses = [(await http.get("/v1/pnl", headers=headers)).status_code for _ in range(4)]
        limited = await http.get("/v1/pnl", headers=headers)
        other_key = await http.get("/v1/pnl", headers=api.keys.header("admin"))

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "rate_limited"
    assert other_key.status_code == 200


async def test_rest_server_per_ip_limit_applies_before_authentication() -> None:
    gateway = generous_gateway(ip_rate=RateLimit(limit=1, interval_ns=60 * 10**9, burst=2))
    async with running_api(ws=False, gateway=gateway) as api, api.http() as http:
        first = await http.get("/v1/pnl")
        second = await http.get("/v1/pnl")
        third = await http.get("/v1/pnl", headers=api.keys.header("admin"))

    assert (first.status_code, second.status_code, third.status_code) == (401, 401, 429)


async def test_rest_server_body_over_limit_is_413() -> None:
    gateway = generous_gateway(max_body_bytes=256)
    async with running_api(ws=False, gateway=gateway) as api, api.http() as http:
        body = {**ORDER, "client_order_id": "x" * 64, "strategy_id": "y" * 64, "price": "1" * 18}
        padded = httpx.Request("POST", "/v1/orders", json={**body, "pad": "z" * 300})
        response = await http.post(
            "/v1/orders", content=padded.content, headers={
                **api.keys.header("trader"), "content-type": "application/json"
            }
        )  # fmt: skip

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


async def test_rest_server_metrics_expose_prometheus_text() -> None:
    async with running_api() as api, api.http() as http:
        await http.get("/v1/pnl", headers=api.keys.header("viewer"))
        metrics = await http.get("/metrics", headers=api.keys.header("viewer"))

    assert metrics.headers["content-type"].startswith("text/plain")
    assert "spreadwire_http_requests_total" in metrics.text
    assert "spreadwire_ws_connections 0.0" in metrics.text


async def test_rest_server_on_a_taken_port_raises_oserror() -> None:
    async with running_api(ws=False) as api:
        assert api.rest is not None
        second = RestServer(api.app, port=api.rest.port)

        with pytest.raises(OSError, match="cannot serve REST"):
            await second.start()
