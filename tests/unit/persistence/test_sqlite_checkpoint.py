"""The SQLite recorder keeps its WAL bounded by checkpointing off the commit path."""

from __future__ import annotations

from pathlib import Path

from spreadwire.eventstore.writer import EventWriter
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
