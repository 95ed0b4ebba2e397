"""A torn tail is detected on reopen and truncated; what precedes it is untouched."""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest

from spreadwire.domain.events import OrderAccepted
from spreadwire.errors import StoreError
from spreadwire.eventstore import tail
from spreadwire.eventstore.checksum import entry_checksum
from spreadwire.eventstore.recorder import Recorder, encode_append
from spreadwire.eventstore.records import KeyRecord
from spreadwire.eventstore.verify import LogReport, verify_log
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence import open_store
from spreadwire.persistence.sqlite import SQLiteRecorder
from tests.unit.eventstore.test_verify import BeganEarlier


def accepted(n: int) -> OrderAccepted:
    return OrderAccepted(
        strategy_id="s",
        instrument_id="AAA.SIM",
        client_order_id=f"c{n % 7}",
        venue_order_id=str(n),
        ts_event=n,
        ts_init=n,
    )


def fill(recorder: Recorder, count: int) -> None:
    with EventWriter(recorder, max_batch=16) as writer:
        for n in range(count):
            writer.append(accepted(n))


def sqlite_log(tmp_path: Path, count: int, *damage: str) -> Path:
    """A SQLite log of ``count`` events, closed, then changed by the ``damage`` SQL."""
    path = tmp_path / "events.db"
    store = open_store(f"sqlite:///{path}")
    fill(store, count)
    store.close()
    with sqlite3.connect(path) as connection:
        for statement in damage:
            connection.execute(statement)
    connection.close()
    return path


def test_store_sqlite_verify_of_a_store_written_during_the_check_is_sound_as_of_its_head(
    tmp_path: Path,
) -> None:
    """The tips of streams written after the head the check began at are past that head:
    moved on, not wrong (``events verify`` on a running node's store said NOT sound)."""
    path = sqlite_log(tmp_path, 60)
    store = open_store(f"sqlite:///{path}", repair=False)
    try:
        report = verify_log(BeganEarlier(store, 40))
    finally:
        store.close()

    assert report.sound, report.details
    assert (report.entries, report.head) == (40, 40)


def verify_unrepaired(path: Path) -> LogReport:
    """``events verify``'s view of the log at ``path``, opened without repairing it."""
    inspected = open_store(f"sqlite:///{path}", repair=False)
    try:
        return verify_log(inspected)
    finally:
        inspected.close()


def test_store_sqlite_corrupt_last_entries_are_truncated_on_reopen(tmp_path: Path) -> None:
    path = sqlite_log(tmp_path, 100, "UPDATE events SET payload = x'00' WHERE position >= 98")

    reopened = open_store(f"sqlite:///{path}")
    try:
        assert reopened.recovery.torn_at == 98
        assert reopened.recovery.truncated == 3
        assert reopened.last_position() == 97
        assert verify_log(reopened).sound
        assert reopened.stream_version("c0") == 0
        assert reopened.stream_version("order-c0") == 14
    finally:
        reopened.close()


def test_store_sqlite_damage_followed_by_sound_entries_is_reported_not_truncated(
    tmp_path: Path,
) -> None:
    """One corrupt entry with sound ones after it is no torn tail: cutting there would
    delete the sound entries. Reopening reports it and leaves the log as it is."""
    path = sqlite_log(tmp_path, 100, "UPDATE events SET payload = x'00' WHERE position = 98")

    reopened = open_store(f"sqlite:///{path}")
    try:
        recovery = reopened.recovery
        head = reopened.last_position()
        report = verify_log(reopened)
    finally:
        reopened.close()

    assert recovery.damaged_at == 98
    assert recovery.torn_at == 0
    assert recovery.truncated == 0
    assert "position 98" in recovery.detail
    assert head == 100
    assert not report.sound
    assert any("position 98: checksum mismatch" in line for line in report.details)


def test_store_sqlite_verify_without_repair_reports_the_torn_tail(tmp_path: Path) -> None:
    path = sqlite_log(tmp_path, 10, "UPDATE events SET checksum = checksum + 1 WHERE position = 10")

    report = verify_unrepaired(path)

    assert not report.sound
    assert any("torn tail" in line for line in report.details)
    assert open_store(f"sqlite:///{path}").last_position() == 9


def test_store_sqlite_wal_cut_at_any_byte_reopens_as_a_sound_prefix(tmp_path: Path) -> None:
    source = tmp_path / "events.db"
    store = SQLiteRecorder(source)
    fill(store, 300)
    originals = list(store.records())
    wal = Path(f"{source}-wal")
    wal_bytes = wal.read_bytes()
    rng = random.Random(5)
    cuts = [*sorted(rng.sample(range(len(wal_bytes)), 12)), len(wal_bytes)]
    heads = []
    for index, cut in enumerate(cuts):
        copy = tmp_path / f"copy{index}.db"
        shutil.copyfile(source, copy)
        Path(f"{copy}-wal").write_bytes(wal_bytes[:cut])
        reopened = SQLiteRecorder(copy)
        try:
            records = list(reopened.records())
            assert verify_log(reopened).sound
        finally:
            reopened.close()
        assert records == originals[: len(records)]
        heads.append(len(records))
    store.close()

    assert heads == sorted(heads)
    assert heads[-1] == 300


@pytest.mark.postgres
def test_store_postgres_corrupt_last_entry_is_truncated_on_reopen(postgres_url: str) -> None:
    store = open_store(postgres_url)
    fill(store, 50)
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE events SET payload = '\\x00'::bytea WHERE position = 50")

    reopened = open_store(postgres_url)
    try:
        assert reopened.recovery.torn_at == 50
        assert reopened.recovery.truncated == 1
        assert reopened.last_position() == 49
        assert verify_log(reopened).sound
    finally:
        reopened.close()


def _commits_while_opening(url: str, opens: int) -> tuple[list[int], int, bool]:
    """A writer commits single events (acknowledged positions kept) while the same store
    is opened and closed ``opens`` times beside it, as a second process running
    ``events last`` would. (acknowledged positions, stored head, log sound)."""
    writer_store = open_store(url)
    acknowledged: list[int] = []
    stop = threading.Event()
    started = threading.Event()

    def write() -> None:
        with EventWriter(writer_store) as writer:
            n = 0
            while not stop.is_set():
                acknowledged.append(writer.append_durable(accepted(n)))
                n += 1
                started.set()

    thread = threading.Thread(target=write)
    thread.start()
    started.wait(30)
    for _ in range(opens):
        open_store(url).close()
    stop.set()
    thread.join(60)
    writer_store.close()
    reopened = open_store(url)
    try:
        stored = [record.position for record in reopened.records()]
        sound = verify_log(reopened).sound
    finally:
        reopened.close()
    assert not thread.is_alive()
    return acknowledged, len(stored), sound and stored == list(range(1, len(stored) + 1))


@pytest.mark.postgres
def test_store_postgres_opening_beside_a_writer_removes_nothing(postgres_url: str) -> None:
    acknowledged, stored, sound = _commits_while_opening(postgres_url, opens=15)

    assert acknowledged == list(range(1, len(acknowledged) + 1))
    assert stored == len(acknowledged)
    assert sound


def test_store_sqlite_opening_beside_a_writer_removes_nothing(tmp_path: Path) -> None:
    acknowledged, stored, sound = _commits_while_opening(
        f"sqlite:///{tmp_path / 'events.db'}", opens=15
    )

    assert acknowledged == list(range(1, len(acknowledged) + 1))
    assert stored == len(acknowledged)
    assert sound


def test_store_sqlite_verify_sees_a_deleted_last_entry(tmp_path: Path) -> None:
    """SQLite's head is the highest stored position, so a deleted last entry leaves no
    gap; the stream's tip still names the version that is gone."""
    path = sqlite_log(tmp_path, 20)
    with sqlite3.connect(path) as connection:
        (stream,) = connection.execute("SELECT stream FROM events WHERE position = 20").fetchone()
        connection.execute("DELETE FROM events WHERE position = 20")
    connection.close()

    report = verify_unrepaired(path)

    assert not report.sound
    assert any(f"stream {stream!r}: the store has its tip at version" in d for d in report.details)


def test_store_sqlite_verify_sees_a_tip_at_the_right_version_but_the_wrong_position(
    tmp_path: Path,
) -> None:
    """``read_stream`` walks back from the tip's position: a tip whose version is right
    but whose position is another entry's makes every read of the stream walk a wrong
    chain, so verify names it."""
    path = sqlite_log(tmp_path, 20)
    with sqlite3.connect(path) as connection:
        stream, version, tip = connection.execute(
            "SELECT stream, version, tip FROM streams ORDER BY stream LIMIT 1"
        ).fetchone()
        connection.execute("UPDATE streams SET tip = 1 WHERE stream = ?", (stream,))
    connection.close()

    report = verify_unrepaired(path)

    assert report.details == [
        f"stream {stream!r}: the store has its tip at version {version} at position 1 but"
        f" its last entry in the log is version {version} at position {tip}"
    ]


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE events SET version = version + 5 WHERE position = 100",
        "UPDATE events SET stream = 'order-elsewhere' WHERE position = 100",
        "UPDATE events SET stream = 'order-c0' WHERE position = 100",
        "UPDATE events SET stream = 'order-elsewhere' WHERE position >= 99",
    ],
)
def test_store_sqlite_cutting_a_torn_tail_moves_the_tips_back_whatever_field_broke(
    tmp_path: Path, damage: str
) -> None:
    """The entries cut failed their checks, so their stream, version or previous may be
    the broken field: the stream tips must come from the log that stays, or the next
    appends continue a version that is gone (and a stream that never existed appears)."""
    path = sqlite_log(tmp_path, 100, damage)

    reopened = open_store(f"sqlite:///{path}")
    try:
        cut = reopened.recovery.truncated
        repaired = verify_log(reopened)
        fill(reopened, 10)
        after = verify_log(reopened)
        streams = {s for (s,) in sqlite3.connect(path).execute("SELECT stream FROM streams")}
    finally:
        reopened.close()

    assert cut >= 1
    assert repaired.sound, repaired.details
    assert after.sound, after.details
    assert streams == {f"order-c{n}" for n in range(7)}


def test_store_sqlite_a_payload_read_back_as_text_does_not_stop_opening(tmp_path: Path) -> None:
    """One flipped bit in a record header makes a BLOB a TEXT of the same bytes; reads
    take it as the bytes it is instead of failing to decode it as UTF-8."""
    path = sqlite_log(tmp_path, 20, "UPDATE events SET payload = CAST(payload AS TEXT)")

    reopened = open_store(f"sqlite:///{path}")
    try:
        recovery = reopened.recovery
        report = verify_log(reopened)
        entries = list(reopened.read())
        stream = list(reopened.read_stream("order-c1"))
    finally:
        reopened.close()

    assert recovery.torn_at == 0
    assert report.sound, report.details
    assert [e.message for e in entries] == [accepted(n) for n in range(20)]
    assert [e.message.venue_order_id for e in stream] == ["1", "8", "15"]


def test_store_sqlite_a_torn_tail_that_cannot_be_cut_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process takes the write lock between the look at the tail and the cut:
    opening fails with a StoreError naming the store, not a bare sqlite3 error."""
    path = sqlite_log(tmp_path, 10, "UPDATE events SET payload = x'00' WHERE position = 10")
    other = sqlite3.connect(path, isolation_level=None)
    verdict = tail.verdict

    def verdict_then_lock(*args: object, **kwargs: bool) -> object:
        other.execute("BEGIN IMMEDIATE")
        return verdict(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("spreadwire.persistence.sqlite.verdict", verdict_then_lock)
    try:
        with pytest.raises(StoreError, match=str(path)):
            SQLiteRecorder(path, busy_timeout_ms=50)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_store_sqlite_a_broken_stream_link_never_reads_another_streams_entries(
    tmp_path: Path,
) -> None:
    """``previous`` is not covered by the entry checksum, so opening does not see it
    damaged (``events verify`` does); reading the stream must still give its own
    entries, all of them."""
    path = sqlite_log(tmp_path, 100, "UPDATE events SET previous = 7 WHERE position = 100")

    reopened = open_store(f"sqlite:///{path}")
    try:
        entries = list(reopened.read_stream("order-c1"))
        later = list(reopened.read_stream("order-c1", after_version=10))
    finally:
        reopened.close()

    assert [(e.stream, e.version) for e in entries] == [("order-c1", v) for v in range(1, 16)]
    assert [e.position for e in entries] == list(range(2, 101, 7))
    assert [e.version for e in later] == list(range(11, 16))


def test_store_sqlite_verify_reports_every_broken_stream_link(tmp_path: Path) -> None:
    """``previous`` is not covered by the entry checksum: a link changed after the log was
    written passes every other check, and ``read_stream`` only logs a warning and scans.
    Each broken link is a problem naming the entry, its stream, the stored and the
    expected previous position (entry n is stream ``order-c{(n - 1) % 7}``)."""
    path = sqlite_log(
        tmp_path,
        100,
        "UPDATE events SET previous = 7 WHERE position = 100",
        "UPDATE events SET previous = 0 WHERE position = 50",
        "UPDATE events SET previous = 3 WHERE position = 1",
    )

    report = verify_unrepaired(path)

    assert not report.sound
    assert report.problems == 3, report.details
    assert report.details == [
        "position 1: stream 'order-c0' links back to position 3, expected 0 (its first entry)",
        "position 50: stream 'order-c0' links back to position 0, expected 43",
        "position 100: stream 'order-c1' links back to position 7, expected 93",
    ]


def test_store_sqlite_verify_finds_no_broken_link_in_a_sound_log(tmp_path: Path) -> None:
    """Links written by commits from two recorders, and kept by cutting a torn tail,
    are what the log says (every backend's sound log: tests/contract/test_recorder.py)."""
    path = sqlite_log(tmp_path, 60, "UPDATE events SET checksum = 0 WHERE position >= 58")
    first = open_store(f"sqlite:///{path}")
    second = open_store(f"sqlite:///{path}")
    try:
        fill(first, 20)
        fill(second, 20)
        report = verify_log(second)
    finally:
        first.close()
        second.close()

    assert report.sound, report.details
    assert report.entries == 97


def test_store_sqlite_a_nul_stream_name_stored_before_the_limit_is_read_and_verified(
    tmp_path: Path,
) -> None:
    """SQLite stores a NUL in a name (PostgreSQL cannot), and a log written before names
    were limited may hold one (a client order id nobody checked). Such a log is sound: its
    stream must read back, and ``events verify`` must not report its tip as missing."""
    path = sqlite_log(tmp_path, 0)
    recorder = SQLiteRecorder(path)
    recorder.commit(
        [
            encode_append(recorder.codec, "order-a-b", [accepted(n)], n, idempotency_key=f"k-{n}")
            for n in (1, 2)
        ]
    )
    recorder.close()
    old, new = "order-a-b", "order-a\x00b"
    with sqlite3.connect(path) as connection:  # the names the earlier version stored
        for position, version, type_name, schema, ts, payload in connection.execute(
            "SELECT position, version, type, schema, ts, payload FROM events"
        ).fetchall():
            checksum = entry_checksum(
                position, new, version, type_name=type_name, schema=schema, ts=ts, payload=payload
            )
            connection.execute(
                "UPDATE events SET stream = ?, checksum = ? WHERE position = ?",
                (new, checksum, position),
            )
        connection.execute("UPDATE streams SET stream = ? WHERE stream = ?", (new, old))
        connection.execute(
            "UPDATE idempotency SET stream = ?, key = ? WHERE key = 'k-1'", (new, "k\x00")
        )
    connection.close()

    reopened = open_store(f"sqlite:///{path}")
    try:
        report = verify_log(reopened)
        version = reopened.stream_version(new)
        entries = [e.version for e in reopened.read_stream(new)]
        key = reopened.find_key("k\x00")
    finally:
        reopened.close()

    assert report.sound, report.details
    assert version == 2
    assert entries == [1, 2]
    assert key == KeyRecord("k\x00", new, 1, 1)
