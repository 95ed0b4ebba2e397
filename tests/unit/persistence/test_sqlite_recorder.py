"""The SQLite recorder's multi-row writes and paged decoded reads."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from spreadwire.errors import StoreError
from spreadwire.eventstore.recorder import encode_append
from spreadwire.eventstore.records import Committed, Durability
from spreadwire.eventstore.tail import record_is_sound
from spreadwire.persistence.sqlite import SQLiteRecorder, _ShmHeaders
from tests.builders import make_accepted


def test_sqlite_recorder_batches_across_statement_chunks_read_back_whole(tmp_path: Path) -> None:
    recorder = SQLiteRecorder(tmp_path / "events.db")
    sizes = [1, 63, 64, 65, 200, 1_000]  # below, at and across the 64-row statements
    try:
        for size in sizes:
            appends = [
                encode_append(
                    recorder.codec, f"order-o-{n % 7}", [make_accepted(f"o-{n % 7}", n)], n
                )
                for n in range(size)
            ]
            recorder.commit(appends)
        records = list(recorder.records())
        entries = list(recorder.read(after=5, limit=1_000))
        versions = {s: recorder.stream_version(s) for s in {r.stream for r in records}}
    finally:
        recorder.close()

    assert [r.position for r in records] == list(range(1, sum(sizes) + 1))
    assert all(type(r.payload) is bytes and record_is_sound(r) for r in records)
    assert [e.position for e in entries] == list(range(6, 1_006))
    assert sum(versions.values()) == sum(sizes)


def test_a_commit_failing_outside_sqlite_leaves_no_transaction_open(tmp_path: Path) -> None:
    """A value SQLite cannot bind (an int beyond 64 bits raises OverflowError, not a
    sqlite3.Error) must not leave the write transaction open: it held SQLite's write lock
    against every other process and failed the next, sound, commit."""
    path = tmp_path / "events.db"
    recorder = SQLiteRecorder(path)
    try:
        recorder.commit([("s", "T", 1, 1, bytearray(b"a"))])
        with pytest.raises(OverflowError):
            recorder.commit([("s", "T", 1, 2**63, bytearray(b"b"))])
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process can write
            other.execute("ROLLBACK")
        finally:
            other.close()
        outcome = recorder.commit([("s", "T", 1, 3, bytearray(b"c"))])
    finally:
        recorder.close()

    assert outcome == [Committed(2, 2, 2)]


def test_only_the_named_relaxed_mode_commits_without_a_sync(tmp_path: Path) -> None:
    recorder = SQLiteRecorder(tmp_path / "events.db")
    try:
        modes = []
        for durability in ("durable", Durability.DURABLE, "relaxed", Durability.RELAXED):
            recorder.commit([("s", "T", 1, 1, bytearray(b"a"))], durability=durability)  # type: ignore[arg-type]
            modes.append(recorder._write.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        recorder.close()

    assert modes == [2, 2, 1, 1]  # FULL, FULL, NORMAL, NORMAL


def test_a_store_that_fails_to_open_leaves_nothing_behind(tmp_path: Path) -> None:
    """Opening fails while checking the tail (a text column that is not UTF-8): the
    checkpointer thread, the connections and the -shm descriptor's count go with it."""
    path = tmp_path / "events.db"
    recorder = SQLiteRecorder(path)
    recorder.commit([("s", "T", 1, 1, bytearray(b"a"))])
    recorder.close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE events SET stream = CAST(x'ff' AS TEXT)")
    connection.close()
    before = {thread.ident for thread in threading.enumerate()}

    with pytest.raises(StoreError, match="SQLite read failed"):
        SQLiteRecorder(path)

    left = [t.name for t in threading.enumerate() if t.ident not in before]
    assert left == []
    assert not [shm for shm in _ShmHeaders._open if shm.startswith(os.path.realpath(path))]
    other = sqlite3.connect(path, isolation_level=None)
    try:
        # no connection of this process is left: closing this one removes the WAL
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        other.close()
    assert not Path(f"{path}-wal").exists()


def test_a_store_named_by_a_symbolic_link_finds_its_wal_index(tmp_path: Path) -> None:
    """SQLite follows the link: its -shm is beside the target, and the checkpointer must
    read that one (else it never knows the WAL's size and checkpoints at every look)."""
    target = tmp_path / "real.db"
    SQLiteRecorder(target).close()
    link = tmp_path / "link.db"
    link.symlink_to(target)
    recorder = SQLiteRecorder(link)
    try:
        recorder.commit([("s", "T", 1, 1, bytearray(b"a" * 10_000))])
        frames = recorder._checkpointer.frames()
    finally:
        recorder.close()

    assert frames is not None
    assert frames[0] > 0
