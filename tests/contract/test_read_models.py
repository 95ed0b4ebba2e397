"""The ReadModelStore contract: SQLite (memory and file) and PostgreSQL behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spreadwire.errors import StoreError
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner, ReadModelStore, ReadModelView
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.records import Entry
from spreadwire.persistence.store import open_read_models
from tests.unit.eventstore.builders import record_order_flow

KINDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadModelStore]:
    if request.param == "memory":
        url = "memory://"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'readmodels.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_read_models(url)
    yield opened
    opened.close()


@pytest.fixture
def recorder() -> MemoryRecorder:
    return record_order_flow(MemoryRecorder())


class Counter:
    """Counts how often each entry is applied (exactly once is 1)."""

    name = "counter"
    tables = ("counter",)

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        doc = view.get("counter", "applied") or {"n": 0}
        view.put("counter", "applied", {"n": doc["n"] + 1})
        if entry.position % 2:
            view.put("counter", f"odd-{entry.position}", {"p": entry.position})
        else:
            view.delete("counter", f"odd-{entry.position - 1}")


def test_read_models_empty_store_tracks_nothing(store: ReadModelStore) -> None:
    assert store.tracking() == {}
    assert store.rows("orders") == {}
    assert store.get("orders", "O-1") is None


def test_read_models_every_entry_is_applied_exactly_once(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    entries = list(recorder.read())

    store.apply([Counter()], entries[:4])
    store.apply([Counter()], entries[:7])
    store.apply([Counter()], entries)

    assert store.tracking() == {"counter": 11}
    assert store.get("counter", "applied") == {"n": 11}
    assert sorted(store.rows("counter")) == ["applied", "odd-11"]


def test_read_models_standard_projections_agree_across_backends(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    reference = open_read_models("memory://")
    ProjectionRunner(recorder, reference, standard_projections()).catch_up()

    ProjectionRunner(recorder, store, standard_projections(), batch=4).catch_up()

    for projection in standard_projections():
        for table in projection.tables:
            assert store.rows(table) == reference.rows(table), table
    reference.close()


def test_read_models_reset_empties_tables_and_tracking(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    ProjectionRunner(recorder, store, standard_projections()).catch_up()
    assert store.marks()[1] == 0

    store.reset(standard_projections())
    store.reset(standard_projections())

    assert store.marks()[1] == 2
    assert store.tracking() == {}
    assert store.rows("orders") == {}


def test_read_models_batch_read_before_a_reset_skips_nothing(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    """A runner read entries 6..11 after its position 5; a rebuild reset the read models
    before it applied them: they are not applied over the hole, and a catch-up from
    where the store is builds what a rebuild builds."""
    entries = list(recorder.read())
    store.apply(standard_projections(), entries[:5])
    store.reset(standard_projections())

    tracked = store.apply(standard_projections(), entries[5:], after=5)
    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    assert tracked == {p.name: 0 for p in standard_projections()}
    reference = open_read_models("memory://")
    ProjectionRunner(recorder, reference, standard_projections()).catch_up()
    for projection in standard_projections():
        for table in projection.tables:
            assert store.rows(table) == reference.rows(table), table
    reference.close()


def test_read_models_holds_any_looks_without_creating(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    assert not store.holds_any(["orders", "never_made"])

    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    assert store.holds_any(["never_made", "orders"])
    assert not store.holds_any(["never_made"])


def _snapshot(store: ReadModelStore) -> tuple[dict[str, dict[str, Any]], dict[str, int], int]:
    tables = {t: store.rows(t) for p in standard_projections() for t in p.tables}
    tracking, resets = store.marks()
    return tables, tracking, resets


def test_read_models_rebuild_is_built_aside_and_swapped_in_whole(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    """Readers (here another connection where the backend has one) see the old read
    models all through a rebuild, then the rebuilt ones, never an empty or part-built one."""
    entries = list(recorder.read())
    store.apply(standard_projections(), entries[:5])
    reader = store if store.url == "memory://" else open_read_models(store.url)
    reference = open_read_models("memory://")
    try:
        before = _snapshot(reader)
        seen: list[tuple[dict[str, dict[str, Any]], dict[str, int], int]] = []

        position = ProjectionRunner(recorder, store, standard_projections(), batch=3).rebuild(
            progress=lambda _: seen.append(_snapshot(reader))
        )

        assert len(seen) >= 3
        assert all(snapshot == before for snapshot in seen)
        ProjectionRunner(recorder, reference, standard_projections()).catch_up()
        tables, tracking, resets = _snapshot(reader)
        assert position == len(entries)
        assert tables == _snapshot(reference)[0]
        assert tracking == {p.name: len(entries) for p in standard_projections()}
        assert resets == 1
    finally:
        reference.close()
        if reader is not store:
            reader.close()


def test_read_models_live_runner_beside_a_rebuild_ends_where_a_rebuild_ends(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    """A live runner (its own connection where the backend has one) keeps applying while
    a rebuild is built aside; after the swap it goes on from the rebuilt positions."""
    entries = list(recorder.read())
    live = store if store.url == "memory://" else open_read_models(store.url)
    reference = open_read_models("memory://")
    try:
        live.apply(standard_projections(), entries[:2])
        follower = ProjectionRunner(recorder, live, standard_projections(), batch=2)
        until = iter(range(4, len(entries) + 1, 2))

        def live_step(_: int) -> None:
            follower.catch_up(next(until, len(entries)))

        ProjectionRunner(recorder, store, standard_projections(), batch=2).rebuild(
            until=6, progress=live_step
        )
        assert live.tracking() == {p.name: 6 for p in standard_projections()}
        follower.catch_up()

        ProjectionRunner(recorder, reference, standard_projections()).catch_up()
        assert _snapshot(live)[:2] == _snapshot(reference)[:2]
    finally:
        reference.close()
        if live is not store:
            live.close()


def test_read_models_failed_rebuild_leaves_the_read_models_as_they_were(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    runner = ProjectionRunner(recorder, store, standard_projections(), batch=3)
    runner.catch_up()
    before = _snapshot(store)

    def interrupted(position: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.rebuild(progress=interrupted)

    assert _snapshot(store) == before
    runner.rebuild()  # over what the interrupted one left aside
    tables, tracking, resets = _snapshot(store)
    assert (tables, tracking, resets) == (before[0], before[1], before[2] + 1)


def test_read_models_rebuild_of_some_projections_leaves_the_others(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    entries = list(recorder.read())
    store.apply([Counter()], entries[:4])
    ProjectionRunner(recorder, store, standard_projections()).catch_up()

    ProjectionRunner(recorder, store, [Counter()]).rebuild()

    assert store.tracking()["counter"] == len(entries)
    assert store.get("counter", "applied") == {"n": len(entries)}
    assert store.tracking()["orders"] == len(entries)
    assert store.rows("orders")


@pytest.mark.parametrize("store", KINDS[1:], indirect=True)  # stores other processes open
def test_read_models_one_rebuild_at_a_time(store: ReadModelStore) -> None:
    other = open_read_models(store.url)
    staging = store.staging()
    try:
        with pytest.raises(StoreError, match="another rebuild of them is running"):
            other.staging()
    finally:
        staging.close()
    other.staging().close()  # free again
    other.close()


def _has_table(url: str, name: str) -> bool:
    """Whether the database of ``url`` holds table ``name``, asked on a connection of its own."""
    if url.startswith("sqlite:"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
            return connection.execute(query, (name,)).fetchone() is not None
        finally:
            connection.close()
    import psycopg

    with psycopg.connect(url) as pg:
        row = pg.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("store", KINDS[1:], indirect=True)  # another connection can look
def test_read_models_rows_of_a_table_never_made_create_nothing(
    store: ReadModelStore, recorder: MemoryRecorder
) -> None:
    """``events verify`` reads every table of the standard projections: one missing from
    read models written before it existed was created (a role allowed only to read failed
    with 'permission denied')."""
    ProjectionRunner(recorder, store, [Counter()]).catch_up()

    assert store.rows("never_made") == {}
    assert store.rows("counter")

    assert not _has_table(store.url, "rm_never_made")
