"""Configuration of the API edge: gateway (REST), WebSocket server and JWT.

Rates are ``limit`` per ``interval_ns`` with a ``burst`` (token bucket); sizes are bytes;
durations are ``*_ns``. Everything binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from spreadwire.errors import ValidationError

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
SECOND_NS = 1_000_000_000
MILLISECOND_NS = 1_000_000


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """A token bucket: ``limit`` tokens per ``interval_ns``, holding at most ``burst``.

    ``burst`` defaults to ``limit``.
    """

    limit: PositiveInt
    interval_ns: PositiveInt = SECOND_NS
    burst: PositiveInt | None = None

    @property
    def capacity(self) -> int:
        return self.limit if self.burst is None else self.burst


class JwtConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Accept signed JWTs as bearer tokens (for deployments with an identity provider).

    ``key`` is the shared secret for HS* algorithms or the PEM public key for RS*/ES*/EdDSA.
    The role comes from ``role_claim``; the subject (``sub``) is the rate-limit key and
    the audited actor. ``exp`` is required and checked against the injected clock.
    """

    key: Annotated[str, msgspec.Meta(min_length=1)]
    algorithms: tuple[str, ...] = ("HS256",)
    audience: str | None = None
    issuer: str | None = None
    role_claim: str = "role"
    leeway_ns: NonNegativeInt = 0


class GatewayConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The gateway in front of REST (and of the WebSocket upgrade)."""

    host: str = "127.0.0.1"
    port: Port = 8080
    ip_rate: RateLimit = msgspec.field(default_factory=lambda: RateLimit(limit=500, burst=1000))
    key_rate: RateLimit = msgspec.field(default_factory=lambda: RateLimit(limit=200, burst=400))
    max_body_bytes: PositiveInt = 64 * 1024
    max_tracked_clients: PositiveInt = 100_000
    jwt: JwtConfig | None = None
    public_metrics: bool = False


class WsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The WebSocket market-data server.

    * ``max_batch`` records per frame at most; a frame leaves when the batch is full or
      ``max_delay_ns`` after its first record (0: at the end of the current loop turn).
    * ``queue_capacity`` bounds the unconflated records waiting per client; quotes are
      conflated per symbol (latest wins) and do not count. A client whose queue
      overflows, or whose socket stays unwritable for ``max_lag_ns``, is closed with 1013.
    * ``heartbeat_interval_ns``: a heartbeat record (with the last sequence number of each
      subscribed channel) goes to a client that got nothing for that long.
    * ``idle_timeout_ns``: a client silent for that long is pinged; no pong within
      ``ping_timeout_ns`` closes it.
    """

    host: str = "127.0.0.1"
    port: Port = 8081
    path: str = "/ws"
    max_connections: PositiveInt = 1_000
    max_connections_per_key: PositiveInt = 50
    max_subscriptions: PositiveInt = 2_000
    max_batch: Annotated[int, msgspec.Meta(ge=1, le=65_535)] = 256
    max_delay_ns: NonNegativeInt = 0
    queue_capacity: PositiveInt = 20_000
    max_lag_ns: PositiveInt = 5 * SECOND_NS
    write_buffer_high: PositiveInt = 1024 * 1024
    heartbeat_interval_ns: PositiveInt = 5 * SECOND_NS
    idle_timeout_ns: PositiveInt = 30 * SECOND_NS
    ping_timeout_ns: PositiveInt = 10 * SECOND_NS
    max_message_bytes: PositiveInt = 64 * 1024
    op_rate: RateLimit = msgspec.field(default_factory=lambda: RateLimit(limit=50, burst=100))
    allow_deflate: bool = True

    def __post_init__(self) -> None:
        if self.ping_timeout_ns > self.idle_timeout_ns:
            raise ValidationError("ping_timeout_ns", "must not exceed idle_timeout_ns")
