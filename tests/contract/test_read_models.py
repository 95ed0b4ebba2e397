"""The ReadModelStore contract: SQLite (memory and file) and PostgreSQL behave the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner, ReadModelStore, ReadModelView
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.records import Entry
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.store import open_read_models
from tests.unit.eventstore.builders import order_flow

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
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        for message in order_flow():
            writer.append(message)
    return recorder


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
