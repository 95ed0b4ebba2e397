"""The SQLite recorder's multi-row writes and paged decoded reads."""

from __future__ import annotations

from pathlib import Path

from spreadwire.eventstore.recorder import encode_append
from spreadwire.eventstore.tail import record_is_sound
from spreadwire.persistence.sqlite import SQLiteRecorder
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
