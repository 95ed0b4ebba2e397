"""The WebSocket server on loopback, driven by the third-party ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from spreadwire.api.config import RateLimit, WsConfig
from tests.builders import make_book_delta, make_quote, make_trade
from tests.unit.api.harness import GENEROUS, Api, generous_gateway, running_api

ENCODINGS = ["json", "msgpack"]


def decode(frame: str | bytes) -> list[Any]:
    if isinstance(frame, bytes):
        return list(msgspec.msgpack.decode(frame))
    return list(json.loads(frame))


async def receive(ws: ClientConnection) -> list[Any]:
    async with asyncio.timeout(5):
        return decode(await ws.recv())


async def open_ws(
    api: Api, encoding: str = "json", role: str = "viewer", **kwargs: Any
) -> ClientConnection:
    assert api.ws is not None
    ws = await connect(
        f"{api.ws.url}?encoding={encoding}", additional_headers=api.keys.header(role), **kwargs
    )
    (welcome,) = await receive(ws)
    assert welcome["type"] == "welcome"
    return ws


async def subscribe(ws: ClientConnection, *channels: str) -> list[Any]:
    await ws.send(json.dumps({"op": "subscribe", "channels": list(channels), "id": 1}))
    return await receive(ws)


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_ws_subscriber_receives_quotes_trades_and_book_in_its_encoding(encoding: str) -> None:
    async with running_api(rest=False) as api:
        api.broadcaster.publish(make_book_delta(level_price="99.00"))
        ws = await open_ws(api, encoding)
        ack, *snapshot = await subscribe(ws, "quotes.AAA", "trades.AAA", "book.AAA")

        api.broadcaster.publish(make_quote(bid="99.01"))
        api.broadcaster.publish(make_trade(trade_price="99.02"))
        api.broadcaster.publish(make_book_delta(level_price="98.99"))
        batch = await receive(ws)
        await ws.close()

    assert ack == {
        "type": "subscribed",
        "id": 1,
        "channels": ["quotes.AAA", "trades.AAA", "book.AAA"],
    }
    if encoding == "json":
        assert [(r["type"], r["seq"]) for r in snapshot] == [("book_snapshot", 1)]
        assert [(r["type"], r["ch"], r["seq"]) for r in batch] == [
            ("trade", "trades.AAA", 1),
            ("book_delta", "book.AAA", 2),
            ("quote", "quotes.AAA", 1),
        ]
        assert batch[2]["bid"] == "99.01"
    else:
        assert [(r[0], r[2]) for r in snapshot] == [("s", 1)]
        assert [(r[0], r[1], r[2]) for r in batch] == [
            ("t", "trades.AAA", 1),
            ("d", "book.AAA", 2),
            ("q", "quotes.AAA", 1),
        ]
        assert batch[2][4:6] == [99_010_000_000, 2]


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_ws_bad_messages_get_error_frames_and_connection_lives(encoding: str) -> None:
    async with running_api(rest=False) as api:
        ws = await open_ws(api, encoding)

        await ws.send("not json")
        (garbage,) = await receive(ws)
        await ws.send(json.dumps({"op": "dance"}))
        (unknown_op,) = await receive(ws)
        replies = await subscribe(ws, "quotes.AAA", "quotes.NOPE")
        await ws.send(json.dumps({"op": "ping", "id": 42}))
        (pong,) = await receive(ws)
        await ws.close()

    assert (garbage["type"], garbage["code"]) == ("error", "bad_message")
    assert (unknown_op["code"], unknown_op["field"]) == ("bad_message", "op")
    assert [r["type"] for r in replies] == ["subscribed", "error"]
    assert replies[0]["channels"] == ["quotes.AAA"]
    assert (replies[1]["code"], replies[1]["field"]) == ("unknown_channel", "channels[1]")
    assert (pong["type"], pong["id"]) == ("pong", 42)


async def test_ws_unsubscribed_channel_stops_arriving() -> None:
    async with running_api(rest=False) as api:
        ws = await open_ws(api)
        await subscribe(ws, "trades.AAA", "trades.BBB")
        await ws.send(json.dumps({"op": "unsubscribe", "channels": ["trades.AAA"], "id": 2}))
        (ack,) = await receive(ws)

        api.broadcaster.publish(make_trade("AAA.SIM"))
        api.broadcaster.publish(make_trade("BBB.SIM"))
        batch = await receive(ws)
        await ws.close()

    assert ack == {"type": "unsubscribed", "id": 2, "channels": ["trades.AAA"]}
    assert [r["ch"] for r in batch] == ["trades.BBB"]


async def test_ws_token_query_parameter_authenticates() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        ws = await connect(f"{api.ws.url}?encoding=json&token={api.keys.viewer}")
        (welcome,) = await receive(ws)
        await ws.close()

    assert welcome["type"] == "welcome"


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("", {}, 401),
        ("&token=swk_nope_nope", {}, 401),
        ("", {"Authorization": "Bearer not-a-key"}, 401),
        ("&encoding=xml", None, 400),
    ],
)
async def test_ws_upgrade_without_valid_credential_is_refused_in_error_shape(
    query: str, headers: dict[str, str] | None, status: int
) -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        sent = api.keys.header("viewer") if headers is None else headers
        with pytest.raises(websockets.InvalidStatus) as raised:
            await connect(f"{api.ws.url}?x=1{query}", additional_headers=sent)

    response = raised.value.response
    assert response.status_code == status
    assert json.loads(response.body)["status"] == status


async def test_ws_connections_per_key_past_limit_are_refused_429() -> None:
    config = WsConfig(port=0, op_rate=GENEROUS, max_connections_per_key=2)
    async with running_api(rest=False, ws_config=config) as api:
        first = await open_ws(api)
        second = await open_ws(api)
        with pytest.raises(websockets.InvalidStatus) as raised:
            await open_ws(api)
        other_key = await open_ws(api, role="admin")
        for ws in (first, second, other_key):
            await ws.close()

    assert raised.value.response.status_code == 429


async def test_ws_server_full_refuses_503() -> None:
    config = WsConfig(port=0, op_rate=GENEROUS, max_connections=1)
    async with running_api(rest=False, ws_config=config) as api:
        first = await open_ws(api)
        with pytest.raises(websockets.InvalidStatus) as raised:
            await open_ws(api, role="admin")
        await first.close()

    assert raised.value.response.status_code == 503


async def test_ws_upgrade_past_per_key_rate_is_429_with_retry_after() -> None:
    gateway = generous_gateway(key_rate=RateLimit(limit=1, interval_ns=60 * 10**9, burst=2))
    async with running_api(rest=False, gateway=gateway) as api:
        first = await open_ws(api)
        second = await open_ws(api)
        with pytest.raises(websockets.InvalidStatus) as raised:
            await open_ws(api)
        await first.close()
        await second.close()

    assert raised.value.response.status_code == 429
    assert int(raised.value.response.headers["Retry-After"]) >= 1


async def test_ws_client_operations_past_rate_get_rate_limited_error() -> None:
    config = WsConfig(port=0, op_rate=RateLimit(limit=1, interval_ns=60 * 10**9, burst=2))
    async with running_api(rest=False, ws_config=config) as api:
        ws = await open_ws(api)
        replies = []
        for request_id in range(3):
            await ws.send(json.dumps({"op": "ping", "id": request_id}))
            replies.extend(await receive(ws))
        await ws.close()

    assert [r["type"] for r in replies] == ["pong", "pong", "error"]
    assert replies[2]["code"] == "rate_limited"


async def test_ws_json_client_may_opt_in_to_permessage_deflate() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        url = f"{api.ws.url}?encoding=json&compression=deflate"
        ws = await connect(url, additional_headers=api.keys.header("viewer"))
        assert ws.response is not None
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
        (welcome,) = await receive(ws)
        await subscribe(ws, "quotes.AAA")
        api.broadcaster.publish(make_quote(bid="99.50"))
        (quote,) = await receive(ws)
        await ws.close()

    assert extensions is not None and extensions.startswith("permessage-deflate")
    assert welcome["compression"] == "deflate"
    assert quote["bid"] == "99.50"


async def test_ws_without_opt_in_no_compression_is_negotiated() -> None:
    async with running_api(rest=False) as api:
        ws = await open_ws(api, "json")  # websockets offers deflate by default
        assert ws.response is not None
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
        await ws.close()

    assert extensions is None


async def test_ws_quiet_client_gets_heartbeat_with_last_sequences() -> None:
    config = WsConfig(port=0, op_rate=GENEROUS, heartbeat_interval_ns=50_000_000)
    async with running_api(rest=False, ws_config=config) as api:
        ws = await open_ws(api)
        await subscribe(ws, "trades.AAA")
        api.broadcaster.publish(make_trade())
        await receive(ws)
        (heartbeat,) = await receive(ws)
        await ws.close()

    assert heartbeat["type"] == "heartbeat"
    assert heartbeat["seqs"] == {"trades.AAA": 1}


async def test_ws_revoked_key_sessions_are_closed_1008() -> None:
    async with running_api(rest=False) as api:
        ws = await open_ws(api)
        key_id = api.keys.viewer.split("_")[1]

        api.key_store.revoke(key_id)
        async with asyncio.timeout(5):
            await ws.wait_closed()

    assert ws.close_code == 1008


async def test_ws_server_stop_closes_sessions_1001() -> None:
    async with running_api(rest=False) as api:
        ws = await open_ws(api)
        assert api.ws is not None
        await api.ws.stop()
        async with asyncio.timeout(5):
            await ws.wait_closed()

    assert ws.close_code == 1001


async def test_ws_stats_count_connections_and_records() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        ws = await open_ws(api)
        await subscribe(ws, "trades.AAA")
        api.broadcaster.publish(make_trade())
        await receive(ws)
        stats = api.ws.stats()
        await ws.close()

    assert stats["connections"] == 1
    assert stats["records_sent_total"] == 3  # welcome, subscribed, trade
    assert stats["published_total"] == 1
