"""Encoding of WebSocket records and frames.

A record is encoded once per encoding that has subscribers and the bytes are shared by
every client of the channel; a frame is the concatenation of its records behind an array
header (msgpack) or inside brackets (JSON), assembled in a per-client reused bytearray.

msgpack data records are flat arrays: ``[kind, channel, seq, ts_event, ...]`` where each
price or size is two integers, ``raw, precision`` (value = raw / 1e9, shown with
``precision`` decimals): exact, and one array per record, which a client decodes about
three times faster than nested pairs. JSON records are objects with exact decimal strings,
formatted through a bounded cache (prices repeat on the tick grid).
"""

from __future__ import annotations

from typing import Any, Final, final

import msgspec

from spreadwire.api.ws.protocol import (
    BookDeltaRecord,
    BookSnapshotRecord,
    EventRecord,
    FillRecord,
    LatencyRecord,
    PnlRecord,
    QuoteRecord,
    TradeRecord,
)
from spreadwire.domain.events import OrderEvent, OrderFill
from spreadwire.domain.market import BookDelta, QuoteTick, TradeTick
from spreadwire.domain.values import Money, Price, Quantity

JSON: Final = 0
MSGPACK: Final = 1
HEADROOM: Final = 14  # picows writes the frame header in front of the payload
_TEXT_CACHE_SIZE: Final = 65_536


def msgpack_array_header(count: int) -> bytes:
    if count < 16:
        return bytes((0x90 | count,))
    if count < 65_536:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


def build_frame(buffer: bytearray, records: list[bytes], encoding: int) -> None:
    """Write a frame of ``records`` into ``buffer`` after :data:`HEADROOM` bytes."""
    del buffer[HEADROOM:]
    if encoding == MSGPACK:
        buffer += msgpack_array_header(len(records))
        buffer += b"".join(records)
    else:
        buffer += b"["
        buffer += b",".join(records)
        buffer += b"]"


def _fixed_text(value: Any) -> Any:
    """Fixed-point values as decimal strings, recursively (JSON rendering of events)."""
    if isinstance(value, Price | Quantity):
        return str(value)
    if isinstance(value, Money):
        return value.amount()
    if isinstance(value, list | tuple):
        return [_fixed_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _fixed_text(v) for k, v in value.items()}
    return value


@final
class RecordCodec:
    """Encoders for every record kind, in both encodings."""

    __slots__ = ("_json", "_msgpack", "_text")

    def __init__(self) -> None:
        self._msgpack = msgspec.msgpack.Encoder()
        self._json = msgspec.json.Encoder()
        self._text: dict[int, str] = {}

    def text(self, value: Price | Quantity) -> str:
        """``str(value)`` through a bounded cache keyed by raw value and precision."""
        key = value.raw * 10 + value.precision
        cached = self._text.get(key)
        if cached is None:
            if len(self._text) >= _TEXT_CACHE_SIZE:
                self._text.clear()
            cached = self._text[key] = str(value)
        return cached

    def control(self, record: msgspec.Struct, encoding: int) -> bytes:
        if encoding == MSGPACK:
            return self._msgpack.encode(record)
        return self._json.encode(record)

    def quote(self, channel: str, seq: int, quote: QuoteTick, encoding: int) -> bytes:
        if encoding == MSGPACK:
            bid = quote.bid_price
            bid_size = quote.bid_size
            ask = quote.ask_price
            ask_size = quote.ask_size
            return self._msgpack.encode(
                ("q", channel, seq, quote.ts_event, bid.raw, bid.precision,
                 bid_size.raw, bid_size.precision, ask.raw, ask.precision,
                 ask_size.raw, ask_size.precision)
            )  # fmt: skip
        text = self.text
        return self._json.encode(
            QuoteRecord(
                ch=channel,
                seq=seq,
                ts=quote.ts_event,
                bid=text(quote.bid_price),
                bid_size=text(quote.bid_size),
                ask=text(quote.ask_price),
                ask_size=text(quote.ask_size),
            )
        )

    def trade(self, channel: str, seq: int, trade: TradeTick, encoding: int) -> bytes:
        if encoding == MSGPACK:
            price, size = trade.price, trade.size
            return self._msgpack.encode(
                ("t", channel, seq, trade.ts_event, price.raw, price.precision, size.raw,
                 size.precision, trade.aggressor_side, trade.trade_id)
            )  # fmt: skip
        return self._json.encode(
            TradeRecord(
                ch=channel,
                seq=seq,
                ts=trade.ts_event,
                price=self.text(trade.price),
                size=self.text(trade.size),
                side=trade.aggressor_side.value,
                trade_id=trade.trade_id,
            )
        )

    def book_delta(self, channel: str, seq: int, delta: BookDelta, encoding: int) -> bytes:
        if encoding == MSGPACK:
            price, size = delta.price, delta.size
            return self._msgpack.encode(
                ("d", channel, seq, delta.ts_event, delta.action, delta.side, price.raw,
                 price.precision, size.raw, size.precision)
            )  # fmt: skip
        return self._json.encode(
            BookDeltaRecord(
                ch=channel,
                seq=seq,
                ts=delta.ts_event,
                action=delta.action.value,
                side=delta.side.value,
                price=self.text(delta.price),
                size=self.text(delta.size),
            )
        )

    def book_snapshot(
        self,
        channel: str,
        seq: int,
        ts: int,
        levels: tuple[list[tuple[Price, Quantity]], list[tuple[Price, Quantity]]],
        encoding: int,
    ) -> bytes:
        bids, asks = levels
        if encoding == MSGPACK:
            flat_bids = [(p.raw, p.precision, q.raw, q.precision) for p, q in bids]
            flat_asks = [(p.raw, p.precision, q.raw, q.precision) for p, q in asks]
            return self._msgpack.encode(("s", channel, seq, ts, flat_bids, flat_asks))
        text = self.text
        return self._json.encode(
            BookSnapshotRecord(
                ch=channel,
                seq=seq,
                ts=ts,
                bids=[(text(p), text(s)) for p, s in bids],
                asks=[(text(p), text(s)) for p, s in asks],
            )
        )

    def order_event(self, channel: str, seq: int, event: OrderEvent, encoding: int) -> bytes:
        kind = "f" if channel == "fills" else "o"
        if encoding == MSGPACK:
            return self._msgpack.encode((kind, channel, seq, event.ts_event, event))
        fields = {"type": type(event).__name__}
        fields.update((name, _fixed_text(getattr(event, name))) for name in event.__struct_fields__)
        record_type = FillRecord if isinstance(event, OrderFill) and kind == "f" else EventRecord
        return self._json.encode(record_type(ch=channel, seq=seq, ts=event.ts_event, event=fields))

    def data(
        self, kind: str, channel: str, seq: int, *, ts: int, payload: Any, encoding: int
    ) -> bytes:
        """``pnl`` and ``latency`` records: a view struct as the payload."""
        if encoding == MSGPACK:
            return self._msgpack.encode((kind[0], channel, seq, ts, payload))
        record = PnlRecord if kind == "pnl" else LatencyRecord
        return self._json.encode(record(ch=channel, seq=seq, ts=ts, data=payload))
