"""Direct answers to the parameterless GET reads, in front of Litestar.

``GET /v1/positions`` and the other reads without parameters are the requests a dashboard
repeats; for them a framework's routing, signature parsing and response objects cost more
than the work. This ASGI layer answers them from the node's read models with one msgspec
encode when the caller is a viewer or above and there is no query string; anything else
(a missing role, a query string, an error from the node) falls through to the Litestar
route, which documents them in OpenAPI and produces the same body and the error shape.
An :class:`~spreadwire.api.errors.ApiError` from the node (503 while the read models
cannot be brought up to date) is answered here in that shape: the route would ask the
node again, and a read that waited for a locked store would hold the event loop twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, final

import msgspec

from spreadwire.api.auth import Principal
from spreadwire.api.errors import ApiError, error_bytes
from spreadwire.api.gateway import PRINCIPAL_KEY, ASGIApp, Message, Scope
from spreadwire.api.keys import role_allows
from spreadwire.api.ports import NodeService

_HEADERS: Final = [(b"content-type", b"application/json")]


def fast_reads(service: NodeService) -> dict[str, Callable[[], object]]:
    """The reads answered directly, by path."""
    return {
        "/v1/instruments": service.instruments,
        "/v1/strategies": service.strategies,
        "/v1/risk/limits": service.risk_limits,
        "/v1/trading-state": service.trading_state,
        "/v1/positions": service.positions,
        "/v1/pnl": service.pnl,
        "/v1/latency": service.latency,
        "/v1/store": service.store,
    }


@final
class ReadFastPath:
    """Serve ``reads`` directly to viewers; pass everything else to ``app``."""

    __slots__ = ("_app", "_encode", "_reads")

    def __init__(self, app: ASGIApp, reads: Mapping[str, Callable[[], object]]) -> None:
        self._app = app
        self._reads = dict(reads)
        self._encode = msgspec.json.Encoder().encode

    async def __call__(self, scope: Scope, receive: Any, send: Callable[[Message], Any]) -> None:
        read = self._reads.get(scope["path"]) if scope["type"] == "http" else None
        if read is not None and scope["method"] == "GET" and not scope["query_string"]:
            principal = scope.get(PRINCIPAL_KEY)
            if isinstance(principal, Principal) and role_allows(principal.role, "viewer"):
                status = 200
                try:
                    body = self._encode(read())
                except ApiError as error:
                    status = error.status
                    body = error_bytes(status, error.code, error.message, error.field)
                except Exception:
                    body = None
                if body is not None:
                    scope["path_template"] = scope["path"]
                    headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self._app(scope, receive, send)
