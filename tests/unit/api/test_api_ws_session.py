"""A WebSocket session's queues: batching, conflation, priority, backpressure, 1013."""

from __future__ import annotations

import asyncio

from picows import WSCloseCode

from spreadwire.api.config import WsConfig
from spreadwire.api.ws.protocol import Pong
from tests.unit.api.fakes import make_session, records


async def test_session_records_of_one_loop_turn_leave_in_one_frame() -> None:
    session, transport, _ = make_session()

    session.put(b"\x01")
    session.put(b"\x02")
    session.put_quote("quotes.AAA", b"\x03")
    await asyncio.sleep(0)

    assert records(transport) == [[1, 2, 3]]


async def test_session_full_batch_is_written_at_once() -> None:
    session, transport, _ = make_session(WsConfig(max_batch=3))

    for value in (1, 2, 3, 4):
        session.put(bytes([value]))

    assert records(transport) == [[1, 2, 3]]
    await asyncio.sleep(0)
    assert records(transport) == [[1, 2, 3], [4]]


async def test_session_unsent_quote_is_replaced_by_the_latest() -> None:
    session, transport, _ = make_session()

    session.put_quote("quotes.AAA", b"\x01")
    session.put_quote("quotes.BBB", b"\x02")
    session.put_quote("quotes.AAA", b"\x03")
    await asyncio.sleep(0)

    assert records(transport) == [[3, 2]]
    assert session.conflated == 1


async def test_session_orders_go_before_market_data_and_quotes() -> None:
    session, transport, _ = make_session()

    session.put_quote("quotes.AAA", b"\x05")
    session.put(b"\x06")
    session.put(b"\x07", priority=True)
    await asyncio.sleep(0)

    assert records(transport) == [[7, 6, 5]]


async def test_session_paused_socket_holds_frames_until_resumed() -> None:
    session, transport, _ = make_session()
    session.pause_writing()

    session.put(b"\x01")
    await asyncio.sleep(0)
    held = list(transport.frames)
    session.resume_writing()

    assert held == []
    assert records(transport) == [[1]]


async def test_session_backlog_past_capacity_closes_with_1013() -> None:
    session, transport, owner = make_session(WsConfig(queue_capacity=3))
    session.pause_writing()

    for value in range(4):
        session.put(bytes([value]))

    assert transport.closed_with is not None
    assert transport.closed_with[0] is WSCloseCode.TRY_AGAIN_LATER
    assert session.slow and session.closed
    assert owner.gone == [session]
    assert session.backlog == 0


async def test_session_quotes_alone_never_overflow_while_paused() -> None:
    session, transport, _ = make_session(WsConfig(queue_capacity=3))
    session.pause_writing()

    for _ in range(1000):
        session.put_quote("quotes.AAA", b"\x01")

    assert transport.closed_with is None
    assert session.backlog == 1


async def test_session_control_record_is_written_immediately() -> None:
    session, transport, _ = make_session()

    session.send_control(Pong(id=4, ts=9))

    assert records(transport) == [[{"type": "pong", "id": 4, "ts": 9}]]


async def test_session_after_close_ignores_new_records() -> None:
    session, transport, _ = make_session()
    session.close(WSCloseCode.GOING_AWAY, "bye")

    session.put(b"\x01")
    session.put_quote("quotes.AAA", b"\x02")
    await asyncio.sleep(0)

    assert transport.frames == []
    assert transport.closed_with == (WSCloseCode.GOING_AWAY, b"bye")
