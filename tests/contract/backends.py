"""The recorder backends every contract test runs against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spreadwire.eventstore.recorder import Recorder
from spreadwire.persistence import open_store

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def store_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'events.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, request, tmp_path)


@pytest.fixture
def recorder(url: str) -> Iterator[Recorder]:
    store = open_store(url)
    try:
        yield store
    finally:
        store.close()
