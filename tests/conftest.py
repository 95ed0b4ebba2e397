"""Shared fixtures for every test: the service fixtures of ``tests/services.py``."""

from tests.services import (
    mariadb_address,
    nats_address,
    postgres_server,
    postgres_url,
    rabbitmq_address,
    redis_address,
)

__all__ = [
    "mariadb_address",
    "nats_address",
    "postgres_server",
    "postgres_url",
    "rabbitmq_address",
    "redis_address",
]
