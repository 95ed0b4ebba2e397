"""The REST application: Litestar routes behind the gateway middleware.

``create_app`` returns an ASGI callable (serve it with :class:`RestServer` or any ASGI
server). Every error, whether raised by the gateway, a guard, validation or the node,
leaves in the :class:`~spreadwire.api.schemas.ErrorBody` shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Final

import msgspec
from litestar import Litestar, MediaType, Request, Response, Router
from litestar.exceptions import HTTPException, ValidationException

from spreadwire.api.auth import Authenticator
from spreadwire.api.config import GatewayConfig
from spreadwire.api.errors import ApiError
from spreadwire.api.gateway import ASGIApp, Gateway, GatewayMiddleware
from spreadwire.api.keys import KeyStore
from spreadwire.api.metrics import ApiMetrics
from spreadwire.api.ports import NodeService
from spreadwire.api.rest.commands import order_routes, risk_routes, strategy_routes
from spreadwire.api.rest.common import authorize, declare_query_parameters
from spreadwire.api.rest.fastpath import ReadFastPath
from spreadwire.api.rest.fastpath import fast_reads as fast_read_routes
from spreadwire.api.rest.openapi import BEARER, OptionsAllow, openapi_config, use_msgspec_schemas
from spreadwire.api.rest.reads import read_routes
from spreadwire.api.rest.system import doc_routes, key_routes, system_routes
from spreadwire.api.schemas import ErrorBody
from spreadwire.core.clock import Clock, perf_counter_ns
from spreadwire.errors import ValidationError

log = logging.getLogger("spreadwire.api.rest")

_CODES: Final = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}
_FIELD_IN_MESSAGE: Final = re.compile(r"(?:at `\$\.([^`]+)`|field `([^`]+)`)")
AnyRequest = Request[Any, Any, Any]


def _error(status: int, code: str, message: str, field: str | None = None) -> Response[Any]:
    body = ErrorBody(status=status, code=code, message=message, field=field)
    return Response(body, status_code=status, media_type=MediaType.JSON)


def _validation_field(extra: object) -> tuple[str | None, str]:
    """The offending field and message from Litestar's validation ``extra``."""
    if not isinstance(extra, list) or not extra or not isinstance(extra[0], dict):
        return None, "invalid request"
    first = extra[0]
    message = str(first.get("message", "invalid value"))
    key = first.get("key")
    match = _FIELD_IN_MESSAGE.search(message)
    if match:
        return match.group(1) or match.group(2), message
    return (str(key) if key and key != "data" else None), message


def _on_validation(_: AnyRequest, exc: ValidationException) -> Response[Any]:
    field, message = _validation_field(exc.extra)
    return _error(422, "invalid", message, field)


def _on_http(_: AnyRequest, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    response = _error(status, _CODES.get(status, "error"), str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _on_api_error(_: AnyRequest, exc: ApiError) -> Response[Any]:
    return _error(exc.status, exc.code, exc.message, exc.field)


def _on_domain_validation(_: AnyRequest, exc: ValidationError) -> Response[Any]:
    return _error(422, "invalid", exc.message, exc.field)


def _on_msgspec_validation(_: AnyRequest, exc: msgspec.ValidationError) -> Response[Any]:
    message = str(exc)
    match = _FIELD_IN_MESSAGE.search(message)
    return _error(422, "invalid", message, (match.group(1) or match.group(2)) if match else None)


def _on_unexpected(request: AnyRequest, exc: Exception) -> Response[Any]:
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return _error(500, "internal_error", "internal error")


def create_app(
    service: NodeService,
    gateway_config: GatewayConfig,
    key_store: KeyStore,
    *,
    clock: Clock,
    monotonic_ns: Callable[[], int] = perf_counter_ns,
    metrics: ApiMetrics | None = None,
    fast_reads: bool = True,
) -> GatewayMiddleware:
    """The REST API for ``service``, behind a gateway using ``key_store`` and ``clock``.

    ``clock`` checks JWT expiry; ``monotonic_ns`` drives the token buckets. The returned
    middleware exposes ``gateway`` (share it with the WebSocket server) and ``metrics``.
    ``fast_reads`` answers the parameterless GET reads without Litestar (same bodies).
    """
    metrics = metrics if metrics is not None else ApiMetrics()
    if metrics.latency_source is None:
        metrics.latency_source = service.latency
    if metrics.store_source is None:
        metrics.store_source = service.store
    authenticator = Authenticator(key_store, clock, gateway_config.jwt)
    gateway = Gateway(gateway_config, authenticator, now_ns=monotonic_ns, metrics=metrics)
    public_metrics = gateway_config.public_metrics
    authenticated = Router(
        "/",
        route_handlers=[
            *read_routes(service),
            *strategy_routes(service),
            *risk_routes(service),
            *order_routes(service),
            *key_routes(key_store),
        ],
        security=BEARER,
    )
    app = Litestar(
        route_handlers=[
            *doc_routes(),
            *system_routes(service, metrics, public_metrics=public_metrics),
            authenticated,
        ],
        openapi_config=openapi_config(),
        exception_handlers={
            ValidationException: _on_validation,
            HTTPException: _on_http,
            ApiError: _on_api_error,
            ValidationError: _on_domain_validation,
            msgspec.ValidationError: _on_msgspec_validation,
            Exception: _on_unexpected,
        },
        request_max_body_size=gateway_config.max_body_bytes,
        before_request=authorize,
        logging_config=None,
        debug=False,
    )
    use_msgspec_schemas(app)
    declare_query_parameters(app)
    routed: ASGIApp = OptionsAllow(app)
    if fast_reads:
        routed = ReadFastPath(routed, fast_read_routes(service))
    return GatewayMiddleware(routed, gateway, metrics)
