"""Gateway admission: per-IP bucket before auth, body size, credential, per-key bucket."""

from __future__ import annotations

from spreadwire.api.auth import Authenticator, Principal
from spreadwire.api.config import GatewayConfig, RateLimit
from spreadwire.api.gateway import Gateway, Rejection
from spreadwire.api.keys import KeyStore
from spreadwire.api.metrics import ApiMetrics
from spreadwire.core.clock import SimClock

Headers = list[tuple[bytes, bytes]]


def make_gateway(**overrides: object) -> tuple[Gateway, str, SimClock, ApiMetrics]:
    clock = SimClock(start_ns=1_000_000_000)
    store = KeyStore(None, clock=clock, monotonic_ns=clock.timestamp_ns)
    _, key = store.create("viewer")
    settings: dict[str, object] = {
        "ip_rate": RateLimit(limit=100, burst=100),
        "key_rate": RateLimit(limit=100, burst=100),
    }
    settings.update(overrides)
    metrics = ApiMetrics()
    gateway = Gateway(
        GatewayConfig(**settings),  # type: ignore[arg-type]
        Authenticator(store, clock),
        now_ns=clock.timestamp_ns,
        metrics=metrics,
    )
    return gateway, key, clock, metrics


def auth(key: str) -> Headers:
    return [(b"authorization", f"Bearer {key}".encode())]


def test_gateway_valid_key_is_admitted_as_its_principal() -> None:
    gateway, key, _, _ = make_gateway()

    outcome = gateway.admit("127.0.0.1", "/v1/positions", auth(key))

    assert isinstance(outcome, Principal)
    assert outcome.role == "viewer"


def test_gateway_public_path_needs_no_credential() -> None:
    gateway, _, _, _ = make_gateway()

    assert gateway.admit("127.0.0.1", "/health", []) is None
    assert gateway.admit("127.0.0.1", "/docs", []) is None


def test_gateway_missing_credential_is_401_with_challenge() -> None:
    gateway, _, _, metrics = make_gateway()

    outcome = gateway.admit("127.0.0.1", "/v1/positions", [])

    assert isinstance(outcome, Rejection)
    assert outcome.status == 401
    assert ("www-authenticate", 'Bearer realm="spreadwire"') in outcome.headers
    assert metrics.rejections == {"unauthenticated": 1}


def test_gateway_declared_body_over_limit_is_413() -> None:
    gateway, key, _, _ = make_gateway(max_body_bytes=100)

    outcome = gateway.admit("127.0.0.1", "/v1/orders", [*auth(key), (b"content-length", b"101")])

    assert isinstance(outcome, Rejection)
    assert outcome.status == 413


def test_gateway_per_key_bucket_exhausted_is_429_with_retry_after() -> None:
    gateway, key, _, _ = make_gateway(key_rate=RateLimit(limit=2, burst=2))
    for _ in range(2):
        gateway.admit("127.0.0.1", "/v1/pnl", auth(key))

    outcome = gateway.admit("127.0.0.1", "/v1/pnl", auth(key))

    assert isinstance(outcome, Rejection)
    assert (outcome.status, outcome.code) == (429, "rate_limited")
    assert ("retry-after", "1") in outcome.headers


def test_gateway_per_ip_bucket_applies_before_authentication() -> None:
    gateway, _, _, _ = make_gateway(ip_rate=RateLimit(limit=3, burst=3))
    for _ in range(3):
        gateway.admit("10.0.0.9", "/v1/pnl", auth("swk_bad_key"))

    outcome = gateway.admit("10.0.0.9", "/v1/pnl", auth("swk_bad_key"))

    assert isinstance(outcome, Rejection)
    assert outcome.status == 429
    assert "per-IP" in outcome.message


def test_gateway_after_refill_admits_again() -> None:
    gateway, key, clock, _ = make_gateway(key_rate=RateLimit(limit=1, burst=1))
    gateway.admit("127.0.0.1", "/v1/pnl", auth(key))
    assert isinstance(gateway.admit("127.0.0.1", "/v1/pnl", auth(key)), Rejection)

    clock.advance(1_000_000_000)

    assert isinstance(gateway.admit("127.0.0.1", "/v1/pnl", auth(key)), Principal)


def test_gateway_public_metrics_option_opens_metrics() -> None:
    closed, _, _, _ = make_gateway()
    opened, _, _, _ = make_gateway(public_metrics=True)

    assert isinstance(closed.admit("127.0.0.1", "/metrics", []), Rejection)
    assert opened.admit("127.0.0.1", "/metrics", []) is None
