"""The SQLite read-model store: a failed call leaves no transaction open and says which
read models failed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from spreadwire.errors import ConfigError, StoreError
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner
from spreadwire.eventstore.readmodels import OrdersProjection, standard_projections
from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore
from tests.unit.eventstore.builders import record_order_flow


class _Misnamed:
    """A projection whose second table has a name read models refuse."""

    name = "misnamed"
    tables = ("misnamed", "Not-A-Table")

    def apply(self, entry: object, view: object) -> None:
        pass


def _built(path: Path) -> SQLiteReadModelStore:
    recorder = record_order_flow(MemoryRecorder())
    store = SQLiteReadModelStore(path)
    ProjectionRunner(recorder, store, standard_projections()).catch_up()
    return store


def test_sqlite_read_models_failed_reset_changes_nothing_and_holds_no_lock(
    tmp_path: Path,
) -> None:
    store = _built(tmp_path / "rm.db")
    orders = store.rows("orders")

    with pytest.raises(ConfigError, match="Not-A-Table"):
        store.reset([OrdersProjection(), _Misnamed()])

    assert store.rows("orders") == orders
    assert store.tracking()["orders"] == 11
    other = sqlite3.connect(tmp_path / "rm.db", isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # the write lock is free
    other.execute("ROLLBACK")
    other.close()
    store.close()


def test_sqlite_read_models_locked_by_another_process_is_a_store_error(
    tmp_path: Path,
) -> None:
    store = _built(tmp_path / "rm.db")
    store.close()
    store = SQLiteReadModelStore(tmp_path / "rm.db", timeout_s=0.05)
    holder = sqlite3.connect(tmp_path / "rm.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    with pytest.raises(StoreError, match=r"read models sqlite:///.*rm\.db: database is locked"):
        store.reset(standard_projections())
    with pytest.raises(StoreError, match="database is locked"):
        store.apply(standard_projections(), [])

    holder.close()
    store.reset(standard_projections())
    assert store.rows("orders") == {}
    store.close()


def test_sqlite_read_models_rebuild_leaves_no_staging_tables(tmp_path: Path) -> None:
    store = _built(tmp_path / "rm.db")
    recorder = record_order_flow(MemoryRecorder())
    store.staging().close()  # as an interrupted rebuild leaves them
    runner = ProjectionRunner(recorder, store, standard_projections(), batch=4)

    runner.rebuild()
    runner.rebuild()

    with sqlite3.connect(tmp_path / "rm.db") as connection:
        names = sorted(n for (n,) in connection.execute("SELECT name FROM sqlite_master"))
    tables = sorted(f"rm_{t}" for p in standard_projections() for t in p.tables)
    assert names == sorted([*tables, "rm_tracking"])
    assert store.tracking()["orders"] == 11
    assert store.marks()[1] == 2
    store.close()
