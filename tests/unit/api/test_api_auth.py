"""Bearer parsing and JWT authentication with expiry on the injected clock."""

from __future__ import annotations

import jwt
import pytest

from spreadwire.api.auth import Authenticator, AuthFailure, bearer
from spreadwire.api.config import JwtConfig
from spreadwire.api.keys import KeyStore
from spreadwire.core.clock import SimClock

SECRET = "test-secret-of-a-reasonable-length-123456"
NOW_S = 1_700_000_000


def make_auth(clock: SimClock) -> Authenticator:
    store = KeyStore(None, clock=clock, monotonic_ns=clock.timestamp_ns)
    return Authenticator(store, clock, JwtConfig(key=SECRET, audience="spreadwire"))


def token(**claims: object) -> str:
    body = {"sub": "alice", "role": "trader", "aud": "spreadwire", "exp": NOW_S + 60}
    body.update(claims)
    return jwt.encode(body, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("header", "credential"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        (None, None),
    ],
)
def test_bearer_header_yields_its_credential(header: str | None, credential: str | None) -> None:
    assert bearer(header) == credential


def test_authenticator_valid_jwt_gives_subject_and_role() -> None:
    auth = make_auth(SimClock(start_ns=NOW_S * 10**9))

    principal = auth.authenticate(token())

    assert (principal.subject, principal.role, principal.kind) == ("jwt:alice", "trader", "jwt")


def test_authenticator_jwt_past_expiry_is_refused() -> None:
    clock = SimClock(start_ns=NOW_S * 10**9)
    auth = make_auth(clock)
    credential = token()
    auth.authenticate(credential)

    clock.advance(61 * 10**9)

    with pytest.raises(AuthFailure, match="expired"):
        auth.authenticate(credential)


@pytest.mark.parametrize(
    "credential",
    [
        jwt.encode({"sub": "a", "role": "admin", "aud": "spreadwire", "exp": NOW_S + 60}, "x" * 40),
        token(role="root"),
        token(aud="someone-else"),
        token(exp=None),
    ],
    ids=["wrong-signature", "unknown-role", "wrong-audience", "no-expiry"],
)
def test_authenticator_invalid_jwt_is_refused(credential: str) -> None:
    auth = make_auth(SimClock(start_ns=NOW_S * 10**9))

    with pytest.raises(AuthFailure):
        auth.authenticate(credential)


def test_authenticator_jwt_before_not_before_is_refused() -> None:
    auth = make_auth(SimClock(start_ns=NOW_S * 10**9))

    with pytest.raises(AuthFailure, match="not yet valid"):
        auth.authenticate(token(nbf=NOW_S + 30))


def test_authenticator_api_key_still_works_with_jwt_configured() -> None:
    clock = SimClock(start_ns=NOW_S * 10**9)
    auth = make_auth(clock)
    _, key = auth.keys.create("viewer")

    principal = auth.authenticate(key)

    assert (principal.role, principal.kind) == ("viewer", "key")


def test_authenticator_jwt_subject_up_to_255_characters_is_taken_longer_is_refused() -> None:
    """An OpenID ``sub`` is at most 255 characters; the node records ``jwt:<sub>`` as the
    operator of every command, so a longer one is refused here, not when recorded."""
    auth = make_auth(SimClock(start_ns=NOW_S * 10**9))

    longest = auth.authenticate(token(sub="u" * 255))

    assert longest.subject == "jwt:" + "u" * 255
    with pytest.raises(AuthFailure, match="sub"):
        auth.authenticate(token(sub="u" * 256))
