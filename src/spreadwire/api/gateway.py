"""The API gateway: admission of every request before any framework code runs.

In order, cheapest first: a per-IP token bucket (before authentication, so a flood of
bad keys is throttled too), the declared body size, the credential (API key or JWT), and
a per-principal token bucket. A refused request gets the one JSON error shape with 429 +
``Retry-After``, 413 or 401 (+ ``WWW-Authenticate``); roles (403) are checked per route
by the REST app. :class:`Gateway` holds the decision logic and is shared by the REST
middleware and the WebSocket upgrade, so both draw from the same buckets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, final

from spreadwire.api.auth import Authenticator, AuthFailure, Principal, bearer
from spreadwire.api.config import GatewayConfig
from spreadwire.api.errors import error_bytes
from spreadwire.api.metrics import ApiMetrics
from spreadwire.api.ratelimit import RateLimiter, retry_after_seconds
from spreadwire.core.clock import perf_counter_ns

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

PRINCIPAL_KEY: Final = "spreadwire.principal"
PUBLIC_PATHS: Final = frozenset({"/health", "/ready", "/openapi.json"})
PUBLIC_PREFIXES: Final = ("/docs",)


@final
class Rejection:
    """A refused request: status, machine code, message and extra headers."""

    __slots__ = ("code", "headers", "message", "status")

    def __init__(
        self, status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def __repr__(self) -> str:
        return f"Rejection({self.status}, {self.code})"


def _rate_limited(wait_ns: int, scope: str) -> Rejection:
    seconds = retry_after_seconds(wait_ns)
    return Rejection(
        429,
        "rate_limited",
        f"{scope} rate limit exceeded; retry after {seconds} s",
        (("retry-after", str(seconds)),),
    )


_UNAUTHORIZED_HEADERS: Final = (("www-authenticate", 'Bearer realm="spreadwire"'),)


@final
class Gateway:
    """Rate limits and authentication, independent of any web framework."""

    __slots__ = ("_auth", "_ip_limiter", "_key_limiter", "_max_body", "_metrics", "_public")

    def __init__(
        self,
        config: GatewayConfig,
        authenticator: Authenticator,
        *,
        now_ns: Callable[[], int] = perf_counter_ns,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self._auth = authenticator
        self._ip_limiter = RateLimiter(
            config.ip_rate, now_ns, max_clients=config.max_tracked_clients
        )
        self._key_limiter = RateLimiter(
            config.key_rate, now_ns, max_clients=config.max_tracked_clients
        )
        self._max_body = config.max_body_bytes
        self._metrics = metrics
        public = set(PUBLIC_PATHS)
        if config.public_metrics:
            public.add("/metrics")
        self._public = frozenset(public)

    @property
    def authenticator(self) -> Authenticator:
        return self._auth

    def is_public(self, path: str) -> bool:
        return path in self._public or path.startswith(PUBLIC_PREFIXES)

    def admit(
        self, client_ip: str, path: str, headers: list[tuple[bytes, bytes]]
    ) -> Principal | Rejection | None:
        """Admit an HTTP request: its principal, None for a public path, or a rejection."""
        wait = self._ip_limiter.acquire(client_ip)
        if wait:
            return self._reject(_rate_limited(wait, "per-IP"))
        authorization: str | None = None
        for name, value in headers:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length" and self._too_large(value):
                return self._reject(
                    Rejection(413, "body_too_large", f"body larger than {self._max_body} bytes")
                )
        if self.is_public(path):
            return None
        credential = bearer(authorization)
        if credential is None:
            return self._reject(
                Rejection(
                    401, "unauthenticated", "missing bearer credential", _UNAUTHORIZED_HEADERS
                )
            )
        return self.admit_credential(credential)

    def admit_credential(self, credential: str) -> Principal | Rejection:
        """Authenticate ``credential`` and take a token from its principal's bucket."""
        try:
            principal = self._auth.authenticate(credential)
        except AuthFailure as failure:
            return self._reject(
                Rejection(401, "unauthenticated", str(failure), _UNAUTHORIZED_HEADERS)
            )
        wait = self._key_limiter.acquire(principal.subject)
        if wait:
            return self._reject(_rate_limited(wait, "per-key"))
        return principal

    def admit_ip(self, client_ip: str) -> Rejection | None:
        """Only the per-IP bucket (the WebSocket upgrade checks it before the credential)."""
        wait = self._ip_limiter.acquire(client_ip)
        return self._reject(_rate_limited(wait, "per-IP")) if wait else None

    def _too_large(self, value: bytes) -> bool:
        try:
            return int(value) > self._max_body
        except ValueError:
            return False

    def _reject(self, rejection: Rejection) -> Rejection:
        if self._metrics is not None:
            self._metrics.record_rejection(rejection.code)
        return rejection


async def send_rejection(send: Send, rejection: Rejection) -> None:
    body = error_bytes(rejection.status, rejection.code, rejection.message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend((name.encode(), value.encode()) for name, value in rejection.headers)
    await send({"type": "http.response.start", "status": rejection.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@final
class GatewayMiddleware:
    """ASGI middleware running :class:`Gateway` in front of an app, with request metrics."""

    __slots__ = ("_app", "_gateway", "_metrics")

    def __init__(self, app: ASGIApp, gateway: Gateway, metrics: ApiMetrics | None = None) -> None:
        self._app = app
        self._gateway = gateway
        self._metrics = metrics

    @property
    def gateway(self) -> Gateway:
        return self._gateway

    @property
    def metrics(self) -> ApiMetrics | None:
        return self._metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start = perf_counter_ns()
        client = scope.get("client")
        outcome = self._gateway.admit(
            client[0] if client else "unknown", scope["path"], scope["headers"]
        )
        if type(outcome) is Rejection:
            await send_rejection(send, outcome)
            status = outcome.status
            route = "gateway"
        else:
            scope[PRINCIPAL_KEY] = outcome
            status_box = [500]

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status_box[0] = message["status"]
                await send(message)

            await self._app(scope, receive, send_status)
            status = status_box[0]
            route = scope.get("path_template") or "unmatched"
        if self._metrics is not None:
            self._metrics.record_request(scope["method"], route, status, perf_counter_ns() - start)
