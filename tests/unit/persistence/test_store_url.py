from __future__ import annotations

from pathlib import Path

import pytest

from spreadwire import persistence
from spreadwire.errors import ConfigError
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
