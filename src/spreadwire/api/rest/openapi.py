"""The OpenAPI 3.1 document, made exact.

Litestar generates the document from the handlers, but (2.25) it drops numeric bounds of
optional fields and ignores ``forbid_unknown_fields``; the component schemas are therefore
replaced by msgspec's own JSON Schema (2020-12, which OpenAPI 3.1 uses), so what the
document promises is exactly what the decoder enforces. It also answers ``OPTIONS`` with
every method of a path (Litestar lists only the methods of the first handler registered
on the path).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, final

import msgspec
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, Schema, SecurityScheme

from spreadwire.api import schemas

BEARER: Final[list[dict[str, list[str]]]] = [{"bearer": []}]
_CONVERTER: Final = re.compile(r":[a-z]+}")


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="spreadwire",
        version="1",
        description=(
            "Admin and configuration API of a spreadwire node. Send `Authorization: Bearer "
            "<key>`; roles are viewer < trader < admin. Errors share one JSON shape."
        ),
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API key or JWT")
            }
        ),
        create_examples=False,
    )


class _Raw(Schema):
    """A component schema given as a ready JSON Schema dict."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()
        self._raw = raw

    def to_schema(self) -> dict[str, Any]:
        return self._raw


def _struct_types() -> list[type[msgspec.Struct]]:
    return [
        value
        for value in vars(schemas).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == schemas.__name__
        and not value.__name__.startswith("_")
    ]


def use_msgspec_schemas(app: Litestar) -> None:
    """Replace the app's component schemas by msgspec's for every type it knows."""
    components = app.openapi_schema.components
    _, generated = msgspec.json.schema_components(
        _struct_types(), ref_template="#/components/schemas/{name}"
    )
    for name, raw in generated.items():
        if name in components.schemas:
            components.schemas[name] = _Raw(raw)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@final
class OptionsAllow:
    """ASGI wrapper fixing the ``Allow`` header of Litestar's automatic OPTIONS answer."""

    __slots__ = ("_allow", "_app")

    def __init__(self, app: Litestar) -> None:
        self._app = app
        self._allow = {
            _CONVERTER.sub("}", path): ", ".join(sorted({*handlers, "OPTIONS"}))
            for path, handlers in app.route_handler_method_map.items()
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self._app(scope, receive, send)  # type: ignore[arg-type]
            return

        async def fix_allow(message: Message) -> None:
            allow = self._allow.get(scope.get("path_template", ""))
            if message["type"] == "http.response.start" and allow is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                headers.append((b"allow", allow.encode()))
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, fix_allow)  # type: ignore[arg-type]
