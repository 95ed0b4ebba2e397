"""One WebSocket client: its bounded queues, batching, backpressure and frame writing.

Outbound records wait in three places, flushed in this order into frames of at most
``max_batch`` records:

1. ``priority`` - control records, orders and fills (never dropped);
2. ``market``   - trades, book, PnL and latency records (never dropped);
3. ``quotes``   - one record per quote channel, the latest wins (conflation).

A frame leaves when ``max_batch`` records are waiting, else at the end of the loop turn
(or ``max_delay_ns`` later). When the socket's write buffer passes its high-water mark
(``pause_writing``) nothing more is written until it drains; records keep queueing, and a
client whose unconflated backlog passes ``queue_capacity`` or who stays paused longer than
``max_lag_ns`` is closed with 1013 (try again later) so it cannot hold the others back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import msgspec
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

from spreadwire.api.auth import Principal
from spreadwire.api.config import WsConfig
from spreadwire.api.ws.codec import HEADROOM, MSGPACK, RecordCodec, build_frame
from spreadwire.api.ws.deflate import Deflater

if TYPE_CHECKING:
    from spreadwire.api.ws.broadcaster import Channel


class SessionOwner(Protocol):
    """What a session calls back into (the WebSocket server)."""

    def on_connected(self, session: Session) -> None: ...

    def on_message(self, session: Session, payload: bytes) -> None: ...

    def on_disconnected(self, session: Session) -> None:
        """Called once a session stops taking records (closing or disconnected)."""


class Session(WSListener):
    """The server side of one connection (a picows listener: callbacks, no futures)."""

    def __init__(
        self,
        session_id: int,
        owner: SessionOwner,
        principal: Principal,
        config: WsConfig,
        codec: RecordCodec,
        *,
        encoding: int,
        deflate: Deflater | None,
        now_ns: Callable[[], int],
    ) -> None:
        self.session_id = session_id
        self.principal = principal
        self.encoding = encoding
        self.deflate = deflate
        self.codec = codec
        self.channels: dict[str, Channel] = {}
        self.transport: WSTransport | None = None
        self.peer = "unknown"
        self.closed = False
        self.slow = False
        self.paused = False
        self.paused_since_ns = 0
        self.last_sent_ns = 0
        self.frames_sent = 0
        self.records_sent = 0
        self.conflated = 0
        self._owner = owner
        self._now_ns = now_ns
        self._abort_after_s = config.ping_timeout_ns / 1e9
        self._max_batch = config.max_batch
        self._capacity = config.queue_capacity
        self._delay_s = config.max_delay_ns / 1e9
        self._priority: deque[bytes] = deque()
        self._market: deque[bytes] = deque()
        self._quotes: dict[str, bytes] = {}
        self._scheduled = False
        self._buffer = bytearray(HEADROOM)
        self._loop = asyncio.get_running_loop()
        self._frame_type = WSMsgType.BINARY if encoding == MSGPACK else WSMsgType.TEXT
        self._max_message = config.max_message_bytes
        self._write_high = config.write_buffer_high

    # --- picows callbacks -----------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        underlying = transport.underlying_transport
        underlying.set_write_buffer_limits(high=self._write_high)
        peer = underlying.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else "unknown"
        self._owner.on_connected(self)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type is WSMsgType.TEXT or msg_type is WSMsgType.BINARY:
            if not frame.fin:
                self.close(WSCloseCode.MESSAGE_TOO_BIG, "fragmented messages are not accepted")
                return
            payload = frame.get_payload_as_bytes()
            if frame.rsv1:
                if self.deflate is None:
                    self.close(WSCloseCode.PROTOCOL_ERROR, "compressed frame without deflate")
                    return
                try:
                    payload = self.deflate.decompress(payload, self._max_message)
                except ValueError as error:
                    self.close(WSCloseCode.MESSAGE_TOO_BIG, str(error))
                    return
            self._owner.on_message(self, payload)
        elif msg_type is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._release()

    def pause_writing(self) -> None:
        self.paused = True
        self.paused_since_ns = self._now_ns()

    def resume_writing(self) -> None:
        self.paused = False
        if not self.closed:
            self.flush()

    # --- queueing -------------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Records waiting to be written (conflated quotes included)."""
        return len(self._priority) + len(self._market) + len(self._quotes)

    def put_quote(self, key: str, record: bytes) -> None:
        """Queue the latest quote record of channel ``key`` (replacing an unsent one)."""
        if self.closed:
            return
        quotes = self._quotes
        if key in quotes:
            self.conflated += 1
        quotes[key] = record
        if len(quotes) + len(self._market) + len(self._priority) >= self._max_batch:
            self.flush()
        elif not self._scheduled:
            self._schedule()

    def put(self, record: bytes, *, priority: bool = False) -> None:
        """Queue an unconflated record; past ``queue_capacity`` the client is closed."""
        if self.closed:
            return
        queue = self._priority if priority else self._market
        queue.append(record)
        pending = len(self._priority) + len(self._market)
        if pending > self._capacity:
            self.close_slow()
        elif pending + len(self._quotes) >= self._max_batch:
            self.flush()
        elif not self._scheduled:
            self._schedule()

    def send_control(self, record: msgspec.Struct) -> None:
        """Queue a control record ahead of data and write at once."""
        self.queue_control(record)
        self.flush()

    def queue_control(self, record: msgspec.Struct) -> None:
        """Queue a control record ahead of data, written with the next frame."""
        if not self.closed:
            self._priority.append(self.codec.control(record, self.encoding))

    def _schedule(self) -> None:
        self._scheduled = True
        if self._delay_s:
            self._loop.call_later(self._delay_s, self._scheduled_flush)
        else:
            self._loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._scheduled = False
        self.flush()

    # --- writing --------------------------------------------------------------------------

    def flush(self) -> None:
        """Write waiting records as frames until empty or the socket pushes back."""
        transport = self.transport
        if transport is None or self.paused or self.closed:
            return
        max_batch = self._max_batch
        while not self.paused:
            batch = self._take(max_batch)
            if not batch:
                return
            self._write(transport, batch)

    def _take(self, limit: int) -> list[bytes]:
        batch: list[bytes] = []
        for queue in (self._priority, self._market):
            take = min(len(queue), limit - len(batch))
            if take == len(queue):
                batch.extend(queue)
                queue.clear()
            else:
                batch.extend(queue.popleft() for _ in range(take))
        room = limit - len(batch)
        quotes = self._quotes
        if room and quotes:
            if len(quotes) <= room:
                batch.extend(quotes.values())
                quotes.clear()
            else:
                batch.extend(quotes.pop(key) for key in list(quotes)[:room])
        return batch

    def _write(self, transport: WSTransport, batch: list[bytes]) -> None:
        buffer = self._buffer
        build_frame(buffer, batch, self.encoding)
        if self.deflate is None:
            transport.send_reuse_external_bytearray(self._frame_type, buffer, HEADROOM)
        else:
            data = self.deflate.compress(buffer[HEADROOM:])
            transport.send(self._frame_type, data, rsv1=True)
        self.frames_sent += 1
        self.records_sent += len(batch)
        self.last_sent_ns = self._now_ns()

    # --- closing --------------------------------------------------------------------------

    def close_slow(self, reason: str = "client too slow: queue overflow") -> None:
        """Drop the backlog and close with 1013: the client could not keep up."""
        self.slow = True
        self.close(WSCloseCode.TRY_AGAIN_LATER, reason)

    def close(self, code: WSCloseCode, reason: str) -> None:
        """Send a close frame after what is already written, then disconnect.

        A peer that does not read is aborted ``ping_timeout_ns`` later.
        """
        if self.closed:
            return
        self._release()
        transport = self.transport
        if transport is not None:
            transport.send_close(code, reason.encode())
            transport.disconnect(graceful=True)
            self._loop.call_later(self._abort_after_s, self._abort, transport)

    @staticmethod
    def _abort(transport: WSTransport) -> None:
        if not transport.is_disconnected:
            transport.disconnect(graceful=False)

    def _release(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._priority.clear()
        self._market.clear()
        self._quotes.clear()
        self._owner.on_disconnected(self)
