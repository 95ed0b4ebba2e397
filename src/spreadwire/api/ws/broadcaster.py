"""Fan-out of node messages to WebSocket clients, called synchronously by bus handlers.

``publish(message)`` (or the typed ``publish_*``) runs on the event-loop thread and never
blocks: it bumps the channel's sequence number, encodes the record once per encoding that
has subscribers and hands the bytes to each subscriber's bounded queue. Channels:

* ``quotes.<symbol>`` - conflated per client (latest wins); the last quote is sent on
  subscribe. Sequence numbers may skip for a client when quotes were conflated.
* ``trades.<symbol>`` - every trade.
* ``book.<symbol>``   - a snapshot at the current sequence number on subscribe, then every
  delta (``seq`` contiguous: a gap means a lost update, which never happens silently - a
  client that cannot keep up is disconnected instead).
* ``orders``, ``fills`` - order events and fills, written ahead of market data.
* ``pnl``, ``latency`` - periodic views; the last one is sent on subscribe.

Symbols are those of ``GET /v1/instruments``; a message's ``instrument_id`` maps to its
symbol through the registered instruments (``SYMBOL.VENUE`` -> ``SYMBOL`` otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Final, final

import msgspec

from spreadwire.api.schemas import LatencyView, PnlView
from spreadwire.api.ws.book import BookMirror
from spreadwire.api.ws.codec import JSON, MSGPACK, RecordCodec
from spreadwire.api.ws.protocol import CHANNEL_KINDS, GLOBAL_CHANNELS
from spreadwire.api.ws.session import Session
from spreadwire.core.clock import Clock
from spreadwire.domain.events import ORDER_EVENT_TYPES, OrderEvent, OrderFill
from spreadwire.domain.market import BookDelta, BookSnapshot, QuoteTick, TradeTick

_SYMBOL: Final = re.compile(r"^[A-Za-z0-9._/-]{1,32}$")


@final
class Channel:
    """One stream: its sequence number, subscribers per encoding and last message."""

    __slots__ = ("book", "json", "kind", "last", "msgpack", "name", "seq")

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.seq = 0
        self.json: tuple[Session, ...] = ()
        self.msgpack: tuple[Session, ...] = ()
        self.last: Any = None
        self.book = BookMirror() if kind == "book" else None

    def add(self, session: Session) -> None:
        if session.encoding == MSGPACK:
            self.msgpack = (*self.msgpack, session)
        else:
            self.json = (*self.json, session)

    def remove(self, session: Session) -> None:
        self.msgpack = tuple(s for s in self.msgpack if s is not session)
        self.json = tuple(s for s in self.json if s is not session)


@final
class Broadcaster:
    """The hub between the node's bus and the WebSocket sessions."""

    __slots__ = (
        "_books",
        "_channels",
        "_clock",
        "_codec",
        "_handlers",
        "_quotes",
        "_symbols",
        "_trades",
        "published",
    )

    def __init__(
        self,
        *,
        clock: Clock,
        symbols: Iterable[tuple[str, str]] = (),
        codec: RecordCodec | None = None,
    ) -> None:
        self._clock = clock
        self._codec = codec if codec is not None else RecordCodec()
        self._symbols: dict[str, str] = {}
        self._channels: dict[str, Channel] = {}
        self._quotes: dict[str, Channel] = {}
        self._trades: dict[str, Channel] = {}
        self._books: dict[str, Channel] = {}
        self.published = 0
        for instrument_id, symbol in symbols:
            self.add_symbol(instrument_id, symbol)
        for name in GLOBAL_CHANNELS:
            self._channels[name] = Channel(name, name)
        handlers: dict[type, Callable[[Any], None]] = {
            QuoteTick: self.publish_quote,
            TradeTick: self.publish_trade,
            BookDelta: self.publish_book_delta,
            BookSnapshot: self.publish_book_snapshot,
            PnlView: self.publish_pnl,
            LatencyView: self.publish_latency,
        }
        handlers.update((t, self.publish_order_event) for t in ORDER_EVENT_TYPES)
        self._handlers = handlers

    @property
    def codec(self) -> RecordCodec:
        return self._codec

    @property
    def message_types(self) -> tuple[type, ...]:
        """The message types ``publish`` handles (subscribe them on the bus)."""
        return tuple(self._handlers)

    def add_symbol(self, instrument_id: str, symbol: str) -> None:
        """Map ``instrument_id`` to the public ``symbol`` used in channel names."""
        if not _SYMBOL.match(symbol):
            raise ValueError(f"symbol: not a valid channel symbol: {symbol!r}")
        self._symbols[instrument_id] = symbol
        self._symbols.setdefault(symbol, symbol)

    # --- channels -------------------------------------------------------------------------

    def channel(self, name: str) -> Channel | None:
        """The channel called ``name``, created on first use; None when not a channel."""
        channel = self._channels.get(name)
        if channel is not None:
            return channel
        kind, _, symbol = name.partition(".")
        if kind not in CHANNEL_KINDS or not _SYMBOL.match(symbol):
            return None
        if self._symbols and symbol not in self._symbols:
            return None
        channel = self._channels[name] = Channel(name, kind)
        return channel

    def _data_channel(self, kind: str, instrument_id: str, index: dict[str, Channel]) -> Channel:
        symbol = self._symbols.get(instrument_id)
        if symbol is None:
            symbol = instrument_id.rpartition(".")[0] or instrument_id
        name = f"{kind}.{symbol}"
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = Channel(name, kind)
        index[instrument_id] = channel
        return channel

    def subscribe(self, session: Session, name: str) -> bool:
        """Add ``session`` to channel ``name`` and queue its snapshot; False if unknown."""
        channel = self.channel(name)
        if channel is None:
            return False
        if name in session.channels:
            return True
        session.channels[name] = channel
        channel.add(session)
        self._send_snapshot(channel, session)
        return True

    def unsubscribe(self, session: Session, name: str) -> bool:
        channel = session.channels.pop(name, None)
        if channel is None:
            return False
        channel.remove(session)
        return True

    def detach(self, session: Session) -> None:
        """Remove ``session`` from every channel (it closed)."""
        for channel in session.channels.values():
            channel.remove(session)
        session.channels.clear()

    def seqs(self, session: Session) -> dict[str, int]:
        return {name: channel.seq for name, channel in session.channels.items()}

    def _send_snapshot(self, channel: Channel, session: Session) -> None:
        codec = self._codec
        encoding = session.encoding
        if channel.kind == "book" and channel.book is not None:
            mirror = channel.book
            record = codec.book_snapshot(
                channel.name, channel.seq, mirror.ts_event, mirror.levels(), encoding
            )
            session.put(record)
        elif channel.last is None:
            return
        elif channel.kind == "quotes":
            record = codec.quote(channel.name, channel.seq, channel.last, encoding)
            session.put_quote(channel.name, record)
        elif channel.kind in ("pnl", "latency"):
            last = channel.last
            record = codec.data(
                channel.kind, channel.name, channel.seq, ts=last.ts, payload=last, encoding=encoding
            )
            session.put(record)

    # --- publishing -----------------------------------------------------------------------

    def publish(self, message: object) -> None:
        """Route any message by type; types without a channel are ignored."""
        handler = self._handlers.get(type(message))
        if handler is not None:
            handler(message)

    def publish_quote(self, quote: QuoteTick) -> None:
        channel = self._quotes.get(quote.instrument_id)
        if channel is None:
            channel = self._data_channel("quotes", quote.instrument_id, self._quotes)
        channel.seq += 1
        channel.last = quote
        self.published += 1
        name = channel.name
        if channel.msgpack:
            record = self._codec.quote(name, channel.seq, quote, MSGPACK)
            for session in channel.msgpack:
                session.put_quote(name, record)
        if channel.json:
            record = self._codec.quote(name, channel.seq, quote, JSON)
            for session in channel.json:
                session.put_quote(name, record)

    def publish_trade(self, trade: TradeTick) -> None:
        channel = self._trades.get(trade.instrument_id)
        if channel is None:
            channel = self._data_channel("trades", trade.instrument_id, self._trades)
        channel.seq += 1
        self.published += 1
        if channel.msgpack:
            record = self._codec.trade(channel.name, channel.seq, trade, MSGPACK)
            for session in channel.msgpack:
                session.put(record)
        if channel.json:
            record = self._codec.trade(channel.name, channel.seq, trade, JSON)
            for session in channel.json:
                session.put(record)

    def _book(self, instrument_id: str) -> Channel:
        channel = self._books.get(instrument_id)
        if channel is None:
            channel = self._data_channel("book", instrument_id, self._books)
        return channel

    def publish_book_delta(self, delta: BookDelta) -> None:
        channel = self._book(delta.instrument_id)
        assert channel.book is not None
        channel.book.apply(delta)
        channel.seq += 1
        self.published += 1
        for sessions, encoding in ((channel.msgpack, MSGPACK), (channel.json, JSON)):
            if sessions:
                record = self._codec.book_delta(channel.name, channel.seq, delta, encoding)
                for session in sessions:
                    session.put(record)

    def publish_book_snapshot(self, snapshot: BookSnapshot) -> None:
        channel = self._book(snapshot.instrument_id)
        assert channel.book is not None
        channel.book.load(snapshot)
        channel.seq += 1
        self.published += 1
        levels = channel.book.levels()
        for sessions, encoding in ((channel.msgpack, MSGPACK), (channel.json, JSON)):
            if sessions:
                record = self._codec.book_snapshot(
                    channel.name, channel.seq, snapshot.ts_event, levels, encoding
                )
                for session in sessions:
                    session.put(record)

    def publish_order_event(self, event: OrderEvent) -> None:
        self._publish_event(self._channels["orders"], event)
        if isinstance(event, OrderFill):
            self._publish_event(self._channels["fills"], event)

    def _publish_event(self, channel: Channel, event: OrderEvent) -> None:
        channel.seq += 1
        self.published += 1
        for sessions, encoding in ((channel.msgpack, MSGPACK), (channel.json, JSON)):
            if sessions:
                record = self._codec.order_event(channel.name, channel.seq, event, encoding)
                for session in sessions:
                    session.put(record, priority=True)

    def publish_pnl(self, view: PnlView) -> None:
        self._publish_view(self._channels["pnl"], view, view.ts)

    def publish_latency(self, view: LatencyView) -> None:
        self._publish_view(self._channels["latency"], view, view.ts)

    def _publish_view(self, channel: Channel, view: PnlView | LatencyView, ts: int) -> None:
        ts = ts or self._clock.timestamp_ns()
        channel.seq += 1
        if not view.ts:
            view = msgspec.structs.replace(view, ts=ts)
        channel.last = view
        self.published += 1
        for sessions, encoding in ((channel.msgpack, MSGPACK), (channel.json, JSON)):
            if sessions:
                record = self._codec.data(
                    channel.kind, channel.name, channel.seq, ts=ts, payload=view, encoding=encoding
                )
                for session in sessions:
                    session.put(record)
