"""Errors the REST layer turns into HTTP answers, all in one JSON shape (:class:`ErrorBody`).

A :class:`NodeService` raises :class:`NotFoundError` for an unknown id and
:class:`ConflictError` for a request that contradicts current state (a duplicate client
order id, a strategy that already exists); a :class:`spreadwire.errors.ValidationError`
becomes a 422 naming its field. Business outcomes (a risk denial) are not errors: the
order comes back with status ``DENIED`` and its reason.
"""

from __future__ import annotations

import msgspec

from spreadwire.api.schemas import ErrorBody
from spreadwire.errors import SpreadwireError


class ApiError(SpreadwireError):
    """An error with an HTTP status and a machine-readable code."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> ErrorBody:
        return ErrorBody(status=self.status, code=self.code, message=self.message, field=self.field)


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class UnavailableError(ApiError):
    """The node cannot serve the request now (starting, stopping)."""

    status = 503
    code = "unavailable"


_ENCODER = msgspec.json.Encoder()


def error_bytes(status: int, code: str, message: str, field: str | None = None) -> bytes:
    """The JSON bytes of an :class:`ErrorBody`."""
    return _ENCODER.encode(ErrorBody(status=status, code=code, message=message, field=field))
