"""Pieces shared by the REST route modules: the role check, the caller, documented errors."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.openapi.datastructures import ResponseSpec

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
    role = request.scope["route_handler"].opt.get("role")
    if role is None:
        return
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("missing bearer credential")
    if not role_allows(principal.role, role):
        raise PermissionDeniedException(
            f"role {principal.role!r} may not do this; {role!r} or above is needed"
        )


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
