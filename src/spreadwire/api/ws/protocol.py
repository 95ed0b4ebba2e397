"""The WebSocket wire protocol: client operations, control records and JSON data records.

Client to server (JSON text or binary frames)::

    {"op": "subscribe", "channels": ["quotes.AAA", "book.AAA", "orders"], "id": 1}
    {"op": "unsubscribe", "channels": ["quotes.AAA"], "id": 2}
    {"op": "ping", "id": 3}

Server to client: every frame is an array of records (several updates per frame). Control
records are objects (msgpack maps) with a ``type``; data records carry the channel, its
sequence number and the event time. With ``encoding=json`` data records are objects with
decimal strings; with ``encoding=msgpack`` they are compact arrays whose first item is a
one-letter kind (see :mod:`spreadwire.api.ws.codec` and ``docs/api.md``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec

ChannelName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Channels = Annotated[list[ChannelName], msgspec.Meta(min_length=1, max_length=1000)]
RequestId = Annotated[int, msgspec.Meta(ge=0, le=2**53)]

CHANNEL_KINDS: Final = ("quotes", "trades", "book")
GLOBAL_CHANNELS: Final = ("orders", "fills", "pnl", "latency")


# --- client operations -----------------------------------------------------------------


class _Op(msgspec.Struct, frozen=True, kw_only=True, tag_field="op", forbid_unknown_fields=True):
    id: RequestId | None = None


class Subscribe(_Op, frozen=True, kw_only=True, tag="subscribe"):
    channels: Channels


class Unsubscribe(_Op, frozen=True, kw_only=True, tag="unsubscribe"):
    channels: Channels


class Ping(_Op, frozen=True, kw_only=True, tag="ping"):
    pass


ClientOp = Subscribe | Unsubscribe | Ping


# --- control records (objects in both encodings) ---------------------------------------


class _Control(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class Welcome(_Control, frozen=True, kw_only=True, tag="welcome"):
    session: int
    encoding: Literal["json", "msgpack"]
    compression: Literal["deflate", "none"]
    heartbeat_interval_ns: int
    max_batch: int


class Subscribed(_Control, frozen=True, kw_only=True, tag="subscribed"):
    id: int | None = None
    channels: list[str]


class Unsubscribed(_Control, frozen=True, kw_only=True, tag="unsubscribed"):
    id: int | None = None
    channels: list[str]


class Pong(_Control, frozen=True, kw_only=True, tag="pong"):
    id: int | None = None
    ts: int


class ErrorFrame(_Control, frozen=True, kw_only=True, tag="error"):
    id: int | None = None
    code: str
    message: str
    field: str | None = None


class Heartbeat(_Control, frozen=True, kw_only=True, tag="heartbeat"):
    """Sent to a client that got nothing for a heartbeat interval; ``seqs`` holds the
    last sequence number of every channel it subscribes to (gap check while idle)."""

    ts: int
    seqs: dict[str, int]


# --- JSON data records -----------------------------------------------------------------


class _Data(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="type"):
    ch: str
    seq: int
    ts: int


class QuoteRecord(_Data, frozen=True, kw_only=True, gc=False, tag="quote"):
    bid: str
    bid_size: str
    ask: str
    ask_size: str


class TradeRecord(_Data, frozen=True, kw_only=True, gc=False, tag="trade"):
    price: str
    size: str
    side: str
    trade_id: str


class BookDeltaRecord(_Data, frozen=True, kw_only=True, gc=False, tag="book_delta"):
    action: str
    side: str
    price: str
    size: str


class BookSnapshotRecord(_Data, frozen=True, kw_only=True, tag="book_snapshot"):
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


class EventRecord(_Data, frozen=True, kw_only=True, tag="order"):
    """An order event; ``event`` holds its fields with ``event["type"]`` the event name."""

    event: dict[str, Any]


class FillRecord(_Data, frozen=True, kw_only=True, tag="fill"):
    event: dict[str, Any]


class PnlRecord(_Data, frozen=True, kw_only=True, tag="pnl"):
    data: Any


class LatencyRecord(_Data, frozen=True, kw_only=True, tag="latency"):
    data: Any


#: The one-letter kinds of msgpack data records.
MSGPACK_KINDS: Final = {
    "q": "quote",
    "t": "trade",
    "d": "book_delta",
    "s": "book_snapshot",
    "o": "order",
    "f": "fill",
    "p": "pnl",
    "l": "latency",
}
