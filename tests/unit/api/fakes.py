"""Fakes of the WebSocket transport and session owner, for sessions without sockets."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from picows import WSCloseCode, WSMsgType, WSTransport

from spreadwire.api.auth import Principal
from spreadwire.api.config import WsConfig
from spreadwire.api.ws.codec import MSGPACK, RecordCodec
from spreadwire.api.ws.session import Session


class FakeUnderlying:
    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 5555) if name == "peername" else None


class FakeTransport:
    """Records what a session writes."""

    def __init__(self) -> None:
        self.frames: list[tuple[WSMsgType, bytes, bool]] = []
        self.closed_with: tuple[WSCloseCode, bytes] | None = None
        self.is_disconnected = False
        self.underlying_transport = FakeUnderlying()

    def send_reuse_external_bytearray(
        self, msg_type: WSMsgType, buffer: bytearray, offset: int
    ) -> None:
        self.frames.append((msg_type, bytes(buffer[offset:]), False))

    def send(self, msg_type: WSMsgType, message: bytes, rsv1: bool = False) -> None:
        self.frames.append((msg_type, bytes(message), rsv1))

    def send_close(self, code: WSCloseCode, message: bytes = b"") -> None:
        self.closed_with = (code, message)

    def disconnect(self, graceful: bool = True) -> None:
        self.is_disconnected = True


class FakeOwner:
    def __init__(self) -> None:
        self.connected: list[Session] = []
        self.messages: list[bytes] = []
        self.gone: list[Session] = []

    def on_connected(self, session: Session) -> None:
        self.connected.append(session)

    def on_message(self, session: Session, payload: bytes) -> None:
        self.messages.append(payload)

    def on_disconnected(self, session: Session) -> None:
        self.gone.append(session)


def make_session(
    config: WsConfig | None = None, *, encoding: int = MSGPACK, codec: RecordCodec | None = None
) -> tuple[Session, FakeTransport, FakeOwner]:
    owner = FakeOwner()
    transport = FakeTransport()
    session = Session(
        1,
        owner,
        Principal("k1", "viewer", "key"),
        config or WsConfig(),
        codec or RecordCodec(),
        encoding=encoding,
        deflate=None,
        now_ns=lambda: 0,
    )
    session.on_ws_connected(cast(WSTransport, transport))
    return session, transport, owner


def records(transport: FakeTransport) -> list[list[Any]]:
    """The records of every frame written, one list per frame."""
    out: list[list[Any]] = []
    for msg_type, payload, _ in transport.frames:
        if msg_type is WSMsgType.BINARY:
            out.append(msgspec.msgpack.decode(payload))
        else:
            out.append(msgspec.json.decode(payload))
    return out
