"""The Recorder contract: every backend behaves the same."""

from __future__ import annotations

import logging
import random
import threading

import pytest

from spreadwire.domain.enums import TradingState
from spreadwire.domain.events import TradingStateChanged
from spreadwire.errors import StoreError, ValidationError
from spreadwire.eventstore.codec import message_types
from spreadwire.eventstore.recorder import Linked, Recorder, encode_append
from spreadwire.eventstore.records import (
    MAX_NAME_BYTES,
    NO_STREAM,
    Append,
    Committed,
    Conflict,
    Duplicate,
    Durability,
    KeyRecord,
    Single,
)
from spreadwire.eventstore.tail import first_bad_position
from spreadwire.eventstore.verify import verify_log
from spreadwire.persistence import open_store
from tests.builders import make_accepted
from tests.contract.backends import recorder, url
from tests.unit.eventstore.samples import sample

__all__ = ["recorder", "url"]


def halted(reason: str) -> TradingStateChanged:
    return TradingStateChanged(
        state=TradingState.HALTED,
        previous=TradingState.ACTIVE,
        reason=reason,
        ts_event=1,
        ts_init=1,
    )


def append(
    recorder: Recorder,
    stream: str,
    *messages: object,
    expected: int | None = None,
    key: str | None = None,
) -> Append:
    return encode_append(
        recorder.codec, stream, messages, 1_000, expected_version=expected, idempotency_key=key
    )


def test_recorder_empty_store_has_position_zero_and_no_entries(recorder: Recorder) -> None:
    assert recorder.last_position() == 0
    assert list(recorder.read()) == []
    assert recorder.stream_version("order-1") == 0
    assert recorder.recovery.truncated == 0


def test_recorder_commit_assigns_gap_free_positions_and_stream_versions(
    recorder: Recorder,
) -> None:
    outcomes = recorder.commit(
        [
            append(recorder, "order-1", make_accepted("1", 1), make_accepted("1", 2)),
            append(recorder, "order-2", make_accepted("2", 3)),
        ]
    )
    outcomes += recorder.commit([append(recorder, "order-1", make_accepted("1", 4))])

    assert outcomes == [Committed(1, 2, 2), Committed(3, 3, 1), Committed(4, 4, 3)]
    entries = list(recorder.read())
    assert [e.position for e in entries] == [1, 2, 3, 4]
    assert [(e.stream, e.version) for e in entries] == [
        ("order-1", 1),
        ("order-1", 2),
        ("order-2", 1),
        ("order-1", 3),
    ]
    assert entries[3].message == make_accepted("1", 4)
    assert entries[3].type == "OrderAccepted"
    assert entries[3].ts == 1_000
    assert recorder.last_position() == 4
    assert recorder.stream_version("order-1") == 3


def test_recorder_wrong_expected_version_conflicts_and_writes_nothing_of_it(
    recorder: Recorder,
) -> None:
    recorder.commit([append(recorder, "order-1", make_accepted("1"))])

    outcomes = recorder.commit(
        [
            append(recorder, "order-1", make_accepted("1", 2), expected=0),
            append(recorder, "order-2", make_accepted("2", 3), expected=NO_STREAM),
            append(recorder, "order-1", make_accepted("1", 4), expected=1),
        ]
    )

    assert outcomes == [Conflict("order-1", 0, 1), Committed(2, 2, 1), Committed(3, 3, 2)]
    assert [e.message.venue_order_id for e in recorder.read_stream("order-1")] == ["V0", "V4"]


def test_recorder_repeated_idempotency_key_is_applied_once(recorder: Recorder) -> None:
    first = recorder.commit([append(recorder, "order-1", make_accepted("1"), key="cmd-1")])
    again = recorder.commit(
        [
            append(recorder, "order-1", make_accepted("1"), key="cmd-1"),
            append(recorder, "order-9", make_accepted("9"), key="cmd-9"),
            append(recorder, "order-9", make_accepted("9"), key="cmd-9"),
        ]
    )

    assert first == [Committed(1, 1, 1)]
    assert again == [Duplicate(1, 1), Committed(2, 2, 1), Duplicate(2, 2)]
    assert recorder.last_position() == 2


def test_recorder_finds_a_stored_idempotency_key(recorder: Recorder) -> None:
    recorder.commit([append(recorder, "order-0", make_accepted("0"))])
    recorder.commit(
        [append(recorder, "order-1", make_accepted("1"), make_accepted("1"), key="cmd-1")]
    )

    assert recorder.find_key("cmd-1") == KeyRecord("cmd-1", "order-1", 2, 3)
    assert recorder.find_key("cmd-2") is None


def single(recorder: Recorder, stream: str, message: object, ts: int = 1_000) -> Single:
    type_name, schema, payload = recorder.codec.encode(message)
    return (stream, type_name, schema, ts, bytearray(payload))


def test_recorder_single_events_mixed_with_guarded_appends_chain_each_stream(
    recorder: Recorder,
) -> None:
    recorder.commit([single(recorder, "order-1", make_accepted("1"))])

    outcomes = recorder.commit(
        [
            single(recorder, "order-2", make_accepted("2", 1)),
            append(recorder, "order-1", make_accepted("1", 2), expected=0),
            single(recorder, "order-1", make_accepted("1", 3)),
            append(recorder, "order-2", make_accepted("2", 4), make_accepted("2", 5), key="k"),
            append(recorder, "order-2", make_accepted("2", 6), key="k"),
            single(recorder, "order-2", make_accepted("2", 7)),
        ]
    )

    assert outcomes == [
        Committed(2, 2, 1),
        Conflict("order-1", 0, 1),
        Committed(3, 3, 2),
        Committed(4, 5, 3),
        Duplicate(4, 5),
        Committed(6, 6, 4),
    ]
    assert [e.message.venue_order_id for e in recorder.read_stream("order-2")] == [
        "V1",
        "V4",
        "V5",
        "V7",
    ]
    assert [e.version for e in recorder.read_stream("order-1")] == [1, 2]
    records = list(recorder.records())
    assert all(type(r.payload) is bytes for r in records)
    assert first_bad_position(records, 0) is None


def test_recorder_interleaved_commits_verify_sound_with_every_link_in_place(
    recorder: Recorder,
) -> None:
    """Single events, guarded appends, conflicts and duplicates over interleaved streams
    leave a log ``verify_log`` finds sound; a backend whose entries link to their
    stream's previous entry (SQLite only: PostgreSQL reads a stream by its primary key,
    memory by a list) links each to the one before it in the log."""
    recorder.commit([single(recorder, "order-1", make_accepted("1"))])
    recorder.commit(
        [
            append(recorder, "order-2", make_accepted("2", 1), make_accepted("2", 2)),
            single(recorder, "order-1", make_accepted("1", 3)),
            append(recorder, "order-1", make_accepted("1", 4), expected=0),
            append(recorder, "order-3", make_accepted("3", 5), key="k"),
            append(recorder, "order-3", make_accepted("3", 6), key="k"),
            single(recorder, "order-2", make_accepted("2", 7)),
        ]
    )
    recorder.commit([append(recorder, "order-1", make_accepted("1", 8), expected=2)])

    report = verify_log(recorder)

    assert report.sound, report.details
    assert (report.entries, report.streams) == (7, 3)
    assert isinstance(recorder, Linked) == recorder.url.startswith("sqlite:")
    if isinstance(recorder, Linked):
        links = [(r.position, r.stream, previous) for r, previous in recorder.linked_records()]
        assert links == [
            (1, "order-1", 0),
            (2, "order-2", 0),
            (3, "order-2", 2),
            (4, "order-1", 1),
            (5, "order-3", 0),
            (6, "order-2", 3),
            (7, "order-1", 4),
        ]
        assert [r for r, _ in recorder.linked_records(after=5)] == list(recorder.records(5))


def test_recorder_read_pages_by_after_and_limit(recorder: Recorder) -> None:
    recorder.commit([append(recorder, f"order-{i}", make_accepted(str(i), i)) for i in range(25)])

    assert [e.position for e in recorder.read(after=20)] == [21, 22, 23, 24, 25]
    assert [e.position for e in recorder.read(after=3, limit=4)] == [4, 5, 6, 7]
    assert [r.position for r in recorder.records(after=23)] == [24, 25]
    assert list(recorder.read(after=25)) == []


def test_recorder_read_stream_starts_after_the_given_version(recorder: Recorder) -> None:
    recorder.commit([append(recorder, "trading", halted("a"), halted("b"), halted("c"))])

    reasons = [e.message.reason for e in recorder.read_stream("trading", after_version=1)]

    assert reasons == ["b", "c"]


def test_recorder_reads_after_a_negative_position_or_version_from_the_start(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Every position and version is above a negative one: memory sliced its list with
    it (``read_stream(s, -1)`` gave the stream's last entry only, ``read(-3, 5)`` two
    entries) and SQLite took its stream chain for broken (a warning and a scan)."""
    recorder.commit([append(recorder, "trading", halted("a"), halted("b"), halted("c"))])
    recorder.commit([append(recorder, f"order-{i}", make_accepted(str(i), i)) for i in range(5)])

    with caplog.at_level(logging.WARNING):
        reasons = [e.message.reason for e in recorder.read_stream("trading", after_version=-1)]
        positions = [e.position for e in recorder.read(after=-3, limit=5)]
        records = [r.position for r in recorder.records(after=-3, limit=5)]

    assert reasons == ["a", "b", "c"]
    assert positions == records == [1, 2, 3, 4, 5]
    assert "broken" not in caplog.text


def test_recorder_every_domain_message_type_round_trips(recorder: Recorder) -> None:
    messages = [sample(cls) for cls in message_types()]

    recorder.commit([append(recorder, "samples", *messages)])

    assert [e.message for e in recorder.read()] == messages


def test_recorder_stored_checksums_verify(recorder: Recorder) -> None:
    recorder.commit([append(recorder, f"order-{i}", make_accepted(str(i), i)) for i in range(10)])

    assert first_bad_position(recorder.records(), 0) is None


def test_recorder_relaxed_commit_is_readable_like_a_durable_one(recorder: Recorder) -> None:
    recorder.commit([append(recorder, "trading", halted("r"))], durability=Durability.RELAXED)
    recorder.commit([append(recorder, "trading", halted("d"))])

    assert [e.message.reason for e in recorder.read()] == ["r", "d"]


def test_recorder_commit_wakes_a_waiting_reader(recorder: Recorder) -> None:
    seen: list[int] = []
    ready = threading.Event()

    def wait() -> None:
        ready.set()
        seen.append(recorder.wait_for(0, timeout_s=30))

    thread = threading.Thread(target=wait)
    thread.start()
    ready.wait()
    recorder.commit([append(recorder, "trading", halted("x"))])
    thread.join()

    assert seen == [1]


def test_recorder_committed_entries_survive_reopening(url: str) -> None:
    if url == "memory://":
        pytest.skip("the in-memory store keeps nothing across instances")
    store = open_store(url)
    store.commit([append(store, "order-1", make_accepted("1"), make_accepted("1", 2), key="k")])
    store.close()

    reopened = open_store(url)
    try:
        assert reopened.last_position() == 2
        assert reopened.commit([append(reopened, "order-1", make_accepted("1"), key="k")]) == [
            Duplicate(1, 2)
        ]
        assert reopened.commit([append(reopened, "order-1", make_accepted("1"), expected=2)]) == [
            Committed(3, 3, 3)
        ]
    finally:
        reopened.close()


def test_recorder_expected_version_of_a_stream_written_before_reopening_is_checked(
    url: str,
) -> None:
    """After a restart, a guarded append to a stream the new recorder has not touched yet
    is checked against the stored version (PostgreSQL's one-round-trip path took such a
    stream to be new and reported a Conflict with actual version 0)."""
    if url == "memory://":
        pytest.skip("the in-memory store keeps nothing across instances")
    store = open_store(url)
    store.commit([append(store, "order-1", make_accepted("1"), make_accepted("1", 2))])
    store.close()

    reopened = open_store(url)
    try:
        assert reopened.commit([append(reopened, "order-2", make_accepted("2", 3))]) == [
            Committed(3, 3, 1)
        ]
        assert reopened.commit(
            [append(reopened, "order-1", make_accepted("1", 4), expected=2)]
        ) == [Committed(4, 4, 3)]
        assert reopened.commit(
            [append(reopened, "order-1", make_accepted("1", 5), expected=2)]
        ) == [Conflict("order-1", 2, 3)]
    finally:
        reopened.close()


def test_recorder_closed_store_refuses_commits(url: str) -> None:
    store = open_store(url)
    store.close()

    with pytest.raises(StoreError):
        store.commit([append(store, "trading", halted("late"))])


def test_recorder_empty_append_is_rejected() -> None:
    with pytest.raises(StoreError, match="no events"):
        Append(stream="s", events=())


#: Names no backend stores: 3,006 bytes of incompressible text (PostgreSQL compresses an
#: index key that would not fit, so a repeated character passed its 2,704-byte limit), one
#: byte over the limit, a NUL, nothing, and a lone surrogate (no UTF-8 for it).
UNSTORABLE = {
    "3006-bytes": "order-" + random.Random(7).randbytes(1_500).hex(),
    "1025-bytes": "order-" + "\u00e9" * 509 + "x",
    "nul": "order-a\x00b",
    "empty": "",
    "surrogate": "order-\ud800",
}


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> tuple[str, bool]:
    """The field the refusal names and whether its message states the limit."""
    return error.value.field, f"{MAX_NAME_BYTES} bytes" in error.value.message


@pytest.mark.parametrize("name", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_recorder_refuses_a_stream_name_it_cannot_store_before_writing_anything(
    recorder: Recorder, name: str
) -> None:
    recorder.commit([single(recorder, "order-1", make_accepted("1"))])

    with pytest.raises(ValidationError) as guarded:
        recorder.commit([append(recorder, name, make_accepted("1"))])
    with pytest.raises(ValidationError) as unguarded:
        recorder.commit(
            [
                single(recorder, "order-2", make_accepted("2")),
                single(recorder, name, make_accepted("1")),
            ]
        )

    assert refusal(guarded) == refusal(unguarded) == ("stream", True)
    assert recorder.last_position() == 1
    assert list(recorder.read_stream(name)) == []
    assert recorder.stream_version(name) == 0
    # the store keeps serving, the planner's cache included
    assert recorder.commit(
        [
            single(recorder, "order-1", make_accepted("1")),
            append(recorder, "order-2", make_accepted("2")),
        ]
    ) == [Committed(2, 2, 2), Committed(3, 3, 1)]


@pytest.mark.parametrize("key", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_recorder_refuses_an_idempotency_key_it_cannot_store_before_writing_anything(
    recorder: Recorder, key: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        recorder.commit([append(recorder, "order-1", make_accepted("1"), key=key)])

    assert refusal(refused) == ("idempotency_key", True)
    assert recorder.last_position() == 0
    assert recorder.find_key(key) is None
    assert recorder.commit([append(recorder, "order-1", make_accepted("1"), key="k")]) == [
        Committed(1, 1, 1)
    ]


def test_recorder_stores_a_stream_name_and_a_key_of_exactly_the_limit(recorder: Recorder) -> None:
    stream = "order-" + "\u00e9" * 509  # two bytes each: 1,024 bytes of UTF-8
    key = random.Random(8).randbytes(MAX_NAME_BYTES // 2).hex()

    outcomes = recorder.commit([append(recorder, stream, make_accepted("1"), key=key)])
    outcomes += recorder.commit([single(recorder, stream, make_accepted("1"))])

    assert len(stream.encode()) == len(key) == MAX_NAME_BYTES
    assert outcomes == [Committed(1, 1, 1), Committed(2, 2, 2)]
    assert recorder.find_key(key) == KeyRecord(key, stream, 1, 1)
    assert [e.version for e in recorder.read_stream(stream)] == [1, 2]


def test_recorder_two_instances_on_one_store_interleave_without_gaps(url: str) -> None:
    if url == "memory://":
        pytest.skip("in-memory stores are not shared")
    first = open_store(url)
    second = open_store(url)
    try:
        for n in range(6):
            writer = first if n % 2 == 0 else second
            outcome = writer.commit(
                [
                    append(
                        writer, "order-1", make_accepted("1", n), make_accepted("1", n), key=f"k{n}"
                    )
                ]
            )
            assert outcome == [Committed(2 * n + 1, 2 * n + 2, 2 * n + 2)]
        stale = first.commit([append(first, "order-1", make_accepted("1"), expected=10)])
        again = second.commit([append(second, "order-1", make_accepted("1"), key="k1")])

        assert stale == [Conflict("order-1", 10, 12)]
        assert again == [Duplicate(3, 4)]
        assert [e.version for e in first.read_stream("order-1")] == list(range(1, 13))
        assert first_bad_position(second.records(), 0) is None
        assert verify_log(second).sound
    finally:
        first.close()
        second.close()
