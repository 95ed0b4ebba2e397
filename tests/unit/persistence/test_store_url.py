from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from spreadwire import persistence
from spreadwire.errors import ConfigError, StoreError
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.persistence.sqlite import SQLiteRecorder
from spreadwire.persistence.store import default_read_models_url, open_store, sqlite_path


def test_persistence_facade_exports_open_store_only() -> None:
    assert persistence.__all__ == ["open_store"]


def test_sqlite_path_three_slashes_relative_four_absolute() -> None:
    assert sqlite_path("sqlite:///runs/1/events.db") == Path("runs/1/events.db")
    assert sqlite_path("sqlite:////tmp/events.db") == Path("/tmp/events.db")


def test_open_store_memory_and_sqlite_urls_pick_the_backend(tmp_path: Path) -> None:
    memory = open_store("memory://")
    sqlite = open_store(f"sqlite:///{tmp_path / 'deep' / 'events.db'}")

    assert isinstance(memory, MemoryRecorder)
    assert isinstance(sqlite, SQLiteRecorder)
    assert (tmp_path / "deep" / "events.db").exists()
    sqlite.close()


@pytest.mark.parametrize("url", ["mysql://x", "sqlite:", "events.db"])
def test_open_store_unknown_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="store"):
        open_store(url)


def test_default_read_models_url_sits_beside_a_sqlite_log() -> None:
    assert default_read_models_url("sqlite:///runs/events.db") == (
        "sqlite:///runs/events.readmodels.db"
    )
    assert default_read_models_url("postgresql://h/db") == "postgresql://h/db"


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:5432", "postgresql://postgres@127.0.0.1:5432/"]
)
def test_a_postgresql_url_without_a_database_is_refused_before_connecting(url: str) -> None:
    with pytest.raises(ConfigError, match="store: a PostgreSQL URL names its database"):
        open_store(url)


def test_a_sqlite_database_that_is_not_an_event_store_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    connection.close()
    before = path.read_bytes()

    with pytest.raises(StoreError, match="not an event store"):
        open_store(f"sqlite:///{path}")

    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_an_empty_or_new_sqlite_file_becomes_an_event_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (empty, tmp_path / "new.db"):
        store = open_store(f"sqlite:///{path}")
        store.close()
        reopened = open_store(f"sqlite:///{path}")
        assert reopened.last_position() == 0
        reopened.close()
