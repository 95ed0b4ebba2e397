"""An async Python client for the spreadwire WebSocket API.

::

    from spreadwire.client import connect

    async with await connect("ws://127.0.0.1:8081/ws", key=KEY,
                             channels=["quotes.AAA", "orders"]) as client:
        async for message in client:
            print(message)        # Quote, Trade, BookSnapshot, BookDelta, OrderUpdate, ...

Messages are decoded into small frozen structs with exact fixed-point values
(:class:`~spreadwire.domain.values.Price`, :class:`~spreadwire.domain.values.Quantity`) in
both encodings. The client runs on picows callbacks; decoded messages wait in a local
buffer, and when the buffer is full the client stops reading the socket, so a slow consumer
pushes back on the server (which may then close it with 1013). ``last_seq`` holds the last
sequence number per channel and ``gaps`` counts missed sequence numbers on channels that
must not skip (quotes may skip by design: they are conflated).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, Self

import msgspec
import picows
from picows import WSCloseCode, WSMsgType, WSTransport

from spreadwire.domain.values import Price, Quantity


class Control(msgspec.Struct, frozen=True, kw_only=True):
    """A control record: ``welcome``, ``subscribed``, ``unsubscribed``, ``pong``,
    ``error`` or ``heartbeat``, with its fields in ``data``."""

    type: str
    data: dict[str, Any]


class _Data(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    channel: str
    seq: int
    ts_event: int


class Quote(_Data, frozen=True, kw_only=True, gc=False):
    symbol: str
    bid_price: Price
    bid_size: Quantity
    ask_price: Price
    ask_size: Quantity


class Trade(_Data, frozen=True, kw_only=True, gc=False):
    symbol: str
    price: Price
    size: Quantity
    aggressor_side: str
    trade_id: str


class BookSnapshot(_Data, frozen=True, kw_only=True):
    symbol: str
    bids: list[tuple[Price, Quantity]]
    asks: list[tuple[Price, Quantity]]


class BookDelta(_Data, frozen=True, kw_only=True, gc=False):
    symbol: str
    action: str
    side: str
    price: Price
    size: Quantity


class OrderUpdate(_Data, frozen=True, kw_only=True):
    """An order event; ``event["type"]`` is its name (``OrderAccepted``...)."""

    event: dict[str, Any]


class Fill(_Data, frozen=True, kw_only=True):
    event: dict[str, Any]


class Pnl(_Data, frozen=True, kw_only=True):
    data: dict[str, Any]


class Latency(_Data, frozen=True, kw_only=True):
    data: dict[str, Any]


Message = Control | Quote | Trade | BookSnapshot | BookDelta | OrderUpdate | Fill | Pnl | Latency


class ConnectionClosedError(ConnectionError):
    """The server closed the connection abnormally (``code``: 1013 slow, 1008 policy...)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"connection closed: {code} {reason}".strip())
        self.code = code
        self.reason = reason


class HandshakeRefusedError(ConnectionError):
    """The server refused the upgrade: ``status`` 401, 429, 503... and its JSON ``body``."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"upgrade refused: {status} {body.decode(errors='replace')}")
        self.status = status
        self.body = body


_PRICE_FIELDS: Final = frozenset({"price", "trigger_price", "last_px"})
_SIZE_FIELDS: Final = frozenset({"quantity", "last_qty", "cum_qty", "leaves_qty"})
_NORMAL_CLOSE: Final = frozenset({1000, 1001})


def _price(value: Any) -> Price:
    if isinstance(value, list):
        return Price(raw=value[0], precision=value[1])
    return Price.parse(value)


def _size(value: Any) -> Quantity:
    if isinstance(value, list):
        return Quantity(raw=value[0], precision=value[1])
    return Quantity.parse(value)


def _event(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for name, value in fields.items():
        if value is None:
            continue
        if name in _PRICE_FIELDS:
            out[name] = _price(value)
        elif name in _SIZE_FIELDS:
            out[name] = _size(value)
    return out


def _symbol(channel: str) -> str:
    return channel.partition(".")[2]


def _fixed(record: list[Any], at: int) -> tuple[Price, Quantity]:
    """The price and size stored flat as ``raw, precision, raw, precision`` from ``at``."""
    return (
        Price(raw=record[at], precision=record[at + 1]),
        Quantity(raw=record[at + 2], precision=record[at + 3]),
    )


def _from_array(record: list[Any]) -> Message:
    """A msgpack data record ``[kind, channel, seq, ts, ...]`` (values flat)."""
    kind, channel, seq, ts = record[0], record[1], record[2], record[3]
    base: dict[str, Any] = {"channel": channel, "seq": seq, "ts_event": ts}
    match kind:
        case "q":
            bid, bid_size = _fixed(record, 4)
            ask, ask_size = _fixed(record, 8)
            return Quote(**base, symbol=_symbol(channel), bid_price=bid, bid_size=bid_size,
                         ask_price=ask, ask_size=ask_size)  # fmt: skip
        case "t":
            price, size = _fixed(record, 4)
            return Trade(**base, symbol=_symbol(channel), price=price, size=size,
                         aggressor_side=record[8], trade_id=record[9])  # fmt: skip
        case "d":
            price, size = _fixed(record, 6)
            return BookDelta(**base, symbol=_symbol(channel), action=record[4], side=record[5],
                             price=price, size=size)  # fmt: skip
        case "s":
            bids = [_fixed(level, 0) for level in record[4]]
            asks = [_fixed(level, 0) for level in record[5]]
            return BookSnapshot(**base, symbol=_symbol(channel), bids=bids, asks=asks)
        case "o":
            return OrderUpdate(**base, event=_event(record[4]))
        case "f":
            return Fill(**base, event=_event(record[4]))
        case "p":
            return Pnl(**base, data=record[4])
        case _:
            return Latency(**base, data=record[4])


def _from_object(record: dict[str, Any]) -> Message:
    """A JSON record (or a control record of either encoding)."""
    kind = record.get("type", "")
    if "seq" not in record:
        return Control(type=kind, data=record)
    channel = record["ch"]
    base: dict[str, Any] = {"channel": channel, "seq": record["seq"], "ts_event": record["ts"]}
    match kind:
        case "quote":
            return Quote(**base, symbol=_symbol(channel), bid_price=_price(record["bid"]),
                         bid_size=_size(record["bid_size"]), ask_price=_price(record["ask"]),
                         ask_size=_size(record["ask_size"]))  # fmt: skip
        case "trade":
            return Trade(**base, symbol=_symbol(channel), price=_price(record["price"]),
                         size=_size(record["size"]), aggressor_side=record["side"],
                         trade_id=record["trade_id"])  # fmt: skip
        case "book_delta":
            return BookDelta(**base, symbol=_symbol(channel), action=record["action"],
                             side=record["side"], price=_price(record["price"]),
                             size=_size(record["size"]))  # fmt: skip
        case "book_snapshot":
            bids = [(_price(p), _size(s)) for p, s in record["bids"]]
            asks = [(_price(p), _size(s)) for p, s in record["asks"]]
            return BookSnapshot(**base, symbol=_symbol(channel), bids=bids, asks=asks)
        case "order":
            return OrderUpdate(**base, event=_event(record["event"]))
        case "fill":
            return Fill(**base, event=_event(record["event"]))
        case "pnl":
            return Pnl(**base, data=record["data"])
        case _:
            return Latency(**base, data=record["data"])


class _Listener(picows.WSListener):
    """picows callbacks: decode frames into the client's buffer."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def on_ws_frame(self, transport: WSTransport, frame: picows.WSFrame) -> None:
        if frame.msg_type is WSMsgType.CLOSE:
            self._client._closed(frame.get_close_code().value, frame.get_close_reason())
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif frame.msg_type is WSMsgType.TEXT or frame.msg_type is WSMsgType.BINARY:
            self._client._feed(frame.get_payload_as_memoryview())

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._client._closed(WSCloseCode.ABNORMAL_CLOSURE.value, "disconnected")


class Client:
    """One WebSocket connection; iterate it for decoded messages."""

    def __init__(self, encoding: str, max_buffer: int) -> None:
        self.encoding = encoding
        self.last_seq: dict[str, int] = {}
        self.gaps: dict[str, int] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        decoder = msgspec.msgpack.Decoder() if encoding == "msgpack" else msgspec.json.Decoder()
        self._decode: Callable[[bytes | memoryview], Any] = decoder.decode
        self._buffer: deque[Message] = deque()
        self._max_buffer = max_buffer
        self._waiter: asyncio.Future[None] | None = None
        self._transport: WSTransport | None = None
        self._reading_paused = False
        self._next_id = 0

    # --- callbacks ------------------------------------------------------------------------

    def _feed(self, payload: memoryview) -> None:
        records = self._decode(payload)
        buffer = self._buffer
        for record in records if isinstance(records, list) else (records,):
            message = _from_array(record) if isinstance(record, list) else _from_object(record)
            if not isinstance(message, Control):
                self._track(message)
            buffer.append(message)
        if len(buffer) >= self._max_buffer and self._transport is not None:
            self._transport.underlying_transport.pause_reading()
            self._reading_paused = True
        self._wake()

    def _track(self, message: Message) -> None:
        assert not isinstance(message, Control)
        channel = message.channel
        last = self.last_seq.get(channel)
        may_skip = isinstance(message, Quote | BookSnapshot)
        if last is not None and message.seq != last + 1 and not may_skip:
            self.gaps[channel] = self.gaps.get(channel, 0) + 1
        self.last_seq[channel] = message.seq

    def _closed(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- operations -----------------------------------------------------------------------

    def _send(self, op: str, channels: Sequence[str] | None = None) -> int:
        if self._transport is None or self.close_code is not None:
            raise ConnectionError("the connection is closed")
        self._next_id += 1
        body: dict[str, Any] = {"op": op, "id": self._next_id}
        if channels is not None:
            body["channels"] = list(channels)
        self._transport.send(WSMsgType.TEXT, msgspec.json.encode(body))
        return self._next_id

    def subscribe(self, channels: Sequence[str]) -> int:
        """Ask for ``channels``; the ``subscribed`` control record answers (with this id)."""
        return self._send("subscribe", channels)

    def unsubscribe(self, channels: Sequence[str]) -> int:
        return self._send("unsubscribe", channels)

    def ping(self) -> int:
        """Application ping; a ``pong`` control record with this id answers."""
        return self._send("ping")

    async def close(self, timeout_s: float = 5.0) -> None:
        transport = self._transport
        if transport is None:
            return
        if not transport.is_disconnected:
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        async with asyncio.timeout(timeout_s):
            await transport.wait_disconnected()

    # --- iteration ------------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Message:
        buffer = self._buffer
        while not buffer:
            if self.close_code is not None:
                if self.close_code in _NORMAL_CLOSE:
                    raise StopAsyncIteration
                raise ConnectionClosedError(self.close_code, self.close_reason)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = buffer.popleft()
        if self._reading_paused and len(buffer) <= self._max_buffer // 2:
            self._reading_paused = False
            if self._transport is not None:
                self._transport.underlying_transport.resume_reading()
        return message

    async def receive(self, timeout_s: float = 10.0) -> Message:
        """The next message, waiting at most ``timeout_s``."""
        async with asyncio.timeout(timeout_s):
            return await self.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


async def connect(
    url: str,
    *,
    key: str,
    channels: Sequence[str] = (),
    encoding: Literal["json", "msgpack"] = "msgpack",
    max_buffer: int = 100_000,
    timeout_s: float = 10.0,
) -> Client:
    """Connect, authenticate with ``key`` and subscribe to ``channels``."""
    separator = "&" if "?" in url else "?"
    client = Client(encoding, max_buffer)
    try:
        async with asyncio.timeout(timeout_s):
            transport, _ = await picows.ws_connect(
                lambda: _Listener(client),
                f"{url}{separator}encoding={encoding}",
                extra_headers={"Authorization": f"Bearer {key}"},
                enable_auto_ping=True,
                auto_ping_idle_timeout=30,
                auto_ping_reply_timeout=10,
                websocket_handshake_timeout=timeout_s,
                max_redirects=0,
            )
    except picows.WSHandshakeError as error:
        response = error.response
        status = int(response.status) if response is not None else 0
        raise HandshakeRefusedError(status, bytes(error.raw_body or b"")) from None
    client._transport = transport
    if channels:
        client.subscribe(channels)
    return client
