"""The real node behind its REST and WebSocket APIs, on ephemeral loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from spreadwire.api.keys import KeyStore
from spreadwire.app import TradingNode
from spreadwire.client import Control, Quote, connect
from spreadwire.config import NodeConfig
from spreadwire.core.clock import LiveClock
from spreadwire.domain.commands import ModifyOrder
from spreadwire.domain.enums import OrderStatus, TradingState
from spreadwire.domain.values import Price, Quantity
from spreadwire.node import Driver, Speed
from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore
from spreadwire.serving import ApiServers
from tests.builders import make_accepted


@dataclass
class Running:
    node: TradingNode
    servers: ApiServers
    http: httpx.AsyncClient
    admin: dict[str, str]
    viewer: dict[str, str]
    viewer_key: str

    async def advance(self, seconds: float) -> None:
        await Driver(self.node.now, self.node.advance).run(seconds=seconds, speed=Speed.MAX)


async def all_events(running: Running) -> list[dict[str, Any]]:
    """Every stored event, page by page through ``GET /v1/events``."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        response = await running.http.get(
            "/v1/events", headers=running.viewer, params={"after": after, "limit": 1000}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        events += page["events"]
        if not page["events"]:
            return events
        after = page["next_after"]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    node = TradingNode(
        NodeConfig(seed=3, pairs=1),
        store_url=f"sqlite:///{tmp_path / 'events.db'}",
        latency_breaker=False,
    )
    node.start()
    keys = KeyStore(tmp_path / "keys.json", clock=LiveClock())
    admin = keys.create("admin", "test")[1]
    viewer = keys.create("viewer", "test")[1]
    servers = ApiServers(node, keys, rest_port=0, ws_port=0)
    await servers.start()
    async with httpx.AsyncClient(base_url=servers.rest.url, timeout=10) as http:
        run = Running(
            node=node,
            servers=servers,
            http=http,
            admin={"Authorization": f"Bearer {admin}"},
            viewer={"Authorization": f"Bearer {viewer}"},
            viewer_key=viewer,
        )
        await run.advance(8.0)
        yield run
    await servers.stop()
    node.close()
    node.close_read_models()
    node.recorder.close()


async def test_node_api_serves_instruments_and_readiness(running: Running) -> None:
    ready = await running.http.get("/ready")
    instruments = await running.http.get("/v1/instruments", headers=running.viewer)

    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    assert {i["symbol"] for i in instruments.json()} == {"AAA", "BBB"}


async def test_node_api_reports_its_event_store(running: Running) -> None:
    store = (await running.http.get("/v1/store", headers=running.viewer)).json()
    metrics = (await running.http.get("/metrics", headers=running.viewer)).text

    assert (store["backend"], store["state"], store["error"]) == ("sqlite", "ok", "")
    assert store["durability"] == "durable"
    assert store["committed"] > 0 and store["last_position"] >= store["committed"]
    assert store["pool"] is None
    assert store["refused"] == 0
    assert 'spreadwire_event_store_state{backend="sqlite",state="ok"} 1.0' in metrics


async def test_node_api_counts_an_event_the_store_refused_and_keeps_recording(
    running: Running,
) -> None:
    """An event whose stream name the store does not take (here a NUL in the order id,
    which PostgreSQL text cannot hold) is refused alone: the node's writer goes on, and
    the operator sees the count on /v1/store and /metrics to alert on."""
    writer = running.node.writer
    writer.append(make_accepted("bad\x00id", 1))
    writer.flush()
    store = (await running.http.get("/v1/store", headers=running.viewer)).json()
    metrics = (await running.http.get("/metrics", headers=running.viewer)).text
    writer.append(make_accepted("fine", 2))
    writer.flush()
    after = (await running.http.get("/v1/store", headers=running.viewer)).json()

    assert (store["state"], store["refused"]) == ("ok", 1)
    assert 'spreadwire_event_store_refused_total{backend="sqlite"} 1.0' in metrics
    assert after["state"] == "ok"
    assert after["last_position"] > store["last_position"]


async def test_node_api_manual_order_goes_through_risk_and_venue(running: Running) -> None:
    quote = running.node.marketdata.book("AAA.SIM")
    assert quote.best_ask is not None
    ask = f"{quote.best_ask / 1e9:.2f}"

    submitted = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={
            "instrument_id": "AAA.SIM",
            "side": "BUY",
            "quantity": "5",
            "price": ask,
            "time_in_force": "IOC",
            "client_order_id": "api-1",
        },
    )
    await running.advance(1.0)
    order = await running.http.get("/v1/orders/api-1", headers=running.viewer)

    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["status"] == "SUBMITTED"
    assert order.json()["status"] in ("FILLED", "PARTIALLY_FILLED", "CANCELED")


async def test_node_api_order_retried_with_its_client_order_id_is_sent_once(
    running: Running,
) -> None:
    bid = running.node.marketdata.book("AAA.SIM").best_bid
    assert bid is not None
    body = {
        "instrument_id": "AAA.SIM",
        "side": "BUY",
        "quantity": "3",
        "price": f"{bid / 1e9 * 0.99:.2f}",  # rests below the touch
        "client_order_id": "api-retry",
    }

    first = await running.http.post("/v1/orders", headers=running.admin, json=body)
    await running.advance(0.5)
    retry = await running.http.post("/v1/orders", headers=running.admin, json=body)
    other = await running.http.post(
        "/v1/orders", headers=running.admin, json={**body, "quantity": "4"}
    )
    await running.advance(0.5)
    running.node.writer.flush()
    initialized = [
        e
        for e in running.node.recorder.read()
        if type(e.message).__name__ == "OrderInitialized"
        and e.message.client_order_id == "api-retry"
    ]

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["client_order_id"] == "api-retry"
    assert retry.json()["status"] == "ACCEPTED"  # the order as it stands by then
    assert len(initialized) == 1
    assert other.status_code == 409
    assert other.json()["field"] == "client_order_id"
    assert "other parameters" in other.json()["message"]


async def test_node_api_denied_order_names_the_reason(running: Running) -> None:
    response = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "5", "price": "1.00"},
    )

    assert response.status_code == 201
    assert response.json()["status"] == "DENIED"
    assert response.json()["reason"] == "PRICE_COLLAR"


async def test_node_api_kill_switch_blocks_new_risk_and_is_audited(running: Running) -> None:
    engaged = await running.http.post(
        "/v1/kill-switch", headers=running.admin, json={"scope": "all", "reason": "drill"}
    )
    quote = running.node.marketdata.book("AAA.SIM")
    ask = f"{(quote.best_ask or 0) / 1e9:.2f}"
    order = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "5", "price": ask},
    )
    running.node.writer.flush()
    events = await all_events(running)

    assert engaged.status_code == 200, engaged.text
    assert engaged.json()["state"]["state"] == "REDUCING"
    assert order.json()["status"] == "DENIED"
    assert order.json()["reason"] == "KILL_SWITCH"
    kills = [e for e in events if e["type"] == "EngageKillSwitch"]
    assert kills
    assert kills[0]["data"]["reason"] == "drill"


async def test_node_api_strategy_admin_is_recorded_with_the_operator(running: Running) -> None:
    added = await running.http.post(
        "/v1/strategies",
        headers=running.admin,
        json={"strategy_id": "extra", "leg_y": "BBB.SIM", "leg_x": "AAA.SIM", "window": 50},
    )
    changed = await running.http.patch(
        "/v1/strategies/extra/params", headers=running.admin, json={"entry_z": 2.5}
    )
    running.node.writer.flush()
    events = await all_events(running)

    assert added.status_code == 201, added.text
    assert added.json()["running"] is False
    assert changed.status_code == 200, changed.text
    assert changed.json()["params"]["entry_z"] == 2.5
    types = [e["type"] for e in events]
    assert "AddStrategy" in types
    assert "ChangeStrategyParams" in types


async def test_node_api_bad_strategy_params_are_422_naming_the_field(running: Running) -> None:
    response = await running.http.patch(
        "/v1/strategies/pairs.AAA_BBB/params", headers=running.admin, json={"exit_z": 9.0}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "entry_z"


async def test_node_api_viewer_cannot_trade(running: Running) -> None:
    response = await running.http.post(
        "/v1/orders",
        headers=running.viewer,
        json={"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "5", "price": "100.00"},
    )

    assert response.status_code == 403


async def test_node_api_positions_come_from_read_models_after_fills(running: Running) -> None:
    await running.advance(30.0)
    running.node.writer.flush()

    positions = await running.http.get("/v1/positions", headers=running.viewer)
    live = {
        (p.strategy_id, p.instrument_id): str(p.quantity)
        for p in running.node.oms.positions()
        if p.quantity_raw
    }

    assert positions.status_code == 200
    served = {
        (p["strategy_id"], p["instrument_id"]): p["quantity"]
        for p in positions.json()
        if p["side"] != "FLAT"
    }
    assert served == live


async def test_node_websocket_streams_live_quotes(running: Running) -> None:
    client = await connect(
        running.servers.ws.url, key=running.viewer_key, channels=["quotes.AAA"], encoding="json"
    )
    try:
        driving = asyncio.create_task(running.advance(5.0))
        quotes: list[Quote] = []
        while len(quotes) < 3:
            message = await client.receive(10)
            if not isinstance(message, Control):
                assert isinstance(message, Quote)
                quotes.append(message)
        await driving
    finally:
        await client.close()

    assert all(q.symbol == "AAA" for q in quotes)
    assert all(q.bid_price < q.ask_price for q in quotes)


async def test_node_api_risk_limit_change_applies_and_is_audited(running: Running) -> None:
    changed = await running.http.patch(
        "/v1/risk/limits", headers=running.admin, json={"max_order_quantity": "3"}
    )
    quote = running.node.marketdata.book("AAA.SIM")
    ask = f"{(quote.best_ask or 0) / 1e9:.2f}"
    order = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "5", "price": ask},
    )
    running.node.writer.flush()
    events = await all_events(running)

    assert changed.status_code == 200, changed.text
    assert changed.json()["max_order_quantity"] == "3"
    assert order.json()["reason"] == "QUANTITY_ABOVE_MAX"
    audit = [e for e in events if e["type"] == "ChangeRiskLimits"]
    assert audit[0]["data"]["changes"] == {"max_order_quantity": "3"}
    assert audit[0]["data"]["operator"]


async def test_node_api_invalid_risk_limit_is_422_naming_the_field(running: Running) -> None:
    response = await running.http.patch(
        "/v1/risk/limits", headers=running.admin, json={"collar_bps": 0}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "collar_bps"


async def test_example_watch_quotes_prints_live_quotes(running: Running) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "watch_quotes.py"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(example),
        "--url",
        running.servers.ws.url,
        "--key",
        running.viewer_key,
        "--count",
        "3",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def drive() -> None:
        # keep the market moving until the example has seen its messages, however long
        # its interpreter takes to start on a busy machine
        while process.returncode is None:
            await running.advance(0.2)
            await asyncio.sleep(0.01)

    driving = asyncio.create_task(drive())
    async with asyncio.timeout(120):
        stdout, stderr = await process.communicate()
    driving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await driving

    assert process.returncode == 0, stderr.decode()
    lines = stdout.decode().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(("AAA ", "fill ")) for line in lines), lines


async def test_node_api_orders_list_after_a_denied_order_is_not_500(running: Running) -> None:
    denied = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={
            "instrument_id": "AAA.SIM",
            "side": "BUY",
            "quantity": "5",
            "price": "1.00",
            "client_order_id": "denied-1",
        },
    )
    running.node.writer.flush()
    listed = await running.http.get("/v1/orders", headers=running.viewer)
    one = await running.http.get("/v1/orders/denied-1", headers=running.viewer)

    assert denied.json()["status"] == "DENIED"
    assert listed.status_code == 200, listed.text
    assert [o["status"] for o in listed.json() if o["client_order_id"] == "denied-1"] == ["DENIED"]
    assert one.status_code == 200, one.text
    assert one.json()["status"] == "DENIED"
    assert one.json()["reason"] == "PRICE_COLLAR"


async def test_node_api_manual_order_and_cancel_are_recorded_with_the_operator(
    running: Running,
) -> None:
    quote = running.node.marketdata.book("AAA.SIM")
    bid = f"{((quote.best_bid or 0) - 500_000_000) / 1e9:.2f}"  # rests below the bid
    submitted = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={
            "instrument_id": "AAA.SIM",
            "side": "BUY",
            "quantity": "5",
            "price": bid,
            "client_order_id": "audited-1",
        },
    )
    await running.advance(0.5)
    canceled = await running.http.delete("/v1/orders/audited-1", headers=running.admin)
    running.node.writer.flush()
    events = await all_events(running)
    key_id = running.admin["Authorization"].split("_")[1]

    assert submitted.status_code == 201, submitted.text
    assert canceled.status_code == 200, canceled.text
    ours = {
        e["type"]: e["data"]
        for e in events
        if e["type"] in ("SubmitOrder", "CancelOrder")
        and e["data"]["client_order_id"] == "audited-1"
    }
    assert set(ours) == {"SubmitOrder", "CancelOrder"}
    assert ours["SubmitOrder"].get("operator") == key_id
    assert ours["CancelOrder"].get("operator") == key_id


async def test_node_api_limits_for_an_unknown_instrument_are_422_and_not_recorded(
    running: Running,
) -> None:
    response = await running.http.patch(
        "/v1/risk/limits",
        headers=running.admin,
        json={"instrument_limits": {"AAA.SIm": {"max_position": "1"}}},  # a typo
    )
    limits = await running.http.get("/v1/risk/limits", headers=running.viewer)
    running.node.writer.flush()
    events = await all_events(running)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "instrument_limits"
    assert "AAA.SIm" in response.json()["message"]
    assert limits.json()["instrument_limits"] == {}
    assert not [e for e in events if e["type"] == "ChangeRiskLimits"]


async def test_node_api_global_kill_switch_with_a_target_is_422(running: Running) -> None:
    response = await running.http.post(
        "/v1/kill-switch",
        headers=running.admin,
        json={"scope": "all", "target": "AAA.SIM", "reason": "drill"},
    )
    state = await running.http.get("/v1/trading-state", headers=running.viewer)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "target"
    assert state.json()["kill_switches"] == []


async def test_node_api_risk_read_model_keeps_a_halt_when_a_global_kill_switch_is_released(
    running: Running,
) -> None:
    http, admin = running.http, running.admin
    halted = await http.put(
        "/v1/trading-state", headers=admin, json={"state": "HALTED", "reason": "maintenance"}
    )
    engaged = await http.post("/v1/kill-switch", headers=admin, json={"scope": "all"})
    released = await http.post("/v1/kill-switch/release", headers=admin, json={"scope": "all"})
    running.node.writer.flush()
    live = (await http.get("/v1/trading-state", headers=running.viewer)).json()

    assert (halted.status_code, engaged.status_code, released.status_code) == (200, 200, 200)
    assert live["state"] == "HALTED"
    risk = running.node.read_models().risk_state()
    assert risk["kill_switch:all:*"]["engaged"] is False
    assert risk["trading:all"]["state"] == live["state"]


def _requests(events: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    """(operator, reason) of every stored ``kind`` message, in log order."""
    return [(e["data"]["operator"], e["data"]["reason"]) for e in events if e["type"] == kind]


def _changes(events: list[dict[str, Any]], prefix: str) -> list[str]:
    """The reasons of the stored ``TradingStateChanged`` events whose reason starts so."""
    return [
        e["data"]["reason"]
        for e in events
        if e["type"] == "TradingStateChanged" and e["data"]["reason"].startswith(prefix)
    ]


async def test_node_api_a_trip_of_a_tripped_breaker_is_recorded_and_changes_nothing(
    running: Running,
) -> None:
    """An operator's trip is audited like a reset or a kill switch, also when the
    breaker is already there (or beyond): the request is in the log with its operator
    and reason, the state and its last change stay as they were."""
    http, admin = running.http, running.admin
    answers = []
    for state, reason in [("HALTED", "maintenance"), ("HALTED", "still down"), ("REDUCING", "x")]:
        response = await http.put(
            "/v1/trading-state", headers=admin, json={"state": state, "reason": reason}
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    events = await all_events(running)

    first, again, lower = answers
    assert first["state"] == again["state"] == lower["state"] == "HALTED"
    assert again["ts_changed"] == lower["ts_changed"] == first["ts_changed"]
    assert again["reason"] == lower["reason"] == first["reason"]
    requests = _requests(events, "TripTradingState")
    assert [reason for _, reason in requests] == ["maintenance", "still down", "x"]
    assert len({operator for operator, _ in requests}) == 1
    assert len(_changes(events, "MANUAL")) == 1  # one real change


async def test_node_api_a_repeated_or_idle_risk_command_is_recorded_and_changes_nothing(
    running: Running,
) -> None:
    """The same rule for the other operator commands: a second engage of a kill switch,
    a reset of a breaker that is not tripped and a release of a switch that is not
    engaged are in the log; the state, and when it last changed, are not moved (a second
    engage still cancels what works in its scope)."""
    http, admin = running.http, running.admin
    engaged = await http.post(
        "/v1/kill-switch", headers=admin, json={"scope": "all", "reason": "drill"}
    )
    again = await http.post(
        "/v1/kill-switch", headers=admin, json={"scope": "all", "reason": "drill again"}
    )
    reset = await http.post("/v1/breaker/reset", headers=admin, json={"reason": "nothing"})
    released = await http.post(
        "/v1/kill-switch/release",
        headers=admin,
        json={"scope": "instrument", "target": "AAA.SIM", "reason": "never engaged"},
    )
    events = await all_events(running)

    assert [r.status_code for r in (engaged, again, reset, released)] == [200] * 4
    before, after = engaged.json()["state"], again.json()["state"]
    assert after["kill_switches"] == before["kill_switches"]
    assert after["ts_changed"] == before["ts_changed"]
    assert reset.json()["state"] == "REDUCING" and released.json()["engaged"] is False
    assert [r for _, r in _requests(events, "EngageKillSwitch")] == ["drill", "drill again"]
    assert [r for _, r in _requests(events, "ResetTradingState")] == ["nothing"]
    assert [r for _, r in _requests(events, "ReleaseKillSwitch")] == ["never engaged"]
    assert len(_changes(events, "KILL_SWITCH")) == 1
    assert _changes(events, "RESET") == []


async def test_node_api_order_list_and_order_serve_the_same_body(running: Running) -> None:
    node = running.node
    book = node.marketdata.book("AAA.SIM")
    assert book.best_bid is not None and book.best_ask is not None
    bid, ask = book.best_bid / 1e9, book.best_ask / 1e9
    requests = [
        {"side": "BUY", "quantity": "3", "price": f"{bid - 2:.2f}", "client_order_id": "rest-1"},
        {
            "side": "SELL",
            "quantity": "2",
            "price": f"{ask + 2:.2f}",
            "time_in_force": "DAY",
            "client_order_id": "day-1",
        },
        {
            "side": "BUY",
            "order_type": "STOP_LIMIT",
            "quantity": "2",
            "price": f"{ask + 3:.2f}",
            "trigger_price": f"{ask + 2.5:.2f}",
            "client_order_id": "stop-1",
        },
        {
            "side": "SELL",
            "order_type": "STOP_MARKET",
            "quantity": "2",
            "trigger_price": f"{bid - 2.5:.2f}",
            "time_in_force": "DAY",
            "client_order_id": "stop-2",
        },
    ]
    for request in requests:
        response = await running.http.post(
            "/v1/orders", headers=running.admin, json={"instrument_id": "AAA.SIM", **request}
        )
        assert response.status_code == 201, response.text
    await running.advance(0.5)
    # a quantity-only modify keeps the limit price
    live = node.oms.order("rest-1")
    assert live is not None and live.is_open
    node.submit_command(
        ModifyOrder(
            strategy_id=live.strategy_id,
            instrument_id=live.instrument_id,
            client_order_id="rest-1",
            quantity=Quantity.parse("4", live.quantity.precision),
            ts_init=node.now(),
        )
    )
    # a trigger-only modify of a held stop-limit order keeps its limit price
    stop = node.oms.order("stop-1")
    assert stop is not None and stop.is_open and stop.trigger_price is not None
    node.submit_command(
        ModifyOrder(
            strategy_id=stop.strategy_id,
            instrument_id=stop.instrument_id,
            client_order_id="stop-1",
            trigger_price=Price.parse(f"{ask + 2.4:.2f}", stop.trigger_price.precision),
            ts_init=node.now(),
        )
    )
    await running.advance(0.5)
    node.writer.flush()

    listed = (
        await running.http.get(
            "/v1/orders", headers=running.viewer, params={"strategy_id": "manual"}
        )
    ).json()
    assert {o["client_order_id"] for o in listed} == {r["client_order_id"] for r in requests}
    assert node.oms.order("stop-1").price is not None  # type: ignore[union-attr]
    for order in listed:
        one = await running.http.get(
            f"/v1/orders/{order['client_order_id']}", headers=running.viewer
        )
        assert order == one.json()


async def test_node_api_a_modify_the_gate_denies_leaves_the_listed_order_pending(
    running: Running,
) -> None:
    node = running.node
    book = node.marketdata.book("AAA.SIM")
    assert book.best_bid is not None
    bid = book.best_bid / 1e9
    placed = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={
            "instrument_id": "AAA.SIM",
            "side": "BUY",
            "quantity": "3",
            "price": f"{bid - 2:.2f}",
            "client_order_id": "rest-2",
        },
    )
    assert placed.status_code == 201, placed.text
    await running.advance(0.5)
    live = node.oms.order("rest-2")
    assert live is not None and live.price is not None
    accepted = live.status

    def modify(**change: Any) -> None:
        node.submit_command(
            ModifyOrder(
                strategy_id=live.strategy_id,
                instrument_id=live.instrument_id,
                client_order_id="rest-2",
                ts_init=node.now(),
                **change,
            )
        )

    modify(price=Price.parse(f"{bid - 1.5:.2f}", live.price.precision))  # sent: PENDING_UPDATE
    modify(quantity=Quantity.parse("99999999", live.quantity.precision))  # denied by the gate
    node.writer.flush()

    assert accepted is OrderStatus.ACCEPTED
    assert live.status is OrderStatus.PENDING_UPDATE
    one = (await running.http.get("/v1/orders/rest-2", headers=running.viewer)).json()
    listed = (
        await running.http.get("/v1/orders", headers=running.viewer, params={"open_only": True})
    ).json()
    assert one["status"] == "PENDING_UPDATE"
    assert [o for o in listed if o["client_order_id"] == "rest-2"] == [one]


async def test_node_api_an_order_is_listed_as_soon_as_its_post_answers(running: Running) -> None:
    book = running.node.marketdata.book("AAA.SIM")
    assert book.best_bid is not None
    price = f"{book.best_bid / 1e9 - 2:.2f}"
    stale = []
    for n in range(20):
        client_order_id = f"ryw-{n}"
        posted = await running.http.post(
            "/v1/orders",
            headers=running.admin,
            json={
                "instrument_id": "AAA.SIM",
                "side": "BUY",
                "quantity": "1",
                "price": price,
                "client_order_id": client_order_id,
            },
        )
        assert posted.status_code == 201, posted.text
        listed = await running.http.get("/v1/orders", headers=running.viewer, params={"limit": 1})
        if [o["client_order_id"] for o in listed.json()] != [client_order_id]:
            stale.append(client_order_id)

    assert stale == []


async def test_node_api_takes_a_gtd_order_expiring_at_a_node_timestamp(running: Running) -> None:
    node = running.node
    book = node.marketdata.book("AAA.SIM")
    assert book.best_ask is not None
    expire = node.now() + 60_000_000_000  # ns since the Unix epoch, as every ts_*
    response = await running.http.post(
        "/v1/orders",
        headers=running.admin,
        json={
            "instrument_id": "AAA.SIM",
            "side": "SELL",
            "quantity": "2",
            "price": f"{book.best_ask / 1e9 + 2:.2f}",
            "time_in_force": "GTD",
            "expire_time_ns": expire,
            "client_order_id": "gtd-1",
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["time_in_force"] == "GTD"
    order = node.oms.order("gtd-1")
    assert order is not None and order.expire_time_ns == expire


def _set_limits(limits: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The limits an ``instrument_limits`` answer sets (not null), per instrument."""
    return {key: {k: v for k, v in doc.items() if v is not None} for key, doc in limits.items()}


async def test_node_api_limits_of_one_instrument_change_only_what_the_patch_names(
    running: Running,
) -> None:
    """``instrument_limits`` merges like the rest of the patch: naming one limit of one
    instrument keeps the instrument's other limits and the other instruments' (a patch
    that tightened an order size used to drop a position cap); null clears a limit, or
    an instrument's every override."""
    http, admin = running.http, running.admin
    patches = [
        {"AAA.SIM": {"max_position": "7"}},
        {"AAA.SIM": {"max_order_quantity": "3"}},
        {"BBB.SIM": {"max_order_quantity": "2", "collar_bps": 100}},
    ]
    for patch in patches:
        response = await http.patch(
            "/v1/risk/limits", headers=admin, json={"instrument_limits": patch}
        )
        assert response.status_code == 200, response.text
    merged = response.json()["instrument_limits"]
    cleared = await http.patch(
        "/v1/risk/limits",
        headers=admin,
        json={"instrument_limits": {"AAA.SIM": {"max_position": None}, "BBB.SIM": None}},
    )
    live = running.node.risk.config.instrument_limits

    assert _set_limits(merged) == {
        "AAA.SIM": {"max_position": "7", "max_order_quantity": "3"},
        "BBB.SIM": {"max_order_quantity": "2", "collar_bps": 100},
    }
    assert cleared.status_code == 200, cleared.text
    assert _set_limits(cleared.json()["instrument_limits"]) == {
        "AAA.SIM": {"max_order_quantity": "3"}
    }
    assert set(live) == {"AAA.SIM"}
    assert live["AAA.SIM"].max_position is None


async def test_node_api_a_reset_the_breaker_refuses_in_its_cool_down_is_409(
    running: Running,
) -> None:
    """After an automatic REDUCING trip the breaker refuses a reset until its cool-down
    has passed: the operator is told so (409 naming when it ends), not answered 200 as
    if there had been nothing to reset. The request is in the audit log all the same,
    with the breaker's refusal."""
    http, admin = running.http, running.admin
    for _ in range(30):  # denied by the price collar: the deny rate trips the breaker
        denied = await http.post(
            "/v1/orders",
            headers=admin,
            json={"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "5", "price": "1.00"},
        )
        assert denied.json()["status"] == "DENIED"
    tripped = (await http.get("/v1/trading-state", headers=running.viewer)).json()

    reset = await http.post("/v1/breaker/reset", headers=admin, json={"reason": "too soon"})
    put = await http.put(
        "/v1/trading-state", headers=admin, json={"state": "ACTIVE", "reason": "too soon"}
    )
    events = await all_events(running)

    assert tripped["state"] == "REDUCING"
    for refused in (reset, put):
        assert refused.status_code == 409, refused.text
        assert "cool-down" in refused.json()["message"]
    assert running.node.risk.trading_state is TradingState.REDUCING
    assert [r for _, r in _requests(events, "ResetTradingState")] == ["too soon", "too soon"]
    alerts = [e["data"]["code"] for e in events if e["type"] == "TradingAlert"]
    assert alerts.count("RESET_REFUSED") == 2


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"min_order_quantity": "100", "max_order_quantity": "10"}, "min_order_quantity"),
        ({"min_order_quantity": "200000"}, "min_order_quantity"),  # above the default max
        (
            {
                "instrument_limits": {"AAA.SIM": {"min_order_quantity": "50"}},
                "max_order_quantity": "5",
            },
            "instrument_limits",
        ),
    ],
    ids=["both", "min-above-the-max-in-force", "an-instrument's"],
)
async def test_node_api_a_minimum_order_quantity_above_the_maximum_is_422(
    running: Running, patch: dict[str, Any], field: str
) -> None:
    """Limits no order can meet are a mistake, refused naming the field, not put in force
    to deny every order."""
    before = (await running.http.get("/v1/risk/limits", headers=running.viewer)).json()

    response = await running.http.patch("/v1/risk/limits", headers=running.admin, json=patch)
    after = (await running.http.get("/v1/risk/limits", headers=running.viewer)).json()

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert "max_order_quantity" in response.json()["message"]
    assert after == before


async def test_node_api_read_models_held_locked_elsewhere_are_503_and_close_releases_them(
    running: Running, tmp_path: Path
) -> None:
    """Another process holding the read models' write lock (a rebuild's batch, a CLI
    catch-up) makes a read that must catch up a 503 after the node's short lock timeout,
    not a 500 after the store's 5 s on the event loop; closing them frees the files."""
    path = tmp_path / "events.readmodels.db"
    assert (await running.http.get("/v1/positions", headers=running.viewer)).status_code == 200
    bid = running.node.marketdata.book("AAA.SIM").best_bid
    assert bid is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        placed = await running.http.post(
            "/v1/orders",
            headers=running.admin,
            json={
                "instrument_id": "AAA.SIM",
                "side": "BUY",
                "quantity": "1",
                "price": f"{bid / 1e9 * 0.99:.2f}",
            },
        )
        locked = await running.http.get("/v1/positions", headers=running.viewer)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    again = await running.http.get("/v1/positions", headers=running.viewer)
    store = running.node._read_model_store
    assert isinstance(store, SQLiteReadModelStore)
    timeout_ms = store._connection.execute("PRAGMA busy_timeout").fetchone()[0]
    running.node.close_read_models()

    assert placed.status_code == 201, placed.text
    assert locked.status_code == 503, locked.text
    assert "read models" in locked.text and "database is locked" in locked.text
    assert again.status_code == 200
    assert timeout_ms == 500
    fds = Path("/proc/self/fd")
    assert not [f for f in fds.iterdir() if str(path) in str(f.resolve(strict=False))]
