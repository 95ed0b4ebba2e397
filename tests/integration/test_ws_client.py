"""``spreadwire.client`` against the real WebSocket server, both encodings."""

from __future__ import annotations

import asyncio

import pytest

from spreadwire.api.config import WsConfig
from spreadwire.api.schemas import PnlView
from spreadwire.client import (
    BookDelta,
    BookSnapshot,
    Client,
    ConnectionClosedError,
    Control,
    Fill,
    HandshakeRefusedError,
    Message,
    OrderUpdate,
    Pnl,
    Quote,
    Trade,
    connect,
)
from spreadwire.domain.enums import LiquiditySide, OrderSide
from spreadwire.domain.events import OrderAccepted, OrderFilled
from tests.builders import make_book_delta, make_quote, make_trade, price, qty
from tests.unit.api.harness import GENEROUS, running_api

ENCODINGS = ["json", "msgpack"]


async def data_messages(client: Client, count: int) -> list[Message]:
    """The next ``count`` non-control messages."""
    out: list[Message] = []
    while len(out) < count:
        message = await client.receive(5)
        if not isinstance(message, Control):
            out.append(message)
    return out


async def control(client: Client, kind: str) -> Control:
    while True:
        message = await client.receive(5)
        if isinstance(message, Control) and message.type == kind:
            return message


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_client_decodes_every_channel_to_fixed_point_messages(encoding: str) -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        client = await connect(
            api.ws.url,
            key=api.keys.viewer,
            encoding=encoding,  # type: ignore[arg-type]
            channels=["quotes.AAA", "trades.AAA", "book.AAA", "orders", "fills", "pnl"],
        )
        async with client:
            await control(client, "subscribed")
            await data_messages(client, 1)  # the (empty) book snapshot
            api.broadcaster.publish(make_quote(bid="100.01"))
            api.broadcaster.publish(make_trade(trade_price="100.02"))
            api.broadcaster.publish(make_book_delta(level_price="99.99"))
            api.broadcaster.publish(OrderAccepted(strategy_id="s", instrument_id="AAA.SIM",
                                                  client_order_id="O-1", venue_order_id="V-1",
                                                  ts_event=1, ts_init=1))  # fmt: skip
            api.broadcaster.publish(OrderFilled(strategy_id="s", instrument_id="AAA.SIM",
                                                client_order_id="O-1", venue_order_id="V-1",
                                                trade_id="T-1", side=OrderSide.BUY,
                                                last_qty=qty("1"), last_px=price("100.02"),
                                                cum_qty=qty("1"), leaves_qty=qty("0"),
                                                liquidity_side=LiquiditySide.TAKER,
                                                ts_event=2, ts_init=2))  # fmt: skip
            api.broadcaster.publish(
                PnlView(realized="1", unrealized="2", total="3", currency="USD")
            )
            messages = await data_messages(client, 7)

    kinds = [type(m) for m in messages]
    assert kinds == [OrderUpdate, OrderUpdate, Fill, Trade, BookDelta, Pnl, Quote]
    quote = messages[-1]
    assert isinstance(quote, Quote)
    assert (quote.symbol, quote.bid_price, quote.ask_size) == ("AAA", price("100.01"), qty("10"))
    fill = messages[2]
    assert isinstance(fill, Fill)
    assert fill.event["last_px"] == price("100.02")
    assert client.gaps == {}


async def test_client_book_snapshot_then_deltas_rebuild_the_book() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        api.broadcaster.publish(make_book_delta(level_price="99.00", size="5"))
        client = await connect(api.ws.url, key=api.keys.viewer, channels=["book.AAA"])
        async with client:
            (snapshot,) = await data_messages(client, 1)
            api.broadcaster.publish(make_book_delta(level_price="99.00", size="0"))
            (delta,) = await data_messages(client, 1)

    assert isinstance(snapshot, BookSnapshot)
    assert snapshot.bids == [(price("99.00"), qty("5"))]
    assert isinstance(delta, BookDelta)
    assert (delta.seq, delta.size) == (snapshot.seq + 1, qty("0"))


async def test_client_ping_is_answered_by_pong_with_its_id() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        async with await connect(api.ws.url, key=api.keys.viewer) as client:
            request_id = client.ping()
            pong = await control(client, "pong")

    assert pong.data["id"] == request_id


async def test_client_with_invalid_key_gets_handshake_refused_401() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        with pytest.raises(HandshakeRefusedError) as raised:
            await connect(api.ws.url, key="swk_bad_bad")

    assert raised.value.status == 401
    assert b"unauthenticated" in raised.value.body


async def test_client_closed_by_server_raises_with_close_code() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        client = await connect(api.ws.url, key=api.keys.viewer)
        await control(client, "welcome")
        api.key_store.revoke(api.keys.viewer.split("_")[1])
        with pytest.raises(ConnectionClosedError) as raised:
            async with asyncio.timeout(5):
                async for _ in client:
                    pass

    assert raised.value.code == 1008


async def test_client_iteration_ends_on_normal_server_shutdown() -> None:
    async with running_api(rest=False) as api:
        assert api.ws is not None
        client = await connect(api.ws.url, key=api.keys.viewer)
        await control(client, "welcome")
        await api.ws.stop()
        received = [message async for message in client]

    assert received == []
    assert client.close_code == 1001


async def test_client_slow_consumer_pushes_back_and_gets_1013() -> None:
    config = WsConfig(port=0, op_rate=GENEROUS, queue_capacity=500, write_buffer_high=16 * 1024)
    async with running_api(rest=False, ws_config=config) as api:
        assert api.ws is not None
        client = await connect(api.ws.url, key=api.keys.viewer, channels=["trades.AAA"],
                               max_buffer=100)  # fmt: skip
        await control(client, "subscribed")
        (session,) = api.ws.sessions
        trade = make_trade()
        for _ in range(5_000):
            if session.closed:
                break
            for _ in range(100):
                api.broadcaster.publish_trade(trade)
            await asyncio.sleep(0)
        with pytest.raises(ConnectionClosedError) as raised:
            async with asyncio.timeout(10):
                async for _ in client:
                    pass

    assert raised.value.code == 1013
