"""Health, readiness, metrics and API-key management."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, delete, get, post
from litestar.enums import OpenAPIMediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import JSONBody

from spreadwire.api.errors import NotFoundError
from spreadwire.api.keys import KeyStore
from spreadwire.api.metrics import CONTENT_TYPE, ApiMetrics
from spreadwire.api.ports import NodeService
from spreadwire.api.rest.common import (
    ADMIN,
    NOT_FOUND,
    READ_ERRORS,
    VIEWER,
    WRITE_ERRORS,
    PathId,
    actor,
)
from spreadwire.api.rest.openapi import BEARER
from spreadwire.api.schemas import Health, KeyCreate, KeyCreated, KeyView, Readiness

_NOT_READY = {
    503: ResponseSpec(
        data_container=Readiness, description="Not ready yet", generate_examples=False
    )
}


def doc_routes() -> list[HTTPRouteHandler]:
    """``/openapi.json`` (OpenAPI 3.1) and ``/docs`` (Swagger UI), without a credential."""
    swagger = SwaggerRenderPlugin(path="/docs")
    cache: list[bytes] = []

    def schema_bytes(request: Request[Any, Any, Any]) -> bytes:
        if not cache:
            cache.append(msgspec.json.encode(request.app.openapi_schema.to_schema()))
        return cache[0]

    @get("/openapi.json", include_in_schema=False, media_type=OpenAPIMediaType.OPENAPI_JSON)
    async def openapi_json(request: Request[Any, Any, Any]) -> bytes:
        return schema_bytes(request)

    @get("/docs", include_in_schema=False, media_type=MediaType.HTML)
    async def docs(request: Request[Any, Any, Any]) -> bytes:
        return swagger.render(request, request.app.openapi_schema.to_schema())

    return [openapi_json, docs]


def system_routes(
    service: NodeService, metrics: ApiMetrics, *, public_metrics: bool
) -> list[HTTPRouteHandler]:
    """``/health``, ``/ready`` (no credential) and ``/metrics``."""

    @get("/health", tags=["system"])
    async def health() -> Health:
        """Liveness: the process answers."""
        return Health()

    @get("/ready", tags=["system"], responses=_NOT_READY)
    async def ready() -> Response[Readiness]:
        """Readiness: 200 when the node can serve, else 503 with the failing checks."""
        readiness = service.readiness()
        return Response(readiness, status_code=200 if readiness.ready else 503)

    @get(
        "/metrics",
        opt={} if public_metrics else VIEWER,
        responses=None if public_metrics else READ_ERRORS,
        media_type=CONTENT_TYPE,
        tags=["system"],
        security=None if public_metrics else BEARER,
    )
    async def prometheus() -> Response[bytes]:
        """Prometheus text format: HTTP, gateway, WebSocket and per-stage latency."""
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return [health, ready, prometheus]


def key_routes(keys: KeyStore) -> list[HTTPRouteHandler]:
    """API keys (role ``admin``): list, create (the secret is returned once), revoke."""

    @get("/v1/keys", opt=ADMIN, responses=READ_ERRORS, tags=["keys"])
    async def list_keys() -> list[KeyView]:
        """Every key with its role; secrets are never stored, so never shown."""
        return [
            KeyView(
                key_id=k.key_id,
                role=k.role,
                label=k.label,
                ts_created=k.ts_created,
                revoked=k.revoked,
            )
            for k in keys.records()
        ]

    @post("/v1/keys", opt=ADMIN, responses=WRITE_ERRORS, tags=["keys"])
    async def create_key(request: Request[Any, Any, Any], data: JSONBody[KeyCreate]) -> KeyCreated:
        """Create a key for a role; the response is the only time the key is shown."""
        label = data.label or f"created by {actor(request)}"
        record, secret = keys.create(data.role, label)
        return KeyCreated(key_id=record.key_id, role=record.role, label=record.label, key=secret)

    @delete(
        "/v1/keys/{key_id:str}",
        opt=ADMIN,
        responses={**READ_ERRORS, **NOT_FOUND},
        tags=["keys"],
    )
    async def revoke_key(key_id: PathId) -> None:
        """Revoke a key: it stops working at once, and its WebSocket sessions close."""
        if not keys.revoke(key_id):
            raise NotFoundError(f"no live key {key_id!r}", field="key_id")

    return [list_keys, create_key, revoke_key]
