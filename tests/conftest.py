"""Shared fixtures for every test: the service fixtures of ``tests/services.py``, and the
hypothesis profile.

Tests never depend on timing, and that includes hypothesis: its per-example deadline and
its "too slow" health check are off, so a loaded machine (CI on 2 cores) cannot turn a
slow example into a failure.
"""

from hypothesis import HealthCheck, settings

from tests.services import (
    mariadb_address,
    nats_address,
    postgres_server,
    postgres_url,
    rabbitmq_address,
    redis_address,
)

settings.register_profile(
    "spreadwire",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("spreadwire")

__all__ = [
    "mariadb_address",
    "nats_address",
    "postgres_server",
    "postgres_url",
    "rabbitmq_address",
    "redis_address",
]
