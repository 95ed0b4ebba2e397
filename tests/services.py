"""Real services for tests: reachable or skipped locally, mandatory under ``CI=true``.

Import the fixtures you need into a test module (``from tests.services import
postgres_url``) or rely on ``tests/conftest.py``, which re-exports them. A test that
needs a service gets a real connection; when the service is down it is skipped with the
reason, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest

#: name -> (host, port) of the services available on developer machines and in CI.
SERVICES: dict[str, tuple[str, int]] = {
    "postgres": ("127.0.0.1", 5432),
    "nats": ("127.0.0.1", 4222),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
    "mariadb": ("127.0.0.1", 3306),
}

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def reachable(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def require_service(name: str) -> tuple[str, int]:
    """``(host, port)`` of ``name``; skip (locally) or fail (CI) when it is down."""
    host, port = SERVICES[name]
    if not reachable(host, port):
        reason = f"{name} is not reachable on {host}:{port}"
        if in_ci():
            pytest.fail(f"{reason}, and CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return host, port


def postgres_database_url(name: str) -> str:
    host, port = SERVICES["postgres"]
    return f"postgresql://postgres@{host}:{port}/{name}"


def create_postgres_database() -> str:
    """Create a uniquely named database; return its URL."""
    name = f"sw_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return postgres_database_url(name)


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the PostgreSQL server (skips or fails when it is down)."""
    require_service("postgres")
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def nats_address() -> tuple[str, int]:
    return require_service("nats")


@pytest.fixture(scope="session")
def redis_address() -> tuple[str, int]:
    return require_service("redis")


@pytest.fixture(scope="session")
def rabbitmq_address() -> tuple[str, int]:
    return require_service("rabbitmq")


@pytest.fixture(scope="session")
def mariadb_address() -> tuple[str, int]:
    return require_service("mariadb")
