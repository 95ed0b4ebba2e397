"""Pieces shared by the REST route modules: the role check, the caller, documented errors."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter

from spreadwire.api.auth import Principal
from spreadwire.api.gateway import PRINCIPAL_KEY
from spreadwire.api.keys import role_allows
from spreadwire.api.schemas import ErrorBody


async def authorize(request: Request[Any, Any, Any]) -> None:
    """App-wide ``before_request`` hook: the route's ``opt["role"]`` or better is needed.

    A hook rather than Litestar guards: a guard copies the route handler on every call,
    which costs more than the whole gateway. It runs before the body is parsed, so a
    caller without the role gets 403 even for an invalid body.
    """
    opt = request.scope["route_handler"].opt
    if request.scope["query_string"]:
        _check_query(request.scope["query_string"], opt.get("query", frozenset()))
    role = opt.get("role")
    if role is None:
        return
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("missing bearer credential")
    if not role_allows(principal.role, role):
        raise PermissionDeniedException(
            f"role {principal.role!r} may not do this; {role!r} or above is needed"
        )


#: An id in a path (``client_order_id``, ``strategy_id``, ``key_id``).
PathId = Annotated[str, PathParameter(min_length=1, max_length=64)]

_RESERVED: Final = frozenset({"request", "data", "scope", "state", "headers", "cookies", "query"})
_PATH_PARAM: Final = re.compile(r"{(\w+)(?::\w+)?}")


def declare_query_parameters(app: Litestar) -> None:
    """Store in each handler's ``opt["query"]`` the query parameters it declares."""
    for handlers in app.route_handler_method_map.values():
        for handler in handlers.values():
            path_params = {m for path in handler.paths for m in _PATH_PARAM.findall(path)}
            names = set(handler.parsed_fn_signature.parameters) - _RESERVED - path_params
            handler.opt["query"] = frozenset(names)


def _check_query(query_string: bytes, allowed: frozenset[str]) -> None:
    """Unknown or repeated query parameters are errors (a typo must not be ignored)."""
    seen: set[str] = set()
    for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name not in allowed:
            problem = f"unknown query parameter {name!r}"
        elif name in seen:
            problem = f"query parameter {name!r} given more than once"
        else:
            seen.add(name)
            continue
        raise ValidationException(problem, extra=[{"key": name, "message": problem}])


VIEWER: Final = {"role": "viewer"}
TRADER: Final = {"role": "trader"}
ADMIN: Final = {"role": "admin"}


def actor(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The audited actor of a request: the API key id or ``jwt:<sub>``."""
    principal = connection.scope.get(PRINCIPAL_KEY)
    return principal.subject if isinstance(principal, Principal) else "anonymous"


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)


_AUTH: Final = {
    401: _spec("Missing, invalid, expired or revoked credential"),
    403: _spec("The caller's role may not do this"),
    429: _spec("Rate limit exceeded; see Retry-After"),
}
#: Error responses of an authenticated GET.
READ_ERRORS: Final = {**_AUTH, 400: _spec("Malformed request"), 422: _spec("Invalid parameter")}
#: Error responses of an authenticated request with a body.
WRITE_ERRORS: Final = {
    **READ_ERRORS,
    409: _spec("Conflicts with the current state"),
    413: _spec("Body too large"),
}
NOT_FOUND: Final = {404: _spec("No such resource")}
