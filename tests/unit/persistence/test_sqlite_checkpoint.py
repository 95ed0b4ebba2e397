"""The SQLite recorder keeps its WAL bounded by checkpointing off the commit path."""

from __future__ import annotations

from pathlib import Path

from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.sqlite import SQLiteRecorder
from spreadwire.persistence.store import open_store
from tests.builders import make_accepted

EVENTS = 200_000
#: the checkpointer restarts the WAL near 1,000 frames (about 4 MB); SQLite's own fallback
#: autocheckpoint on the writer is at 8,000 pages (about 32 MB)
WAL_BOUND_BYTES = 12 * 1024 * 1024


def test_sqlite_wal_stays_bounded_under_continuous_commits_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    store = open_store(f"sqlite:///{path}")
    writer = EventWriter(store, max_batch=64)
    wal = Path(f"{path}-wal")
    largest = 0

    for n in range(EVENTS):
        writer.append(make_accepted(f"o-{n % 1_000}", n))
        if n % 10_000 == 9_999:
            writer.flush()
            largest = max(largest, wal.stat().st_size)
    writer.close()
    last = store.last_position()
    store.close()
    reopened = open_store(f"sqlite:///{path}")
    count = sum(1 for _ in reopened.read())
    reopened.close()

    assert last == EVENTS
    assert count == EVENTS
    assert largest < WAL_BOUND_BYTES, f"WAL grew to {largest} bytes"


def _commit_in_bursts(store: SQLiteRecorder, bursts: int, per_burst: int) -> None:
    """Bursts of appends, each flushed (acknowledged) before the next: the writer is
    idle between them."""
    with EventWriter(store) as writer:
        for burst in range(bursts):
            for n in range(per_burst):
                writer.append(make_accepted(f"o-{n}", burst * per_burst + n))
            writer.flush()


def _wal_frames(store: SQLiteRecorder) -> tuple[int, int]:
    known = store._checkpointer.frames()
    assert known is not None
    return known


def test_an_idle_writer_copies_the_wal_back_itself(tmp_path: Path) -> None:
    store = SQLiteRecorder(tmp_path / "events.db", idle_checkpoint_pages=5)
    _commit_in_bursts(store, bursts=40, per_burst=200)
    frames, copied = _wal_frames(store)
    idle = store.idle_checkpoints
    passes = list(store._checkpointer.passes)
    last = store.last_position()
    store.close()

    assert idle >= 5
    # what is left in the WAL is less than one idle checkpoint's worth
    assert frames - copied < 5 + 40
    assert passes == [0, 0]  # the background checkpointer had nothing left to do
    assert last == 40 * 200


def test_idle_checkpoints_can_be_turned_off(tmp_path: Path) -> None:
    store = SQLiteRecorder(tmp_path / "events.db", idle_checkpoint_pages=0)
    _commit_in_bursts(store, bursts=10, per_burst=200)
    idle = store.idle_checkpoints
    store.close()

    assert idle == 0


def test_maintain_on_a_closed_store_does_nothing(tmp_path: Path) -> None:
    store = SQLiteRecorder(tmp_path / "events.db", idle_checkpoint_pages=1)
    _commit_in_bursts(store, bursts=1, per_burst=50)
    before = store.idle_checkpoints
    store.close()
    store.maintain()

    assert store.idle_checkpoints == before
