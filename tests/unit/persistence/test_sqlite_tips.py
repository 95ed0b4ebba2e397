"""Stream tips written in bulk: the ``streams`` table as of a mark, later tips from the log.

Every reader and writer, in this process or another, must see each stream's exact
version and entries whether its tip is in the table or only past the mark; a crash
before a flush, a format-1 store and a torn tail cut by another process included.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spreadwire.errors import StoreError
from spreadwire.eventstore.recorder import encode_append
from spreadwire.eventstore.records import Append, Committed, Conflict
from spreadwire.eventstore.verify import verify_log
from spreadwire.persistence import sqlite as sqlite_module
from spreadwire.persistence.sqlite import SQLiteRecorder
from tests.builders import make_accepted


def order(recorder: SQLiteRecorder, stream: str, n: int, expected: int | None = None) -> Append:
    append = encode_append(recorder.codec, stream, [make_accepted(stream, n)], n)
    return Append(stream=append.stream, events=append.events, expected_version=expected)


def commit_each(recorder: SQLiteRecorder, numbers: range, streams: int) -> None:
    """One commit per event ``n`` of ``numbers``, to stream ``order-<n % streams>``."""
    for n in numbers:
        recorder.commit([order(recorder, f"order-{n % streams}", n)])


def table(path: Path) -> tuple[dict[str, tuple[int, int]], int]:
    """The stored tips and their mark, read beside the recorder."""
    connection = sqlite3.connect(path)
    try:
        tips = {s: (v, t) for s, v, t in connection.execute("SELECT * FROM streams")}
        mark = connection.execute(
            "SELECT value FROM store_meta WHERE name = 'tips_position'"
        ).fetchone()
    finally:
        connection.close()
    return tips, int(mark[0])


def expected_tips(recorder: SQLiteRecorder) -> dict[str, tuple[int, int]]:
    tips: dict[str, tuple[int, int]] = {}
    for record in recorder.records():
        tips[record.stream] = (record.version, record.position)
    return tips


def check_streams(recorder: SQLiteRecorder) -> None:
    """Every stream's version and entries, read through the recorder, match the log."""
    tips = expected_tips(recorder)
    for stream, (version, _) in tips.items():
        assert recorder.stream_version(stream) == version, stream
        entries = list(recorder.read_stream(stream))
        assert [e.version for e in entries] == list(range(1, version + 1)), stream
        assert {e.stream for e in entries} == {stream}
        tail = list(recorder.read_stream(stream, after_version=version - 1))
        assert [e.version for e in tail] == [version]
    assert recorder.stream_version("never-written") == 0
    assert list(recorder.read_stream("never-written")) == []


def test_commits_leave_the_tips_table_alone_until_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    recorder = SQLiteRecorder(path)
    try:
        commit_each(recorder, range(40), 5)
        before = table(path)
        check_streams(recorder)
        recorder.flush_tips()
        after = table(path)
        check_streams(recorder)
        wanted = expected_tips(recorder)
    finally:
        recorder.close()

    assert before == ({}, 0)
    assert after == (wanted, 40)


def test_an_idle_writer_flushes_once_enough_entries_are_past_the_mark(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    recorder = SQLiteRecorder(path, tips_flush_entries=10)
    try:
        commit_each(recorder, range(9), 3)
        recorder.maintain()
        early = table(path)[1]
        recorder.commit([order(recorder, "order-9", 9)])
        recorder.maintain()
        late = table(path)
        check_streams(recorder)
        wanted = expected_tips(recorder)
    finally:
        recorder.close()

    assert early == 0
    assert late == (wanted, 10)


def test_a_writer_that_is_never_idle_flushes_inside_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_module, "FORCE_ENTRIES", 25)
    path = tmp_path / "events.db"
    recorder = SQLiteRecorder(path)
    try:
        commit_each(recorder, range(30), 4)
        flushes = recorder.tips_flushes
        stored, mark = table(path)
        check_streams(recorder)
    finally:
        recorder.close()

    assert flushes == 1
    assert mark == 25
    assert all(tip <= 25 for _, tip in stored.values())
    assert len(stored) == 4


def test_another_recorder_sees_tips_past_the_mark_and_both_append_in_turn(
    tmp_path: Path,
) -> None:
    """Two recorders (two processes, as far as SQLite is concerned) take turns on the same
    streams with guarded appends: each must find the other's entries, which are in
    neither's memory nor in the table."""
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    second = SQLiteRecorder(path)
    rng = random.Random(7)
    versions: dict[str, int] = {}
    outcomes = []
    try:
        for n in range(200):
            recorder = first if rng.random() < 0.5 else second
            stream = f"order-{rng.randrange(6)}"
            expected = versions.get(stream, 0)
            outcome = recorder.commit([order(recorder, stream, n, expected)])[0]
            outcomes.append(outcome)
            versions[stream] = expected + 1
            if n % 50 == 49:
                (first if n % 100 == 49 else second).flush_tips()
        for recorder in (first, second):
            check_streams(recorder)
        report = verify_log(first)
    finally:
        first.close()
        second.close()

    assert all(isinstance(o, Committed) for o in outcomes), outcomes
    assert report.sound, report.details


def test_a_stale_expected_version_conflicts_across_recorders(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    second = SQLiteRecorder(path)
    try:
        first.commit([order(first, "order-a", 1, 0)])
        second.commit([order(second, "order-a", 2, 1)])
        stale = first.commit([order(first, "order-a", 3, 1)])
    finally:
        first.close()
        second.close()

    assert stale == [Conflict("order-a", 1, 2)]


CRASHING_WRITER = """
import os, sys
from spreadwire.eventstore.recorder import encode_append
from spreadwire.persistence.sqlite import SQLiteRecorder
from tests.builders import make_accepted
recorder = SQLiteRecorder(sys.argv[1], tips_flush_entries=int(sys.argv[2]))
for n in range(300):
    stream = f"order-{n % 11}"
    recorder.commit([encode_append(recorder.codec, stream, [make_accepted(stream, n)], n)])
    recorder.maintain()
os._exit(0)  # no close: whatever the table lacks must come back from the log
"""


@pytest.mark.parametrize("flush_every", [64, 1_000])
def test_a_crash_before_the_flush_loses_no_tip(tmp_path: Path, flush_every: int) -> None:
    path = tmp_path / "events.db"
    subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(path), str(flush_every)],
        check=True,
        cwd=Path(__file__).parents[3],
    )
    mark = table(path)[1]
    recorder = SQLiteRecorder(path)
    try:
        check_streams(recorder)
        outcome = recorder.commit([order(recorder, "order-3", 300, 27)])
        report = verify_log(recorder)
    finally:
        recorder.close()

    assert mark == (256 if flush_every == 64 else 0)
    assert outcome == [Committed(301, 301, 28)]
    assert report.sound, report.details


def test_a_format_1_store_opens_with_its_tips_table_complete(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    recorder = SQLiteRecorder(path)
    commit_each(recorder, range(20), 3)
    recorder.close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE store_meta SET value = '1' WHERE name = 'format'")
    connection.execute("DELETE FROM store_meta WHERE name = 'tips_position'")
    connection.close()

    reopened = SQLiteRecorder(path)
    try:
        check_streams(reopened)
        outcome = reopened.commit([order(reopened, "order-1", 20, 7)])
    finally:
        reopened.close()
    connection = sqlite3.connect(path)
    meta = dict(connection.execute("SELECT name, value FROM store_meta"))
    connection.close()

    assert outcome == [Committed(21, 21, 8)]
    assert meta["format"] == "2"
    assert meta["tips_position"] == "21"


def test_a_store_of_a_newer_format_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    SQLiteRecorder(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE store_meta SET value = '9' WHERE name = 'format'")
    connection.close()

    with pytest.raises(StoreError, match=r"format '9'; this version reads formats 1, 2"):
        SQLiteRecorder(path)


@pytest.mark.parametrize("appended", [2, 3, 4])
def test_a_torn_tail_cut_by_another_recorder_is_not_remembered(
    tmp_path: Path, appended: int
) -> None:
    """A running recorder holds tips of entries that a second one, opening, finds torn
    and cuts; it then appends fewer, as many or more entries than it cut. The first must
    not continue the versions that are gone."""
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    try:
        commit_each(first, range(30), 3)
        damage = sqlite3.connect(path, isolation_level=None)
        damage.execute("UPDATE events SET checksum = checksum + 1 WHERE position >= 28")
        damage.close()
        second = SQLiteRecorder(path)
        try:
            cut = second.recovery.truncated
            for n in range(appended):
                second.commit([order(second, f"order-{9 - n}", 99 - n)])
        finally:
            second.close()
        outcome = first.commit([order(first, "order-0", 100)])  # was at 10, 9 after the cut
        report = verify_log(first)
        check_streams(first)
    finally:
        first.close()

    assert cut == 3
    assert outcome == [Committed(28 + appended, 28 + appended, 10)]
    assert report.sound, report.details


def cut_and_reappend(path: Path, cut_from: int, appended: int) -> int:
    """Damage the entries from ``cut_from`` on, let a third recorder (another process)
    cut them as a torn tail and append ``appended`` entries to fresh streams."""
    damage = sqlite3.connect(path, isolation_level=None)
    damage.execute("UPDATE events SET checksum = checksum + 1 WHERE position >= ?", (cut_from,))
    damage.close()
    third = SQLiteRecorder(path)
    try:
        cut = third.recovery.truncated
        for n in range(appended):
            third.commit([order(third, f"other-{n}", 500 + n)])
    finally:
        third.close()
    return cut


def test_a_reader_notices_a_cut_that_left_the_head_where_it_was(tmp_path: Path) -> None:
    """The cut and the new entries leave the head at what the reader last saw: the tips
    it holds of the entries cut must not be handed out."""
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    try:
        commit_each(first, range(30), 3)
        cut = cut_and_reappend(path, 28, 3)
        version = first.stream_version("order-0")  # 10 entries, the last one cut
        entries = [e.version for e in first.read_stream("order-0")]
    finally:
        first.close()

    assert cut == 3
    assert version == 9
    assert entries == list(range(1, 10))


def test_a_recorder_that_only_read_up_to_the_head_notices_a_cut_there(tmp_path: Path) -> None:
    """A recorder whose tips were caught up by reads (not by its own commits) and a cut
    that leaves the head where it was: its next commit must not continue the versions
    that are gone, and its flush must not write them into the table."""
    path = tmp_path / "events.db"
    writer = SQLiteRecorder(path)
    commit_each(writer, range(30), 3)
    second = SQLiteRecorder(path)  # knows the head (30) from its open, wrote nothing
    writer.close()
    try:
        cut_and_reappend(path, 28, 3)
        outcome = second.commit([order(second, "order-0", 100)])
        second.flush_tips()
    finally:
        second.close()
    reopened = SQLiteRecorder(path)
    try:
        report = verify_log(reopened)
        check_streams(reopened)
    finally:
        reopened.close()

    assert outcome == [Committed(31, 31, 10)]
    assert report.sound, report.details


def test_a_flush_after_a_cut_that_left_the_head_where_it_was_writes_no_stale_tip(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    writer = SQLiteRecorder(path)
    commit_each(writer, range(30), 3)
    second = SQLiteRecorder(path, tips_flush_entries=1)
    writer.close()
    try:
        for n in range(30, 33):  # another process's entries, caught up by reading
            writer_again = SQLiteRecorder(path)
            writer_again.commit([order(writer_again, f"order-{n % 3}", n)])
            writer_again.close()
        second.stream_version("order-0")
        cut_and_reappend(path, 31, 3)
        second.flush_tips()
    finally:
        second.close()
    stored, mark = table(path)
    reopened = SQLiteRecorder(path)
    try:
        report = verify_log(reopened)
    finally:
        reopened.close()

    assert mark == 33
    assert stored["order-0"] == (10, 28)
    assert report.sound, report.details


@pytest.mark.parametrize("read_first", [False, True])
def test_the_planner_cache_is_dropped_with_tips_rebuilt_after_a_cut(
    tmp_path: Path, read_first: bool
) -> None:
    """The recorder's last batch wrote nothing (a duplicate key), so its planner trusts
    its cached versions at that head; a cut that leaves the head there must drop them,
    also when a read of the same recorder noticed the cut first (and rebuilt the tips)."""
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    other = SQLiteRecorder(path)
    try:
        commit_each(first, range(27), 3)
        keyed = encode_append(first.codec, "order-1", [make_accepted("order-1", 1)], 1)
        first.commit([Append(stream="order-1", events=keyed.events, idempotency_key="k")])
        commit_each(other, range(27, 30), 3)
        again = Append(stream="order-1", events=keyed.events, idempotency_key="k")
        first.commit([again, order(first, "order-1", 99, 10)])  # a duplicate, a conflict
        cut_and_reappend(path, 29, 3)
        if read_first:
            assert first.stream_version("order-1") == 10
        outcome = first.commit([order(first, "order-1", 100)])
        report = verify_log(first)
    finally:
        other.close()
        first.close()

    assert outcome == [Committed(32, 32, 11)]
    assert report.sound, report.details


def test_a_recorder_that_only_reads_holds_no_tip_another_process_flushed(
    tmp_path: Path,
) -> None:
    """A long-lived reader (a projection runner, a query service) beside the process
    that writes: once the writer has written the tips table, the reader must not keep
    every stream it caught up since it opened (one tip per order, without bound)."""
    path = tmp_path / "events.db"
    reader = SQLiteRecorder(path)
    writer = SQLiteRecorder(path)
    held = []
    try:
        for round_ in range(3):
            for n in range(100):
                stream = f"order-{round_}-{n}"
                writer.commit([order(writer, stream, n)])
            writer.flush_tips()
            assert reader.stream_version(f"order-{round_}-7") == 1
            held.append(reader.tips_held)
        writer.commit([order(writer, "order-0-7", 100)])
        check_streams(reader)
        after = reader.tips_held
    finally:
        writer.close()
        reader.close()

    assert held == [0, 0, 0]
    assert after == 1
