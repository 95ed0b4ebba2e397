"""Authentication: an API key or (optionally) a signed JWT to a :class:`Principal`.

Both arrive as ``Authorization: Bearer <credential>`` (the WebSocket upgrade also takes a
``token`` query parameter). A credential with two dots is a JWT when JWT is configured;
anything else is looked up as an API key. A verified JWT is remembered (bounded) so that
its signature is checked once, not per request; its expiry is checked every time,
against the injected clock.
"""

from __future__ import annotations

from typing import Final, final

import jwt

from spreadwire.api.config import JwtConfig
from spreadwire.api.keys import ROLE_RANK, KeyStore
from spreadwire.core.clock import Clock
from spreadwire.domain.commands import MAX_JWT_SUBJECT

_JWT_CACHE_SIZE: Final = 4096


@final
class Principal:
    """Who is calling: ``subject`` (key id or JWT ``sub``) and ``role``."""

    __slots__ = ("kind", "role", "subject")

    def __init__(self, subject: str, role: str, kind: str) -> None:
        self.subject = subject
        self.role = role
        self.kind = kind

    def __repr__(self) -> str:
        return f"Principal({self.kind}:{self.subject}, {self.role})"


class AuthFailure(Exception):
    """Why a credential was refused (the message is safe to show)."""


def bearer(header: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer ...`` header, else None."""
    if not header or len(header) < 8 or header[:7].lower() != "bearer ":
        return None
    token = header[7:].strip()
    return token or None


@final
class Authenticator:
    """API keys from a :class:`KeyStore`, plus JWTs when ``jwt`` is configured."""

    __slots__ = ("_clock", "_jwt", "_jwt_cache", "_keys")

    def __init__(self, keys: KeyStore, clock: Clock, jwt_config: JwtConfig | None = None) -> None:
        self._keys = keys
        self._clock = clock
        self._jwt = jwt_config
        self._jwt_cache: dict[str, tuple[Principal, int, int]] = {}

    @property
    def keys(self) -> KeyStore:
        return self._keys

    def authenticate(self, credential: str) -> Principal:
        """The principal for ``credential``; :class:`AuthFailure` when it is not valid."""
        if self._jwt is not None and credential.count(".") == 2:
            return self._from_jwt(credential, self._jwt)
        stored = self._keys.verify(credential)
        if stored is None:
            raise AuthFailure("invalid or revoked API key")
        return Principal(stored.key_id, stored.role, "key")

    def _from_jwt(self, token: str, config: JwtConfig) -> Principal:
        now = self._clock.timestamp_ns()
        cached = self._jwt_cache.get(token)
        if cached is None:
            cached = self._verify_jwt(token, config)
            if len(self._jwt_cache) >= _JWT_CACHE_SIZE:
                self._jwt_cache.clear()
            self._jwt_cache[token] = cached
        principal, not_before_ns, expires_ns = cached
        if now > expires_ns + config.leeway_ns:
            raise AuthFailure("token expired")
        if now + config.leeway_ns < not_before_ns:
            raise AuthFailure("token not yet valid")
        return principal

    def _verify_jwt(self, token: str, config: JwtConfig) -> tuple[Principal, int, int]:
        try:
            claims = jwt.decode(
                token,
                config.key,
                algorithms=list(config.algorithms),
                audience=config.audience,
                issuer=config.issuer,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "sub"],
                },
            )
        except jwt.PyJWTError as error:
            raise AuthFailure(f"invalid token: {error}") from None
        role = claims.get(config.role_claim)
        exp = claims.get("exp")
        nbf = claims.get("nbf", 0)
        if not isinstance(role, str) or role not in ROLE_RANK:
            raise AuthFailure(f"invalid token: claim {config.role_claim!r} is not a role")
        if not isinstance(exp, int | float) or not isinstance(nbf, int | float):
            raise AuthFailure("invalid token: exp and nbf must be numbers")
        subject = str(claims["sub"])
        if len(subject) > MAX_JWT_SUBJECT:
            # the operator of every command it sends is ``jwt:<sub>``, stored with it
            raise AuthFailure(f"invalid token: sub is longer than {MAX_JWT_SUBJECT} characters")
        principal = Principal(f"jwt:{subject}", role, "jwt")
        return principal, int(nbf * 1_000_000_000), int(exp * 1_000_000_000)
