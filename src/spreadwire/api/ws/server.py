"""The WebSocket server (picows): upgrade admission, client operations, heartbeats.

``ws://HOST:PORT/ws?encoding=json|msgpack[&token=KEY][&compression=deflate]`` with the
credential in ``Authorization: Bearer`` or ``token``. The upgrade is refused with a JSON
error body and 401 (credential), 429 (per-key rate or connections per key) or 503 (server
full); the per-IP bucket is checked as soon as the connection is up (picows does not show
the peer address to the upgrade handler) and closes with 1008 when exceeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final, final
from urllib.parse import parse_qs, urlsplit

import msgspec
from picows import (
    WSAutoPingStrategy,
    WSCloseCode,
    WSListener,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

from spreadwire.api.auth import Principal, bearer
from spreadwire.api.config import WsConfig
from spreadwire.api.errors import error_bytes
from spreadwire.api.gateway import Gateway, Rejection
from spreadwire.api.metrics import ApiMetrics
from spreadwire.api.ratelimit import RateLimiter
from spreadwire.api.ws.broadcaster import Broadcaster
from spreadwire.api.ws.codec import JSON, MSGPACK
from spreadwire.api.ws.deflate import Deflater, negotiate
from spreadwire.api.ws.protocol import (
    ClientOp,
    ErrorFrame,
    Heartbeat,
    Ping,
    Pong,
    Subscribe,
    Subscribed,
    Unsubscribed,
    Welcome,
)
from spreadwire.api.ws.session import Session
from spreadwire.core.clock import Clock, perf_counter_ns

log = logging.getLogger("spreadwire.api.ws")
_ENCODINGS: Final = {"json": JSON, "msgpack": MSGPACK}
_JSON_HEADERS: Final = {"Content-Type": "application/json"}


Accepted = WSListener | WSUpgradeResponseWithListener | None


def _refuse(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> WSUpgradeResponseWithListener:
    response = WSUpgradeResponse.create_error_response(
        status, error_bytes(status, code, message), {**_JSON_HEADERS, **(headers or {})}
    )
    return WSUpgradeResponseWithListener(response, None)


@final
class WsServer:
    """Serves :class:`Broadcaster` channels to authenticated WebSocket clients."""

    def __init__(
        self,
        broadcaster: Broadcaster,
        gateway: Gateway,
        config: WsConfig,
        *,
        clock: Clock,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self._broadcaster = broadcaster
        self._gateway = gateway
        self._config = config
        self._clock = clock
        self._now_ns = perf_counter_ns
        self._sessions: dict[int, Session] = {}
        self._per_principal: dict[str, int] = {}
        self._op_limiter = RateLimiter(config.op_rate, perf_counter_ns)
        self._decoder = msgspec.json.Decoder(ClientOp)
        self._next_id = 0
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.counters = {"slow_disconnects": 0, "refused_upgrades": 0, "bad_messages": 0}
        gateway.authenticator.keys.on_revoke(self.revoke)
        if metrics is not None:
            metrics.ws_sources.append(self.stats)

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self, timeout_s: float = 10.0) -> None:
        config = self._config
        async with asyncio.timeout(timeout_s):
            self._server = await ws_create_server(
                self._accept,
                config.host,
                config.port,
                enable_auto_ping=True,
                auto_ping_idle_timeout=config.idle_timeout_ns / 1e9,
                auto_ping_reply_timeout=config.ping_timeout_ns / 1e9,
                auto_ping_strategy=WSAutoPingStrategy.PING_WHEN_IDLE,
                max_frame_size=config.max_message_bytes,
                websocket_handshake_timeout=5,
                logger_name="spreadwire.api.ws.picows",
            )
        self._ticker = asyncio.create_task(self._tick_forever(), name="ws-heartbeat")

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://{self._config.host}:{self.port}{self._config.path}"

    @property
    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Close every session with 1001 (going away) and stop listening."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for session in list(self._sessions.values()):
            session.close(WSCloseCode.GOING_AWAY, "server shutting down")
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._server.wait_closed()
            self._server = None

    def revoke(self, key_id: str) -> None:
        """Close the sessions of a revoked key (1008)."""
        for session in list(self._sessions.values()):
            if session.principal.subject == key_id:
                session.close(WSCloseCode.POLICY_VIOLATION, "credential revoked")

    def stats(self) -> dict[str, int]:
        sessions = self._sessions.values()
        return {
            "connections": len(self._sessions),
            "backlog_records": sum(s.backlog for s in sessions),
            "frames_sent_total": sum(s.frames_sent for s in sessions),
            "records_sent_total": sum(s.records_sent for s in sessions),
            "conflated_total": sum(s.conflated for s in sessions),
            "slow_disconnects_total": self.counters["slow_disconnects"],
            "refused_upgrades_total": self.counters["refused_upgrades"],
            "bad_messages_total": self.counters["bad_messages"],
            "published_total": self._broadcaster.published,
        }

    # --- upgrade --------------------------------------------------------------------------

    def _accept(self, request: WSUpgradeRequest) -> Accepted:
        url = urlsplit(request.path.decode("latin-1"))
        if url.path != self._config.path:
            return None
        query = parse_qs(url.query)
        encoding = _ENCODINGS.get(query.get("encoding", ["json"])[-1])
        if encoding is None:
            return self._refused(400, "bad_request", "encoding must be json or msgpack")
        credential = bearer(request.headers.get("Authorization"))
        if credential is None and "token" in query:
            credential = query["token"][-1]
        if credential is None:
            return self._refused(401, "unauthenticated", "missing bearer credential or token")
        outcome = self._gateway.admit_credential(credential)
        if isinstance(outcome, Rejection):
            headers = dict(outcome.headers)
            return self._refused(outcome.status, outcome.code, outcome.message, headers)
        refusal = self._check_capacity(outcome)
        if refusal is not None:
            return refusal
        deflate = None
        if (
            encoding == JSON
            and self._config.allow_deflate
            and query.get("compression", [""])[-1] == "deflate"
        ):
            deflate = negotiate(request.headers.get("Sec-WebSocket-Extensions"))
        session = self._new_session(outcome, encoding, Deflater(deflate) if deflate else None)
        if deflate is None:
            return session
        response = WSUpgradeResponse.create_101_response(
            {"Sec-WebSocket-Extensions": deflate.header}
        )
        return WSUpgradeResponseWithListener(response, session)

    def _refused(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> WSUpgradeResponseWithListener:
        self.counters["refused_upgrades"] += 1
        return _refuse(status, code, message, headers)

    def _check_capacity(self, principal: Principal) -> WSUpgradeResponseWithListener | None:
        if len(self._sessions) >= self._config.max_connections:
            return self._refused(503, "unavailable", "too many connections; try later")
        if self._per_principal.get(principal.subject, 0) >= self._config.max_connections_per_key:
            return self._refused(429, "too_many_connections", "connection limit of this key")
        return None

    def _new_session(
        self, principal: Principal, encoding: int, deflate: Deflater | None
    ) -> Session:
        self._next_id += 1
        session = Session(
            self._next_id,
            self,
            principal,
            self._config,
            self._broadcaster.codec,
            encoding=encoding,
            deflate=deflate,
            now_ns=self._now_ns,
        )
        self._sessions[session.session_id] = session
        subject = principal.subject
        self._per_principal[subject] = self._per_principal.get(subject, 0) + 1
        return session

    # --- session callbacks ----------------------------------------------------------------

    def on_connected(self, session: Session) -> None:
        rejection = self._gateway.admit_ip(session.peer)
        if rejection is not None:
            session.close(WSCloseCode.POLICY_VIOLATION, rejection.message)
            return
        session.last_sent_ns = self._now_ns()
        session.send_control(
            Welcome(
                session=session.session_id,
                encoding="msgpack" if session.encoding == MSGPACK else "json",
                compression="deflate" if session.deflate is not None else "none",
                heartbeat_interval_ns=self._config.heartbeat_interval_ns,
                max_batch=self._config.max_batch,
            )
        )

    def on_disconnected(self, session: Session) -> None:
        if self._sessions.pop(session.session_id, None) is None:
            return
        if session.slow:
            self.counters["slow_disconnects"] += 1
        self._broadcaster.detach(session)
        self._op_limiter.forget(str(session.session_id))
        subject = session.principal.subject
        remaining = self._per_principal.get(subject, 1) - 1
        if remaining:
            self._per_principal[subject] = remaining
        else:
            self._per_principal.pop(subject, None)

    def on_message(self, session: Session, payload: bytes) -> None:
        if self._op_limiter.acquire(str(session.session_id)):
            self._error(session, None, "rate_limited", "too many operations; slow down")
            return
        try:
            op = self._decoder.decode(payload)
        except msgspec.DecodeError as error:
            self._error(session, None, "bad_message", str(error), _field(str(error)))
            return
        if isinstance(op, Ping):
            session.send_control(Pong(id=op.id, ts=self._clock.timestamp_ns()))
        elif isinstance(op, Subscribe):
            self._subscribe(session, op)
        else:
            gone = [name for name in op.channels if self._broadcaster.unsubscribe(session, name)]
            session.send_control(Unsubscribed(id=op.id, channels=gone))

    def _subscribe(self, session: Session, op: Subscribe) -> None:
        if len(session.channels) + len(op.channels) > self._config.max_subscriptions:
            limit = self._config.max_subscriptions
            self._error(session, op.id, "too_many_subscriptions", f"at most {limit} channels")
            return
        known = [self._broadcaster.channel(name) is not None for name in op.channels]
        # one frame: the acknowledgement, the errors, then the snapshots
        added = [name for name, ok in zip(op.channels, known, strict=True) if ok]
        session.queue_control(Subscribed(id=op.id, channels=added))
        for index, (name, ok) in enumerate(zip(op.channels, known, strict=True)):
            if not ok:
                self.counters["bad_messages"] += 1
                message = f"unknown channel {name!r}"
                field = f"channels[{index}]"
                error = ErrorFrame(id=op.id, code="unknown_channel", message=message, field=field)
                session.queue_control(error)
        for name in added:
            self._broadcaster.subscribe(session, name)
        session.flush()

    def _error(
        self, session: Session, op_id: int | None, code: str, message: str, field: str | None = None
    ) -> None:
        self.counters["bad_messages"] += 1
        session.send_control(ErrorFrame(id=op_id, code=code, message=message, field=field))

    # --- heartbeats and laggards ----------------------------------------------------------

    async def _tick_forever(self) -> None:
        config = self._config
        period_s = min(config.heartbeat_interval_ns, config.max_lag_ns) / 4e9
        while True:
            await asyncio.sleep(period_s)
            self.tick()

    def tick(self) -> None:
        """Close clients stuck past ``max_lag_ns``; heartbeat the quiet ones."""
        now = self._now_ns()
        config = self._config
        for session in list(self._sessions.values()):
            if session.paused and now - session.paused_since_ns > config.max_lag_ns:
                session.close_slow("client too slow: writes stalled")
            elif not session.closed and now - session.last_sent_ns >= config.heartbeat_interval_ns:
                seqs = self._broadcaster.seqs(session)
                session.send_control(Heartbeat(ts=self._clock.timestamp_ns(), seqs=seqs))


def _field(message: str) -> str | None:
    marker = "at `$."
    start = message.find(marker)
    if start < 0:
        return None
    end = message.find("`", start + len(marker))
    return message[start + len(marker) : end] if end > 0 else None
